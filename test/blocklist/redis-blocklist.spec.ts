import { Controller, Delete, Get, Inject, Injectable, Module } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import request from 'supertest';
import { Jwt, JwtExtendedModule, JwtRequired, type JwtPayload } from '../../lib/index.js';
import { RedisBlocklist } from '../../lib/blocklist/redis/index.js';
import { ADAPTERS, SECRET, useTestApp } from '../support/app.js';
import { bearer, expectResponse, handlerRuns } from '../support/http.js';
import { RedisServer } from '../support/redis-server.js';

const REDIS = Symbol('REDIS');
const REVOKED = { msg: 'Token has been revoked' };
let server: RedisServer;
let redis: Redis;

@Injectable()
class Revocations extends RedisBlocklist {
  constructor(@Inject(REDIS) client: Redis) {
    super(client, { keyPrefix: 'test:', timeout: 300 });
  }
}

@Controller()
class Routes {
  constructor(private readonly revocations: Revocations) {}
  @Get('me')
  @JwtRequired()
  me(@Jwt() jwt: JwtPayload) {
    handlerRuns.record('me');
    return { sub: jwt.sub };
  }
  @Delete('logout')
  @JwtRequired()
  async logout(@Jwt() jwt: JwtPayload) {
    await this.revocations.revokeToken(jwt);
    handlerRuns.record('logout');
    return { ok: true };
  }
  @Delete('logout-everywhere')
  @JwtRequired()
  async logoutEverywhere(@Jwt() jwt: JwtPayload) {
    await this.revocations.revokeAllForUser(jwt.sub);
    handlerRuns.record('logout-everywhere');
    return { ok: true };
  }
}

