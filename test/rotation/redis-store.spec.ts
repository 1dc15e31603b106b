import { Injectable } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import request from 'supertest';
import { type FamilyRotation, JwtUnavailableException, type RotationOutcome } from '../../lib/index.js';
import { RedisRefreshTokenStore } from '../../lib/blocklist/redis/index.js';
import { ADAPTERS, type TestApp, createTestApp, useTestApp } from '../support/app.js';
import { bearer } from '../support/http.js';
import { RedisServer, useRedis } from '../support/redis-server.js';
import { REVOKED, ReuseRecorder, RotationRoutes, type Rotated, claims, declareStore, freshPrefix, keyTtls, refresh } from './rotation.js';

const UNAVAILABLE = { msg: 'Refresh token store unavailable' };
const told = (family: unknown) => ReuseRecorder.told.filter((payload) => payload.fam === family);

async function waitFor(check: () => Promise<boolean>, attempts = 50): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('condition not met');
}

describe('RedisRefreshTokenStore shared by two app instances', () => {
  let server: RedisServer;
  useRedis((started) => (server = started.server));
  // One client per instance: two connections, as two processes would have.
  const clients: Redis[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const client = new Redis(server.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
      await new Promise((resolve) => client.once('ready', resolve));
      clients.push(client);
    }
  });
  afterAll(() => clients.forEach((client) => client.disconnect()));

  describe.each(ADAPTERS)('%s', (adapter) => {
    for (const reuseInterval of [0, 60]) {
      describe(`reuseInterval ${reuseInterval}`, () => {
        // Two instances, each with its own store instance and client, over one Redis and one key prefix.
        const keyPrefix = freshPrefix();
        const instance = (index: number) => {
          const loaders = {
            refreshTokenStore: declareStore('redis', () => clients[index], { keyPrefix }),
            refreshTokenReuse: ReuseRecorder,
          };
          return useTestApp(adapter, { options: { refreshTokenRotation: { reuseInterval } }, loaders, controllers: [RotationRoutes] });
        };
        const a = instance(0);
        const b = instance(1);

        it('a rotation chain alternating between the instances', async () => {
          let current = await a.jwt.createRefreshToken('ann');
          for (let i = 0; i < 20; i++) {
            const rotated = (await refresh((i % 2 ? a : b).url, current).expect(200)).body as Rotated;
            await request((i % 2 ? b : a).url)
              .get('/me')
              .set(bearer(rotated.accessToken))
              .expect(200);
            current = rotated.refreshToken;
          }
        });

        it('50 concurrent rotations of one token spread over both instances', async () => {
          const token = await b.jwt.createRefreshToken('bea');
          const family = claims(token).fam;
          const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => refresh((i % 2 ? a : b).url, token)));
          const won = responses.filter((response) => response.status === 200);
          if (reuseInterval === 0) {
            // Exactly one consumes the token; the family is then revoked by the first reuse, on whichever instance.
            expect(won).toHaveLength(1);
            for (const response of responses.filter((r) => r.status !== 200))
              expect(response).toMatchObject({ status: 401, body: REVOKED });
            expect(told(family)).toHaveLength(1);
            const winner = won[0].body as Rotated;
            for (const app of [a, b]) {
              await refresh(app.url, winner.refreshToken).expect(401, REVOKED);
              await request(app.url).get('/me').set(bearer(winner.accessToken)).expect(401, REVOKED);
            }
          } else {
            expect(won).toHaveLength(50);
            const successors = new Set(won.map((response) => (response.body as Rotated).refreshToken));
            expect(successors.size).toBe(1);
            expect(told(family)).toHaveLength(0);
            await refresh(a.url, [...successors][0]).expect(200);
          }
        });
      });
    }
  });
});

