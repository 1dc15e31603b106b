import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Redis } from 'ioredis';
import request from 'supertest';
import type { InMemoryBlocklist, RevocationStore } from '../../lib/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { useRedis } from '../support/redis-server.js';
import {
  STORE_KINDS,
  bearer,
  declareStore,
  freshPrefix,
  newStore,
  nowSeconds,
  payload,
  revocationRoutes,
  setWallClock,
  ADAPTER_STORE_PAIRS,
} from './stores.js';

// A revoked token stays refused for as long as the decoder accepts it: until exp + decodeLeeway.
const LEEWAY = 120;

let redis: Redis;
useRedis((started) => ({ redis } = started));
afterEach(() => {
  jest.useRealTimers();
});

describe.each(ADAPTER_STORE_PAIRS)('Revocation through the decode leeway (%s, %s store)', (adapter, kind) => {
  let t: TestApp;
  let store: RevocationStore;
  const keyPrefix = freshPrefix();
  beforeAll(async () => {
    const Store = declareStore(kind, { keyPrefix }, redis);
    t = await createTestApp(adapter, {
      options: { decodeLeeway: LEEWAY },
      loaders: { blocklist: Store },
      controllers: [revocationRoutes(Store)],
    });
    store = t.app.get(Store);
  });
  afterAll(() => t.close());

  it.each([
    ['access', 30],
    ['access', LEEWAY - 5],
    ['refresh', 30],
  ])('a %s token past its exp by %is (inside the leeway) can be revoked, and is then refused', async (type, late) => {
    const token =
      type === 'access'
        ? await t.jwt.createAccessToken('bob', { expiresDelta: -late })
        : await t.jwt.createRefreshToken('bob', { expiresDelta: -late });
    const use = () => (type === 'access' ? request(t.url).get('/me') : request(t.url).post('/refresh')).set(bearer(token));
    await use().expect(200, { identity: 'bob' }); // the decoder accepts it: inside exp..exp+leeway
    await request(t.url).delete('/logout').set(bearer(token)).expect(200);
    await use().expect(401, { msg: 'Token has been revoked' });
  });

  it('a token revoked before its exp stays refused inside exp..exp+leeway', async () => {
    const token = await t.jwt.createRefreshToken('carol', { expiresDelta: -30 });
    const claims = await t.jwt.decodeToken(token);
    // revoke it while it had 10 seconds to live, by the store's clock
    setWallClock(claims.exp! - 10);
    await store.revokeToken(claims);
    jest.useRealTimers();
    if (kind === 'memory') (store as InMemoryBlocklist).sweep();
    else {
      const ttl = await redis.ttl((await redis.keys(`${keyPrefix}*:jti:${claims.jti}`))[0]);
      expect(ttl).toBeGreaterThanOrEqual(LEEWAY);
    }
    // presented inside the window, the revoked refresh token mints nothing
    await request(t.url).post('/refresh').set(bearer(token)).expect(401, { msg: 'Token has been revoked' });
  });
});

describe('Entries leave once the decoder refuses their token (in-memory store)', () => {
  it('kept through exp + leeway, dropped by the sweep after it', async () => {
    const start = nowSeconds();
    setWallClock(start);
    const store = newStore('memory', { decodeLeeway: LEEWAY }) as InMemoryBlocklist;
    const exp = start + 60;
    await store.revokeToken({ jti: 'a', sub: 'bob', exp });
    for (const at of [exp - 1, exp + 1, exp + LEEWAY - 1]) {
      setWallClock(at);
      store.sweep();
      expect(store.size).toBe(1);
      expect(store.isTokenRevoked({}, payload({ jti: 'a', sub: 'bob', exp }))).toBe(true);
    }
    setWallClock(exp + LEEWAY + 1);
    expect(store.isTokenRevoked({}, payload({ jti: 'a', sub: 'bob', exp }))).toBe(false);
    setWallClock(exp + LEEWAY + 61); // the sweep drops whole 60-second buckets
    store.sweep();
    expect(store.size).toBe(0);
    store.onModuleDestroy();
  });
});

describe.each(STORE_KINDS)('Without leeway (%s store)', (kind) => {
  it('revoking a token past its exp stores nothing: the decoder refuses it already', async () => {
    const keyPrefix = freshPrefix();
    const store = newStore(kind, { keyPrefix }, redis);
    await store.revokeToken({ jti: 'late', sub: 'bob', exp: nowSeconds() - 1 });
    if (kind === 'memory') {
      expect((store as InMemoryBlocklist).size).toBe(0);
      (store as InMemoryBlocklist).onModuleDestroy();
    } else {
      expect(await redis.keys(`${keyPrefix}*`)).toEqual([]);
    }
  });
});
