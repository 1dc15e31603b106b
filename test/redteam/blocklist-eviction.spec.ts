import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { RedisBlocklist } from '../../lib/blocklist/redis/index.js';
import { RedisServer } from '../support/redis-server.js';
import { nowSeconds, payload } from '../blocklist/stores.js';

/*
 * Fourth pass: a revocation in RedisBlocklist is a key with a TTL, which every `allkeys-*` and
 * `volatile-*` maxmemory policy may evict: under memory pressure Redis silently forgets it and the
 * revoked token is accepted again (fails open; nothing is logged, no 503). Redis used as a cache,
 * the common setup for a shared Redis, has such a policy. Plain security sense (and §12/§17's
 * fail-closed stance): a store that loses revocations must refuse to run on that Redis (or at least
 * say so at start-up), not answer "not revoked". The refresh-token store fails closed here (an
 * evicted family is unknown, so refused); the blocklist does not.
 */

describe('RedisBlocklist on a Redis that evicts keys (maxmemory-policy volatile-lru)', () => {
  let server: RedisServer;
  let redis: Redis;
  beforeAll(async () => {
    server = await RedisServer.start(['--maxmemory', '4mb', '--maxmemory-policy', 'volatile-lru']);
    redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    await new Promise((resolve) => redis.once('ready', resolve));
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  it('a revoked token is never answered "not revoked": the revocation survives memory pressure, or the store refuses', async () => {
    const store = new RedisBlocklist(redis, { keyPrefix: 'evict:' });
    const token = payload({ jti: 'stolen', sub: 'alice', iat: nowSeconds() - 5, exp: nowSeconds() + 600 });
    await store.revokeToken(token);
    expect(await store.isTokenRevoked({}, token)).toBe(true);
    // Other data of the app fills memory.
    const blob = 'x'.repeat(10_000);
    // volatile-lru evicts only keys with a TTL: the revocation is the one candidate. Writes fail (OOM) once none is left.
    for (let i = 0; i < 1000; i++)
      if (
        !(await redis.set(`cache:${i}`, blob).then(
          () => true,
          () => false,
        ))
      )
        break;
    const answer = await Promise.resolve(store.isTokenRevoked({}, token)).then(
      (revoked) => revoked,
      () => 'refused',
    );
    expect(answer === true || answer === 'refused').toBe(true);
  });
});