describe('RedisRefreshTokenStore keys', () => {
  let redis: Redis;
  useRedis((started) => (redis = started.redis));
  const keyPrefix = freshPrefix();
  const lifetime = 3600;
  const leeway = 5;
  const t = useTestApp('express', {
    options: { refreshTokenRotation: { reuseInterval: 30 }, refreshTokenExpires: lifetime, decodeLeeway: leeway },
    loaders: { refreshTokenStore: declareStore('redis', () => redis, { keyPrefix }) },
    controllers: [RotationRoutes],
  });

  it('every key written has an expiry: families as long as their latest token plus the leeway, reissue keys the reuse interval', async () => {
    // A family just started, one rotated (with a reissue key), one reissued, one revoked by reuse, one logged out.
    await t.jwt.createRefreshToken('u1');
    await refresh(t.url, await t.jwt.createRefreshToken('u2')).expect(200);
    const third = await t.jwt.createRefreshToken('u3');
    await refresh(t.url, third).expect(200);
    await refresh(t.url, third).expect(200);
    const fourth = await t.jwt.createRefreshToken('u4');
    const next = ((await refresh(t.url, fourth).expect(200)).body as Rotated).refreshToken;
    await refresh(t.url, next).expect(200);
    await refresh(t.url, fourth).expect(401, REVOKED);
    const fifth = ((await refresh(t.url, await t.jwt.createRefreshToken('u5')).expect(200)).body as Rotated).accessToken;
    await request(t.url).post('/logout').set(bearer(fifth)).expect(200);
    // Revoking a family nobody knows writes nothing.
    await t.jwt.revokeRefreshFamily('unknown-family');

    const ttls = await keyTtls(redis, keyPrefix);
    const families = [...ttls].filter(([key]) => key.endsWith(':f'));
    const reissues = [...ttls].filter(([key]) => key.endsWith(':r'));
    expect(families).toHaveLength(5);
    expect(reissues).toHaveLength(2); // u2 and u3 (u4 and u5: deleted with the revocation)
    expect(ttls.size).toBe(7);
    for (const [, ttl] of families) {
      expect(ttl).toBeGreaterThan((lifetime - 60) * 1000);
      expect(ttl).toBeLessThanOrEqual((lifetime + leeway) * 1000);
    }
    for (const [, ttl] of reissues) {
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(30_000);
    }
    // One family = one hash tag: both keys in one slot.
    for (const [key] of reissues) expect(ttls.has(key.replace(/:r$/, ':f'))).toBe(true);
    expect([...ttls.keys()].every((key) => /^rt\d+:\{[0-9a-f-]{36}\}:[fr]$/.test(key))).toBe(true);
  });
});

describe('RedisRefreshTokenStore options', () => {
  let redis: Redis;
  useRedis((started) => (redis = started.redis));

  it.each([
    ['no client', () => new RedisRefreshTokenStore(undefined as never), /needs an ioredis client/],
    ['a keyPrefix with a brace', () => new RedisRefreshTokenStore(redis, { keyPrefix: 'a{b' }), /keyPrefix/],
    ['a timeout of 0', () => new RedisRefreshTokenStore(redis, { timeout: 0 }), /timeout/],
    ['an infinite timeout', () => new RedisRefreshTokenStore(redis, { timeout: Number.POSITIVE_INFINITY }), /timeout/],
    ['a timeout past a timer', () => new RedisRefreshTokenStore(redis, { timeout: 2 ** 31 }), /timeout/],
    ...[-1, 1.5, 17, Number.NaN, '1'].map(
      (waitForReplicas) =>
        [
          `waitForReplicas ${JSON.stringify(waitForReplicas)}`,
          () => new RedisRefreshTokenStore(redis, { waitForReplicas } as { waitForReplicas: number }),
          /waitForReplicas must be an integer from 0 to 16/,
        ] as const,
    ),
    [
      'waitForReplicas with a client without pipeline()',
      () => new RedisRefreshTokenStore({ eval: redis.eval.bind(redis), hmget: redis.hmget.bind(redis) }, { waitForReplicas: 1 }),
      /waitForReplicas needs an ioredis client with pipeline\(\)/,
    ],
  ])('refuses %s with a TypeError', (_name, build, message) => {
    expect(build).toThrow(TypeError);
    expect(build).toThrow(message);
  });

  it('waitForReplicas without a replica to acknowledge: every write rejects with 503, though it reached the master', async () => {
    const store = new RedisRefreshTokenStore(redis, { keyPrefix: 'unreplicated:', waitForReplicas: 1, timeout: 200 });
    const expiresAt = Math.floor(Date.now() / 1000) + 120;
    const unavailable = (write: Promise<unknown>) =>
      write.then(
        () => undefined,
        (error: unknown) => (error as { getStatus?: () => number }).getStatus?.(),
      );
    expect(await unavailable(store.startFamily('fam', 'j1', expiresAt))).toBe(503);
    expect(await store.checkFamilyToken({ family: 'fam', jti: 'j1', type: 'access' })).toBe('active');
    const rotation = { family: 'fam', presented: 'j1', next: { jti: 'j2', token: 't2' }, reuseInterval: 0, expiresAt };
    expect(await unavailable(store.rotate(rotation))).toBe(503);
    expect(await redis.hget('unreplicated:{fam}:f', 'cur')).toBe('j2');
    expect(await unavailable(store.revokeFamily('fam'))).toBe(503);
    expect(await store.checkFamilyToken({ family: 'fam', jti: 'j2', type: 'access' })).toBe('revoked');
    // with waitForReplicas 0 (the default) the same writes resolve
    await new RedisRefreshTokenStore(redis, { keyPrefix: 'unreplicated:', waitForReplicas: 0 }).startFamily('other', 'j1', expiresAt);
  });
});

