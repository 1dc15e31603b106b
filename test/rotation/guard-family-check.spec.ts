import { Controller, Get, Injectable } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import request from 'supertest';
import {
  type AdditionalClaimsLoader,
  InMemoryRefreshTokenStore,
  JwtIdentity,
  JwtRequired,
  type RefreshTokenReuseLoader,
  type RefreshTokenStore,
} from '../../lib/index.js';
import { RedisRefreshTokenStore } from '../../lib/blocklist/redis/index.js';
import { useTestApp } from '../support/app.js';
import { bearer } from '../support/http.js';
import { useRedis } from '../support/redis-server.js';
import {
  ADAPTER_STORE_PAIRS,
  REVOKED,
  ReuseRecorder,
  RotationRoutes,
  type Rotated,
  claims,
  declareStore,
  freshPrefix,
  refresh,
} from './rotation.js';

/*
 * CONTRACT §12 on the guard: a refresh token of a family passes only while it is the family's
 * current one (or the one consumed last, within reuseInterval); any other is reuse, wherever it is
 * presented. The reuse loader's failure never changes the 401. Tokens of a family carry the
 * library's jti.
 */

let redis: Redis;
useRedis((started) => (redis = started.redis));

const told = (family: unknown) => ReuseRecorder.told.filter((payload) => payload.fam === family);

/** A refresh route that does not rotate (an app migrating from Flask-style refresh). */
@Controller()
class PlainRefresh {
  @Get('whoami-refresh')
  @JwtRequired({ refresh: true })
  whoami(@JwtIdentity() id: unknown) {
    return { id };
  }
}
const plain = (url: string, token: string) => request(url).get('/whoami-refresh').set(bearer(token));

describe.each(ADAPTER_STORE_PAIRS)('the guard checks a family refresh token against the store (%s, %s store)', (adapter, kind) => {
  describe('reuseInterval 0', () => {
    const t = useTestApp(adapter, {
      options: { refreshTokenRotation: {} },
      loaders: { refreshTokenStore: declareStore(kind, () => redis), refreshTokenReuse: ReuseRecorder },
      controllers: [RotationRoutes, PlainRefresh],
    });

    it('a consumed token on a route that does not rotate is reuse: the family is revoked and the loader told once', async () => {
      const login = await t.jwt.createRefreshToken('ana');
      const family = claims(login).fam;
      await plain(t.url, login).expect(200, { id: 'ana' }); // current: passes, consumes nothing
      await plain(t.url, login).expect(200, { id: 'ana' });
      const rotated = (await refresh(t.url, login).expect(200)).body as Rotated;
      expect(told(family)).toHaveLength(0);
      await plain(t.url, login).expect(401, REVOKED);
      expect(told(family).map((payload) => payload.jti)).toEqual([claims(login).jti]);
      await plain(t.url, login).expect(401, REVOKED); // already revoked: not reuse again
      expect(told(family)).toHaveLength(1);
      await request(t.url).get('/me').set(bearer(rotated.accessToken)).expect(401, REVOKED);
      await refresh(t.url, rotated.refreshToken).expect(401, REVOKED);
    });
  });

  describe('reuseInterval 60', () => {
    const t = useTestApp(adapter, {
      options: { refreshTokenRotation: { reuseInterval: 60 } },
      loaders: { refreshTokenStore: declareStore(kind, () => redis), refreshTokenReuse: ReuseRecorder },
      controllers: [RotationRoutes, PlainRefresh],
    });

    it('the token consumed last passes within the grace window; the one before it is reuse', async () => {
      const first = await t.jwt.createRefreshToken('ben');
      const family = claims(first).fam;
      const second = ((await refresh(t.url, first).expect(200)).body as Rotated).refreshToken;
      await plain(t.url, first).expect(200, { id: 'ben' }); // consumed last, within the window
      await plain(t.url, second).expect(200, { id: 'ben' });
      await refresh(t.url, second).expect(200); // `first` is now two behind
      expect(told(family)).toHaveLength(0);
      await plain(t.url, first).expect(401, REVOKED);
      expect(told(family)).toHaveLength(1);
    });
  });
});

