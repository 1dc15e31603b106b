import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Redis } from 'ioredis';
import request from 'supertest';
import type { RevocationStore } from '../../lib/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { useRedis } from '../support/redis-server.js';
import { bearer, declareStore, freshPrefix, nowSeconds, revocationRoutes, setWallClock, ADAPTER_STORE_PAIRS } from '../blocklist/stores.js';

/*
 * Finding (medium, RedisBlocklist): a later revokeAllForUser can shorten an earlier one. The store
 * SETs the user's cut-off, overwriting the one in Redis; when the later call comes from an instance
 * whose clock is behind (the skew decodeLeeway exists for; the RedisBlocklist is the multi-instance
 * store), its cut-off is earlier and every token between the two cut-offs — revoked by the first
 * call — is accepted again. InMemoryBlocklist keeps the max of both cut-offs and holds.
 * §7 "A revoked token stays refused for as long as the decoder would accept it"; §17 stores.
 * Likely fix (lib/blocklist/redis/redis-blocklist.ts revokeAllForUser): keep the larger cut-off
 * (a small Lua script or SET … GET + compare, one key so still one slot), TTL the larger too.
 * The test moves this process's wall clock back 30 s to play the lagging instance.
 */

let redis: Redis;
useRedis((started) => ({ redis } = started));
afterEach(() => {
  jest.useRealTimers();
});

describe.each(ADAPTER_STORE_PAIRS)(
  'two revokeAllForUser calls from instances whose clocks differ by 30 s (%s, %s store)',
  (adapter, kind) => {
    let t: TestApp;
    let store: RevocationStore;
    beforeAll(async () => {
      const Store = declareStore(kind, { keyPrefix: freshPrefix() }, redis);
      t = await createTestApp(adapter, {
        options: { decodeLeeway: 60 },
        loaders: { blocklist: Store },
        controllers: [revocationRoutes(Store)],
      });
      store = t.app.get(Store);
    });
    afterAll(() => t.close());

    it('the token the first call revoked stays refused after the second', async () => {
      const identity = `frank-${kind}`;
      const revoked = await t.jwt.createAccessToken(identity);
      await request(t.url).delete('/logout-everywhere').set(bearer(revoked)).expect(200);
      await request(t.url).get('/me').set(bearer(revoked)).expect(401, { msg: 'Token has been revoked' });

      // The second "log out everywhere" comes from an instance 30 s behind.
      setWallClock(nowSeconds() - 30);
      await store.revokeAllForUser(identity);

      const res = await request(t.url).get('/me').set(bearer(revoked));
      expect({ status: res.status, body: res.body }).toEqual({ status: 401, body: { msg: 'Token has been revoked' } });
    });
  },
);