describe.each(ADAPTERS)('RedisRefreshTokenStore failing closed (%s)', (adapter) => {
  let server: RedisServer;
  let redis: Redis;
  let dir: string;
  let t: TestApp;
  let beforeRotate: (() => Promise<void>) | undefined;

  /** The Redis store, plus a hook that runs just before a rotation reaches Redis (to stop Redis mid-rotation). */
  @Injectable()
  class Families extends RedisRefreshTokenStore {
    constructor() {
      super(redis, { keyPrefix: 'fail:', timeout: 300 });
    }
    override async rotate(rotation: FamilyRotation): Promise<RotationOutcome> {
      const hook = beforeRotate;
      beforeRotate = undefined;
      const sleeping = hook?.();
      const outcome = super.rotate(rotation);
      await sleeping;
      return outcome;
    }
  }

  beforeAll(async () => {
    // Persistence on (AOF, fsync on every write): what Redis held survives a kill.
    dir = await mkdtemp(join(tmpdir(), 'jwt-rotation-aof-'));
    server = await RedisServer.start(['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always']);
    redis = new Redis(server.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
    await new Promise((resolve) => redis.once('ready', resolve));
    t = await createTestApp(adapter, {
      options: { refreshTokenRotation: {} },
      loaders: { refreshTokenStore: Families },
      controllers: [RotationRoutes],
    });
  });
  afterAll(async () => {
    await t.close();
    redis.disconnect();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("while Redis is slow: rotation, the guard's family check and createRefreshToken answer 503", async () => {
    const token = await t.jwt.createRefreshToken('slow');
    const access = ((await refresh(t.url, token).expect(200)).body as Rotated).accessToken;
    const blocker = new Redis(server.url);
    try {
      const sleeping = blocker.call('DEBUG', 'SLEEP', '1');
      await new Promise((resolve) => setTimeout(resolve, 50));
      await request(t.url).get('/me').set(bearer(access)).expect(503, UNAVAILABLE);
      const error = await t.jwt.createRefreshToken('slow').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JwtUnavailableException);
      await sleeping;
    } finally {
      blocker.disconnect();
    }
    await request(t.url).get('/me').set(bearer(access)).expect(200);
  });

  it('Redis killed mid-rotation: 503, and after a restart with persistence the family is exactly as before that rotation', async () => {
    const first = await t.jwt.createRefreshToken('killed');
    const family = claims(first).fam as string;
    const rotated = (await refresh(t.url, first).expect(200)).body as Rotated;
    const before = await redis.hgetall(`fail:{${family}}:f`);
    expect(before).toEqual({ cur: claims(rotated.refreshToken).jti, prev: claims(first).jti });

    // The guard has passed and the successor is minted; Redis stops answering, the rotation's script is sent, Redis dies.
    const blocker = new Redis(server.url);
    beforeRotate = async () => {
      void blocker.call('DEBUG', 'SLEEP', '1').catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 50));
      setTimeout(() => void server.stop(), 50);
    };
    await refresh(t.url, rotated.refreshToken).expect(503, UNAVAILABLE);
    blocker.disconnect();
    await request(t.url).get('/me').set(bearer(rotated.accessToken)).expect(503, UNAVAILABLE);

    await server.restart();
    await waitFor(async () => (await request(t.url).get('/me').set(bearer(rotated.accessToken))).status === 200);
    expect(await redis.hgetall(`fail:{${family}}:f`)).toEqual(before);
    expect(await redis.pttl(`fail:{${family}}:f`)).toBeGreaterThan(0);
    // Not half-rotated, not revoked: the token the failed call presented is still the current one.
    const after = (await refresh(t.url, rotated.refreshToken).expect(200)).body as Rotated;
    await request(t.url).get('/me').set(bearer(after.accessToken)).expect(200);
    expect(told(family)).toHaveLength(0);
  });
});