beforeAll(async () => {
  server = await RedisServer.start();
  redis = new Redis(server.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
  await new Promise((resolve) => redis.once('ready', resolve));
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

describe('RedisBlocklist against a real redis-server', () => {
  it('stores one key per revoked token with TTL = remaining lifetime', async () => {
    const store = new RedisBlocklist(redis, { keyPrefix: 'unit:' });
    const exp = Math.floor(Date.now() / 1000) + 120;
    await store.revokeToken({ jti: 'j1', sub: 'a', exp });
    const ttl = await redis.ttl('unit:{"a"}:jti:j1');
    expect(ttl).toBeGreaterThan(115);
    expect(ttl).toBeLessThanOrEqual(120);
    expect(await store.isTokenRevoked({}, { jti: 'j1', sub: 'a', type: 'access', fresh: false, iat: 1 })).toBe(true);
    expect(await store.isTokenRevoked({}, { jti: 'j2', sub: 'a', type: 'access', fresh: false, iat: 1 })).toBe(false);
    // an already expired token is not stored
    await store.revokeToken({ jti: 'old', sub: 'a', exp: Math.floor(Date.now() / 1000) - 1 });
    expect(await redis.exists('unit:{"a"}:jti:old')).toBe(0);
    // a token without exp is kept without TTL
    await store.revokeToken({ jti: 'forever', sub: 'a' });
    expect(await redis.ttl('unit:{"a"}:jti:forever')).toBe(-1);
  });

  it('checks with one round trip (MGET)', async () => {
    const store = new RedisBlocklist(redis, { keyPrefix: 'rt:' });
    const monitor = await redis.monitor();
    const commands: string[] = [];
    monitor.on('monitor', (_time: string, args: string[]) => commands.push(args[0].toLowerCase()));
    await new Promise((r) => setTimeout(r, 50));
    await store.isTokenRevoked({}, { jti: 'x', sub: 'a', type: 'access', fresh: false, iat: 1 });
    await new Promise((r) => setTimeout(r, 50));
    monitor.disconnect();
    expect(commands.filter((c) => c !== 'monitor')).toEqual(['mget']);
  });

  it('revokeAllForUser revokes tokens issued before it resolves, not after', async () => {
    const store = new RedisBlocklist(redis, { keyPrefix: 'user:', userRevocationTtl: 60 });
    const sameSecondBefore = Math.floor(Date.now() / 1000);
    await store.revokeAllForUser('bob');
    const after = Math.floor(Date.now() / 1000);
    expect(await redis.ttl('user:{"bob"}:user')).toBeGreaterThan(55);
    const token = (sub: string, iat: number) => ({ jti: 'j', sub, type: 'access' as const, fresh: false, iat });
    expect(await store.isTokenRevoked({}, token('bob', sameSecondBefore - 10))).toBe(true);
    expect(await store.isTokenRevoked({}, token('bob', sameSecondBefore))).toBe(true);
    expect(await store.isTokenRevoked({}, token('bob', after))).toBe(false);
    expect(await store.isTokenRevoked({}, token('carol', sameSecondBefore))).toBe(false);
  });
});

@Module({ providers: [{ provide: REDIS, useFactory: () => redis }], exports: [REDIS] })
class RedisModule {}

describe.each(ADAPTERS)('RedisBlocklist as the blocklist loader (%s)', (adapter) => {
  const t = useTestApp(adapter, {
    controllers: [Routes],
    module: JwtExtendedModule.forRootAsync({
      imports: [RedisModule],
      useFactory: () => ({ secretKey: SECRET }),
      loaders: { blocklist: Revocations },
    }),
  });
  const me = (token: string) => request(t.url).get('/me').set(bearer(token));

  it('logout revokes exactly the presented token', async () => {
    const token = await t.jwt.createAccessToken('alice');
    const other = await t.jwt.createAccessToken('alice');
    await expectResponse(me(token), 200, { sub: 'alice' }, 'me');
    await expectResponse(request(t.url).delete('/logout').set(bearer(token)), 200, { ok: true }, 'logout');
    await expectResponse(me(token), 401, REVOKED, []);
    await expectResponse(me(other), 200, { sub: 'alice' }, 'me');
  });

  it('logout everywhere revokes every earlier token of the user', async () => {
    const first = await t.jwt.createAccessToken('dave');
    const second = await t.jwt.createAccessToken('dave');
    await expectResponse(request(t.url).delete('/logout-everywhere').set(bearer(first)), 200, { ok: true }, 'logout-everywhere');
    await expectResponse(me(second), 401, REVOKED, []);
    // a login right after the call resolves works at once
    await expectResponse(me(await t.jwt.createAccessToken('dave')), 200, { sub: 'dave' }, 'me');
  });

  it('fails closed with 503 while Redis is down, and recovers when it is back', async () => {
    const token = await t.jwt.createAccessToken('erin');
    await expectResponse(me(token), 200, { sub: 'erin' }, 'me');
    await server.stop();
    await expectResponse(me(token), 503, { msg: 'Token revocation store unavailable' }, [], { hides: token });
    await server.restart();
    await waitFor(async () => (await me(token)).status === 200);
  });
});

describe('RedisBlocklist when Redis is slow', () => {
  it('fails closed with 503 after its timeout', async () => {
    const store = new RedisBlocklist(redis, { keyPrefix: 'slow:', timeout: 200 });
    const blocker = new Redis(server.url);
    try {
      // DEBUG SLEEP blocks the (single-threaded) server for a second.
      const sleeping = blocker.call('DEBUG', 'SLEEP', '1');
      await new Promise((r) => setTimeout(r, 50));
      const error = await Promise.resolve(store.isTokenRevoked({}, { jti: 'x', sub: 'a', type: 'access', fresh: false })).catch(
        (e: unknown) => e,
      );
      expect((error as { getStatus?: () => number }).getStatus?.()).toBe(503);
      await sleeping;
    } finally {
      blocker.disconnect();
    }
  });
});

async function waitFor(check: () => Promise<boolean>, attempts = 50): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not met');
}

describe('RedisBlocklist waitForReplicas on a single node', () => {
  it('is an integer from 0 to 16, checked at construction', () => {
    for (const waitForReplicas of [-1, 1.5, 17, Number.NaN, '1'] as unknown[]) {
      expect(() => new RedisBlocklist(redis, { waitForReplicas } as { waitForReplicas: number })).toThrow(
        /waitForReplicas must be an integer from 0 to 16/,
      );
    }
    expect(() => new RedisBlocklist(redis, { waitForReplicas: 0 })).not.toThrow();
  });

  it('without a replica to acknowledge it, a revocation rejects with 503 instead of resolving', async () => {
    const store = new RedisBlocklist(redis, { keyPrefix: 'wait:', waitForReplicas: 1, timeout: 200 });
    const exp = Math.floor(Date.now() / 1000) + 120;
    for (const revoke of [() => store.revokeToken({ jti: 'w1', sub: 'a', exp }), () => store.revokeAllForUser('a')]) {
      const error = await revoke().catch((e: unknown) => e);
      expect((error as { getStatus?: () => number }).getStatus?.()).toBe(503);
    }
    // the write itself reached the master: it is only not known to be replicated
    expect(await redis.exists('wait:{"a"}:jti:w1')).toBe(1);
  });
});
