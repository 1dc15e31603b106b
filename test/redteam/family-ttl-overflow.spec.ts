import { describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { ADAPTERS, useTestApp } from '../support/app.js';
import { useRedis } from '../support/redis-server.js';
import { RotationRoutes, claims, declareStore, freshPrefix, keyTtls, refresh } from '../rotation/rotation.js';

/*
 * Fourth pass: RedisRefreshTokenStore's scripts write first and set the expiry after
 * (`HSET` then `PEXPIRE`). A lifetime the module accepts (any finite number of seconds) whose
 * milliseconds do not fit Redis's 64-bit expiry makes PEXPIRE fail after the HSET ran: a Lua script
 * is not rolled back, so the family hash stays without a TTL (issue 14: "TTL-bounded keys", "TTLs
 * present on every key the store writes"), and a rotation is left half-done (the family moved on
 * to a successor nobody received: issue 14, "no family left half-rotated").
 */

let redis: Redis;
useRedis((started) => (redis = started.redis));

const HUGE = 1e16; // seconds (about 3e8 years): accepted by the option checks and expiresDelta; 1e19 ms overflows PEXPIRE

describe.each(ADAPTERS)('RedisRefreshTokenStore with a lifetime past Redis expiry range (%s)', (adapter) => {
  const prefix = freshPrefix();
  const t = useTestApp(adapter, {
    options: { refreshTokenRotation: {}, refreshTokenExpires: HUGE },
    loaders: { refreshTokenStore: declareStore('redis', () => redis, { keyPrefix: prefix }) },
    controllers: [RotationRoutes],
  });

  it('createRefreshToken leaves no family key without a TTL, whether it succeeds or fails', async () => {
    await t.jwt.createRefreshToken('alice').catch(() => undefined);
    const ttls = await keyTtls(redis, prefix);
    for (const [key, ttl] of ttls) expect([key, ttl > 0]).toEqual([key, true]);
  });

  it('a rotation that fails (503) leaves the family as it was: the presented token is still current', async () => {
    const login = await t.jwt.createRefreshToken('bob', { expiresDelta: 60 });
    const fam = claims(login).fam as string;
    const first = await refresh(t.url, login);
    if (first.status === 200) return; // the store handled it: nothing half-done
    expect(first.status).toBe(503);
    const current = await redis.hget(`${prefix}{${fam}}:f`, 'cur');
    expect(current).toBe(claims(login).jti);
  });
});