@Injectable()
class ThrowingAlert implements RefreshTokenReuseLoader {
  onRefreshTokenReuse(): void {
    throw new Error('alerting down (thrown synchronously)');
  }
}

describe.each(ADAPTER_STORE_PAIRS)('a reuse loader that throws synchronously (%s, %s store)', (adapter, kind) => {
  const t = useTestApp(adapter, {
    options: { refreshTokenRotation: {} },
    loaders: { refreshTokenStore: declareStore(kind, () => redis), refreshTokenReuse: ThrowingAlert },
    controllers: [RotationRoutes, PlainRefresh],
  });

  it('changes no answer, on the rotating route or on the guard', async () => {
    const a = await t.jwt.createRefreshToken('cy');
    await refresh(t.url, a).expect(200);
    const onRotate = await refresh(t.url, a);
    expect([onRotate.status, onRotate.body]).toEqual([401, REVOKED]);
    const b = await t.jwt.createRefreshToken('cy');
    await refresh(t.url, b).expect(200);
    const onGuard = await plain(t.url, b);
    expect([onGuard.status, onGuard.body]).toEqual([401, REVOKED]);
  });
});

@Injectable()
class SessionJti implements AdditionalClaimsLoader {
  additionalClaims() {
    return { jti: 'session-1' };
  }
}

describe.each(ADAPTER_STORE_PAIRS)('a jti from additional claims (%s, %s store)', (adapter, kind) => {
  const t = useTestApp(adapter, {
    options: { refreshTokenRotation: {} },
    loaders: { refreshTokenStore: declareStore(kind, () => redis) },
    controllers: [RotationRoutes],
  });

  it('is refused for tokens of a family, and still allowed on access tokens outside one', async () => {
    await expect(t.jwt.createRefreshToken('dee', { additionalClaims: { jti: 'fixed' } })).rejects.toThrow(/cannot set "jti"/);
    expect(claims(await t.jwt.createAccessToken('dee', { additionalClaims: { jti: 'mine' } })).jti).toBe('mine');
  });
});

describe.each(ADAPTER_STORE_PAIRS)('an additionalClaims loader setting jti (%s, %s store)', (adapter, kind) => {
  const t = useTestApp(adapter, {
    options: { refreshTokenRotation: {} },
    loaders: { refreshTokenStore: declareStore(kind, () => redis), additionalClaims: SessionJti },
    controllers: [RotationRoutes],
  });

  it('makes createRefreshToken refuse (TypeError) instead of starting a family that never rotates', async () => {
    await expect(t.jwt.createRefreshToken('eve')).rejects.toThrow(TypeError);
  });
});

describe('a store refuses a successor carrying the presented jti', () => {
  const stores: [string, () => RefreshTokenStore][] = [
    ['InMemoryRefreshTokenStore', () => new InMemoryRefreshTokenStore()],
    ['RedisRefreshTokenStore', () => new RedisRefreshTokenStore(redis, { keyPrefix: freshPrefix() })],
  ];
  it.each(stores)('%s: TypeError, and the family is unchanged', async (_name, make) => {
    const store = make();
    const expiresAt = Math.floor(Date.now() / 1000) + 60;
    await store.startFamily('f', 'j1', expiresAt);
    const same = { family: 'f', presented: 'j1', next: { jti: 'j1', token: 't' }, reuseInterval: 0, expiresAt };
    await expect(store.rotate(same)).rejects.toThrow(TypeError);
    expect(await store.checkFamilyToken({ family: 'f', jti: 'j1', type: 'refresh' })).toBe('active');
    expect(await store.rotate({ ...same, next: { jti: 'j2', token: 't' } })).toEqual({ outcome: 'rotated' });
    expect(await store.checkFamilyToken({ family: 'f', jti: 'j2', type: 'refresh' })).toBe('active');
    expect(await store.checkFamilyToken({ family: 'f', jti: 'j1', type: 'refresh' })).toBe('reuse');
    expect(await store.checkFamilyToken({ family: 'f', jti: 'j2', type: 'access' })).toBe('revoked');
  });
});
