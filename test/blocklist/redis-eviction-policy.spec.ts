import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import request from 'supertest';
import { JwtUnavailableException } from '../../lib/index.js';
import { RedisBlocklist } from '../../lib/blocklist/redis/index.js';
import { ADAPTERS, createTestApp, type TestApp } from '../support/app.js';
import { RedisServer } from '../support/redis-server.js';
import { bearer, declareStore, freshPrefix, handlerRuns, nowSeconds, payload, revocationRoutes } from './stores.js';

// A Redis that may evict keys may silently forget a revocation: such a Redis never answers "not revoked".
const UNAVAILABLE = { error: 'Token revocation store unavailable' };

const token = (jti: string) => payload({ jti, sub: 'alice', iat: nowSeconds() - 5, exp: nowSeconds() + 600 });

async function startRedis(args: string[]): Promise<{ server: RedisServer; redis: Redis }> {
  const server = await RedisServer.start(args);
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  await new Promise((resolve) => redis.once('ready', resolve));
  return { server, redis };
}

describe.each(ADAPTERS)('RedisBlocklist on a Redis with an evicting maxmemory-policy, through a real app (%s)', (adapter) => {
  let server: RedisServer;
  let redis: Redis;
  let t: TestApp;

  beforeAll(async () => {
    ({ server, redis } = await startRedis(['--maxmemory-policy', 'allkeys-lru']));
    const Store = declareStore('redis', { keyPrefix: freshPrefix(), localCache: { maxEntries: 100 } }, redis);
    t = await createTestApp(adapter, {
      options: { errorMessageKey: 'error' },
      loaders: { blocklist: Store },
      controllers: [revocationRoutes(Store)],
    });
  });
  afterAll(async () => {
    await t?.close();
    redis.disconnect();
    await server.stop();
  });

  it('refuses tokens not found revoked with 503 (also on repeated checks: never from the local cache), and accepts them once the policy is noeviction', async () => {
    const access = await t.jwt.createAccessToken('alice');
    const before = handlerRuns.count;
    for (let i = 0; i < 3; i++) await request(t.url).get('/me').set(bearer(access)).expect(503, UNAVAILABLE);
    expect(handlerRuns.count).toBe(before);
    await redis.config('SET', 'maxmemory-policy', 'noeviction');
    try {
      await request(t.url).get('/me').set(bearer(access)).expect(200, { identity: 'alice' });
    } finally {
      await redis.config('SET', 'maxmemory-policy', 'allkeys-lru');
    }
  });
});

describe('RedisBlocklist reads the eviction policy', () => {
  it('a revocation found is answered "revoked" even on an evicting Redis; "not revoked" is refused with 503', async () => {
    const { server, redis } = await startRedis(['--maxmemory-policy', 'volatile-ttl']);
    try {
      const store = new RedisBlocklist(redis, { keyPrefix: freshPrefix() });
      const revoked = token('r-1');
      await store.revokeToken(revoked);
      expect(await store.isTokenRevoked({}, revoked)).toBe(true);
      await expect(store.isTokenRevoked({}, token('r-2'))).rejects.toBeInstanceOf(JwtUnavailableException);
    } finally {
      redis.disconnect();
      await server.stop();
    }
  });

  it.each([
    ['volatile-lfu', false],
    ['noeviction', true],
  ])('from INFO memory where CONFIG is disabled (%s)', async (policy, answered) => {
    const { server, redis } = await startRedis(['--maxmemory-policy', policy, '--rename-command', 'CONFIG', '']);
    try {
      const check = new RedisBlocklist(redis, { keyPrefix: freshPrefix() }).isTokenRevoked({}, token('i-1'));
      if (answered) expect(await check).toBe(false);
      else await expect(check).rejects.toBeInstanceOf(JwtUnavailableException);
    } finally {
      redis.disconnect();
      await server.stop();
    }
  });
});
