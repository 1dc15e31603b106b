import { describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { JwtExtendedConfigError } from '../../lib/index.js';
import { RedisRefreshTokenStore, type RedisRefreshTokenStoreClient } from '../../lib/blocklist/redis/index.js';
import { ADAPTERS, SECRET, startupError, useTestApp } from '../support/app.js';
import { useRedis } from '../support/redis-server.js';
import { RotationRoutes, declareStore, freshPrefix, keyTtls } from '../rotation/rotation.js';

/*
 * Fourth pass: RedisRefreshTokenStore's scripts write first and set the expiry after
 * (`HSET` then `PEXPIRE`). A lifetime the module accepts (any finite number of seconds) whose
 * milliseconds do not fit Redis's 64-bit expiry makes PEXPIRE fail after the HSET ran: a Lua script
 * is not rolled back, so the family hash stays without a TTL (issue 14: "TTL-bounded keys", "TTLs
 * present on every key the store writes"), and a rotation is left half-done (the family moved on
 * to a successor nobody received: issue 14, "no family left half-rotated").
 *
 * The fix refuses such lifetimes: at start-up (so the probe's app with refreshTokenExpires: 1e16
 * no longer starts, and is asserted as a start-up error), per call (expiresDelta, an exp claim),
 * and in the store itself before anything is written.
 */

let redis: Redis;
useRedis((started) => (redis = started.redis));

const HUGE = 1e16; // seconds (about 3e8 years); 1e19 ms overflows PEXPIRE
const now = () => Math.floor(Date.now() / 1000);

describe.each(ADAPTERS)('RedisRefreshTokenStore with a lifetime past Redis expiry range (%s)', (adapter) => {
  it.each(['refreshTokenExpires', 'accessTokenExpires'])('start-up refuses %s past 100 years while rotating', async (option) => {
    const prefix = freshPrefix();
    const error = await startupError(adapter, {
      options: { secretKey: SECRET, refreshTokenRotation: {}, [option]: HUGE },
      loaders: { refreshTokenStore: declareStore('redis', () => redis, { keyPrefix: prefix }) },
    });
    expect(error).toBeInstanceOf(JwtExtendedConfigError);
    expect((error as JwtExtendedConfigError).option).toBe('refreshTokenRotation');
    expect((error as Error).message).toMatch(/at most 3153600000 seconds/);
  });

  const prefix = freshPrefix();
  const t = useTestApp(adapter, {
    options: { refreshTokenRotation: {} },
    loaders: { refreshTokenStore: declareStore('redis', () => redis, { keyPrefix: prefix }) },
    controllers: [RotationRoutes],
  });

  it('createRefreshToken refuses such an expiresDelta or exp claim and writes no family', async () => {
    await expect(t.jwt.createRefreshToken('alice', { expiresDelta: HUGE })).rejects.toThrow(/at most 3153600000 seconds.*expiresDelta/);
    await expect(t.jwt.createRefreshToken('alice', { additionalClaims: { exp: now() + HUGE } })).rejects.toThrow(TypeError);
    expect([...(await keyTtls(redis, prefix)).keys()]).toEqual([]);
    await t.jwt.createRefreshToken('alice', { expiresDelta: 60 }); // a sane lifetime still works
    const ttls = await keyTtls(redis, prefix);
    expect(ttls.size).toBe(1);
    for (const [key, ttl] of ttls) expect([key, ttl > 0]).toEqual([key, true]);
  });
});

describe('RedisRefreshTokenStore called with an expiry past Redis range', () => {
  it('refuses it before writing: no key without TTL, no family half-rotated', async () => {
    const prefix = freshPrefix();
    const store = new RedisRefreshTokenStore(redis, { keyPrefix: prefix });
    await expect(store.startFamily('unborn', 'j0', now() + HUGE)).rejects.toThrow(TypeError);
    expect([...(await keyTtls(redis, prefix)).keys()]).toEqual([]);

    await store.startFamily('fam', 'j1', now() + 60);
    const rotation = { family: 'fam', presented: 'j1', next: { jti: 'j2', token: 't2' }, reuseInterval: 5, expiresAt: now() + HUGE };
    await expect(store.rotate(rotation)).rejects.toThrow(TypeError);
    expect(await redis.hget(`${prefix}{fam}:f`, 'cur')).toBe('j1');
    const ttls = await keyTtls(redis, prefix);
    expect([...ttls.keys()]).toEqual([`${prefix}{fam}:f`]);
    for (const [key, ttl] of ttls) expect([key, ttl > 0]).toEqual([key, true]);
    expect(await store.rotate({ ...rotation, expiresAt: now() + 60 })).toEqual({ outcome: 'rotated' });
  });
});

describe('the Redis scripts check their millisecond arguments before any write', () => {
  /** The real Redis, with the store's last script argument (milliseconds to keep the family) replaced: what the JS checks would stop. */
  function tampered(keep: string): RedisRefreshTokenStoreClient {
    const evalScript = (script: string, keys: number, ...args: string[]) => redis.eval(script, keys, ...args.slice(0, -1), keep);
    return { eval: evalScript, hmget: redis.hmget.bind(redis) } as unknown as RedisRefreshTokenStoreClient;
  }

  it.each(['10000000000000000000', '-1', '1.5', 'soon'])('keep = %s: start and rotate fail (503) and write nothing', async (keep) => {
    const prefix = freshPrefix();
    const honest = new RedisRefreshTokenStore(redis, { keyPrefix: prefix });
    const bad = new RedisRefreshTokenStore(tampered(keep), { keyPrefix: prefix });
    await expect(bad.startFamily('unborn', 'j0', now() + 60)).rejects.toMatchObject({ status: 503 });
    expect([...(await keyTtls(redis, prefix)).keys()]).toEqual([]);

    await honest.startFamily('fam', 'j1', now() + 60);
    const rotation = { family: 'fam', presented: 'j1', next: { jti: 'j2', token: 't2' }, reuseInterval: 5, expiresAt: now() + 60 };
    await expect(bad.rotate(rotation)).rejects.toMatchObject({ status: 503 });
    expect(await redis.hget(`${prefix}{fam}:f`, 'cur')).toBe('j1');
    const ttls = await keyTtls(redis, prefix);
    expect([...ttls.keys()]).toEqual([`${prefix}{fam}:f`]);
    for (const [key, ttl] of ttls) expect([key, ttl > 0]).toEqual([key, true]);
  });
});
