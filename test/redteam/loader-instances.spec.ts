import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Module, type Type } from '@nestjs/common';
import { Redis } from 'ioredis';
import request from 'supertest';
import { createTestApp, startupError, type TestApp } from '../support/app.js';
import { useRedis } from '../support/redis-server.js';
import { bearer, declareStore, freshPrefix, revocationRoutes, ADAPTER_STORE_PAIRS } from '../blocklist/stores.js';

/*
 * Finding: a blocklist class that the application also lists in its own module's `providers`
 * (the usual way to inject a service into a controller) got a second instance. The app's
 * logout route revoked through its instance; the guard asked the module's instance. With
 * InMemoryBlocklist the revocation was never seen; with RedisBlocklist the app's instance
 * never received the module's configuration (decodeLeeway), so a token inside the leeway was
 * not revoked at all. §16: "a loader class that the application already provides elsewhere is
 * used as that instance". The library cannot adopt an instance that a module it does not
 * import builds, so it refuses to start with that second instance and says how to share one:
 * inject the library's instance (it exports the loaders it creates, and JWT_BLOCKLIST), or
 * provide the class once in a module listed in forRoot({ imports }).
 */

let redis: Redis;
useRedis((started) => ({ redis } = started));

/** The start-up error for a blocklist `Store` that `second` provides besides the library's own. */
const secondBlocklist = (second: string) =>
  new TypeError(
    `JwtExtendedModule: loader Revocations (loaders.blocklist) is provided a second time by ${second}: ` +
      'a second instance, apart from the one the library uses (from JwtExtendedModule). ' +
      `Remove it from ${second}'s providers and inject the one from JwtExtendedModule (or JWT_BLOCKLIST), ` +
      'or provide it once, in a module that exports it, and list that module in forRoot({ imports })',
  );

const CASES = ADAPTER_STORE_PAIRS;

describe.each(CASES)('a blocklist the app also provides itself (%s, %s store)', (adapter, kind) => {
  it('in its root module: start-up fails naming the class and the module, instead of a second instance', async () => {
    const Store = declareStore(kind, { keyPrefix: freshPrefix() }, redis);
    expect(
      await startupError(adapter, {
        loaders: { blocklist: Store },
        providers: [Store],
        controllers: [revocationRoutes(Store)],
      }),
    ).toEqual(secondBlocklist('RootTestModule'));
  });

  it('in a feature module: start-up fails naming that module', async () => {
    const Store = declareStore(kind, { keyPrefix: freshPrefix() }, redis);
    @Module({ providers: [Store], controllers: [revocationRoutes(Store)] })
    class AccountModule {}
    expect(await startupError(adapter, { loaders: { blocklist: Store }, imports: [AccountModule] })).toEqual(
      secondBlocklist('AccountModule'),
    );
  });

  it('under another token (useClass): still a second instance, refused', async () => {
    const Store = declareStore(kind, { keyPrefix: freshPrefix() }, redis);
    expect(
      await startupError(adapter, {
        loaders: { blocklist: Store },
        imports: [{ module: class OtherStoreModule {}, providers: [{ provide: 'OTHER_STORE', useClass: Store }] }],
      }),
    ).toEqual(secondBlocklist('OtherStoreModule'));
  });
});

describe.each(CASES)('the fix the error names: inject the library’s instance (%s, %s store)', (adapter, kind) => {
  let t: TestApp;
  let Store: Type;
  beforeAll(async () => {
    Store = declareStore(kind, { keyPrefix: freshPrefix() }, redis);
    t = await createTestApp(adapter, {
      options: { decodeLeeway: 120 },
      loaders: { blocklist: Store },
      // Not in the app's providers: the controller injects the instance the module exports.
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
});
