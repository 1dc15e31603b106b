import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Redis } from 'ioredis';
import request from 'supertest';
import type { InMemoryBlocklist, RevocationStore } from '../../lib/index.js';
import { ADAPTERS, SECRET, createTestApp, type TestApp } from '../support/app.js';
import { useRedis } from '../support/redis-server.js';
import { forgeHmac } from '../support/forge.js';
import { STORE_KINDS, bearer, declareStore, freshPrefix, newStore, nowSeconds, payload, revocationRoutes, setWallClock } from './stores.js';

// Tokens stamped ahead of this instance's clock (inside decodeLeeway) and user-wide cut-offs.
const LEEWAY = 5;

let redis: Redis;
useRedis((started) => ({ redis } = started));
afterEach(() => {
  jest.useRealTimers();
});

describe.each(STORE_KINDS)('revokeAllForUser with decodeLeeway (%s store)', (kind) => {
  it('refuses every iat the decoder accepted before the call (up to now + leeway), and accepts iats past that window', async () => {
    const store = newStore(kind, { decodeLeeway: LEEWAY }, redis);
    const before = nowSeconds();
    await store.revokeAllForUser('bob');
    const after = nowSeconds();
    expect(after).toBeGreaterThan(before);
    const revoked = (iat: number) => store.isTokenRevoked({}, payload({ sub: 'bob', iat }));
    expect(await revoked(before)).toBe(true);
    expect(await revoked(before + LEEWAY)).toBe(true); // stamped by an instance LEEWAY s ahead, before the call
    expect(await revoked(after + LEEWAY)).toBe(false); // the leeway after the call resolved has passed
    if (kind === 'memory') (store as InMemoryBlocklist).onModuleDestroy();
  });
});

describe.each(ADAPTERS)('Log-out-everywhere in the module with decodeLeeway (%s, redis store)', (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    const Store = declareStore('redis', { keyPrefix: freshPrefix() }, redis);
    t = await createTestApp(adapter, {
      options: { decodeLeeway: LEEWAY },
      loaders: { blocklist: Store },
      controllers: [revocationRoutes(Store)],
    });
  });
  afterAll(() => t.close());

  it('a session stamped at the edge of the leeway before the call is refused', async () => {
    const issued = nowSeconds();
    const ahead = forgeHmac(
      { alg: 'HS256', typ: 'JWT' },
      { sub: 'erin', iat: issued + LEEWAY, exp: issued + 3600, jti: 'edge', type: 'access', fresh: false },
      SECRET,
    );
    await request(t.url).get('/me').set(bearer(ahead)).expect(200, { identity: 'erin' });
    await request(t.url).delete('/logout-everywhere').set(bearer(ahead)).expect(200);
    await request(t.url).get('/me').set(bearer(ahead)).expect(401, { msg: 'Token has been revoked' });
  });
});

describe('A collapse covers entries stamped beyond now + leeway (in-memory store)', () => {
  it('entries revoked before the wall clock stepped back stay refused when their identity collapses', async () => {
    const store = newStore('memory', { maxEntriesPerIdentity: 2 }) as InMemoryBlocklist;
    const issued = nowSeconds();
    await store.revokeToken({ jti: 'before-step', sub: 'gus', iat: issued, exp: issued + 3600 });
    setWallClock(issued - 120); // NTP steps the clock back two minutes
    await store.revokeToken({ jti: 'after-1', sub: 'gus', iat: issued - 120, exp: issued + 3600 });
    await store.revokeToken({ jti: 'after-2', sub: 'gus', iat: issued - 119, exp: issued + 3600 }); // collapses gus
    expect(store.size).toBe(0);
    for (const [jti, iat] of [
      ['before-step', issued],
      ['after-1', issued - 120],
      ['after-2', issued - 119],
    ] as const) {
      expect(store.isTokenRevoked({}, payload({ sub: 'gus', jti, iat }))).toBe(true);
    }
    store.onModuleDestroy();
  });
});

describe.each([undefined, 3600])('Two revokeAllForUser calls from clocks 30 s apart (redis store, userRevocationTtl %p)', (ttl) => {
  it('keep the later cut-off, with the TTL rule unchanged', async () => {
    const prefix = freshPrefix();
    const store: RevocationStore = newStore('redis', { keyPrefix: prefix, userRevocationTtl: ttl }, redis);
    await store.revokeAllForUser('hal');
    const key = `${prefix}{"hal"}:user`;
    const first = await redis.get(key);
    setWallClock(nowSeconds() - 30);
    await store.revokeAllForUser('hal');
    expect(await redis.get(key)).toBe(first);
    const left = await redis.ttl(key);
    if (ttl === undefined) expect(left).toBe(-1);
    else expect(left).toBeGreaterThan(ttl - 10);
  });
});
