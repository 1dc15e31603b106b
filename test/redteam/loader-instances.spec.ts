import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import request from 'supertest';
import { ADAPTERS, createTestApp, type TestApp } from '../support/app.js';
import { RedisServer } from '../support/redis-server.js';
import { STORE_KINDS, bearer, declareStore, freshPrefix, revocationRoutes } from '../blocklist/stores.js';

/*
 * Finding: a blocklist class that the application also lists in its own module's `providers`
 * (the usual way to inject a service into a controller) gets a second instance. The app's
 * logout route revokes through its instance; the guard asks the module's instance. §16: "a
 * loader class that the application already provides elsewhere is used as that instance".
 * With InMemoryBlocklist the revocation is never seen; with RedisBlocklist the app's instance
 * never received the module's configuration (decodeLeeway), so a token inside the leeway is
 * not revoked at all.
 */

let server: RedisServer;
let redis: Redis;

beforeAll(async () => {
  server = await RedisServer.start();
  redis = new Redis(server.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  await new Promise((resolve) => redis.once('ready', resolve));
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

describe.each(ADAPTERS.flatMap((adapter) => STORE_KINDS.map((kind) => [adapter, kind] as const)))(
  'a blocklist the app also provides itself (%s, %s store)',
  (adapter, kind) => {
    let t: TestApp;
    beforeAll(async () => {
      const Store = declareStore(kind, { keyPrefix: freshPrefix() }, redis);
      t = await createTestApp(adapter, {
        options: { decodeLeeway: 120 },
        loaders: { blocklist: Store },
        // The app declares the store in its own module too, to inject it into its controller.
        providers: [Store],
        controllers: [revocationRoutes(Store)],
      });
    });
    afterAll(() => t.close());

    it('a token revoked through the injected store is refused by the guard', async () => {
      // Past its exp by 30 s: inside decodeLeeway, so the decoder still accepts it.
      const token = await t.jwt.createAccessToken(`shared-${kind}`, { expiresDelta: -30 });
      await request(t.url).get('/me').set(bearer(token)).expect(200);
      await request(t.url).delete('/logout').set(bearer(token)).expect(200);
      const res = await request(t.url).get('/me').set(bearer(token));
      expect({ status: res.status, body: res.body }).toEqual({ status: 401, body: { msg: 'Token has been revoked' } });
    });
  },
);
