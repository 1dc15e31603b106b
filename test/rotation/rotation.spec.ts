import { describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { JwtExtendedConfigError, type JwtExtendedOptions, type JwtExtendedLoaders } from '../../lib/index.js';
import { SECRET, startupError, useTestApp } from '../support/app.js';
import { forgeHmac, now } from '../support/forge.js';
import { bearer } from '../support/http.js';
import { useRedis } from '../support/redis-server.js';
import {
  ADAPTER_STORE_PAIRS,
  REVOKED,
  ReuseRecorder,
  RotationRoutes,
  type Rotated,
  type StoreKind,
  claims,
  declareStore,
  refresh,
} from './rotation.js';

let redis: Redis;
useRedis((started) => (redis = started.redis));

const told = (family: unknown) => ReuseRecorder.told.filter((payload) => payload.fam === family);

/** An app that rotates refresh tokens with `kind`'s store, `reuseInterval` seconds of grace. */
function rotatingApp(adapter: 'express' | 'fastify', kind: StoreKind, reuseInterval: number, options: JwtExtendedOptions = {}) {
  const loaders: JwtExtendedLoaders = { refreshTokenStore: declareStore(kind, () => redis), refreshTokenReuse: ReuseRecorder };
  return useTestApp(adapter, { options: { refreshTokenRotation: { reuseInterval }, ...options }, loaders, controllers: [RotationRoutes] });
}

describe.each(ADAPTER_STORE_PAIRS)('refresh-token rotation, reuseInterval 0 (%s, %s store)', (adapter, kind) => {
  const t = rotatingApp(adapter, kind, 0);

  it('createRefreshToken starts a family; a chain of 100 rotations each hands out a new refresh token and an access token of that family', async () => {
    let current = await t.jwt.createRefreshToken('alice');
    const family = claims(current).fam;
    expect(typeof family).toBe('string');
    const seen = new Set([claims(current).jti]);
    const chain = [current];
    for (let i = 0; i < 100; i++) {
      const { body } = await refresh(t.url, current).expect(200);
      const rotated = body as Rotated;
      const next = claims(rotated.refreshToken);
      expect(next).toMatchObject({ type: 'refresh', fam: family, sub: 'alice' });
      expect(seen.has(next.jti)).toBe(false);
      seen.add(next.jti);
      expect(claims(rotated.accessToken)).toMatchObject({ type: 'access', fam: family, sub: 'alice', fresh: false });
      await request(t.url).get('/me').set(bearer(rotated.accessToken)).expect(200, { id: 'alice', fam: family });
      current = rotated.refreshToken;
      chain.push(current);
    }
    expect(told(family)).toHaveLength(0);
    // The last access token is still good; any consumed token of the chain is reuse: the family is revoked.
    const { body } = await refresh(t.url, current).expect(200);
    const last = body as Rotated;
    await refresh(t.url, chain[50]).expect(401, REVOKED);
    expect(told(family).map((payload) => payload.jti)).toEqual([claims(chain[50]).jti]);
    await refresh(t.url, last.refreshToken).expect(401, REVOKED);
    await request(t.url).get('/me').set(bearer(last.accessToken)).expect(401, REVOKED);
  });

  it('replaying the token just consumed is reuse: 401, the family revoked (refresh and access tokens), the loader told once', async () => {
    const first = await t.jwt.createRefreshToken('bob');
    const family = claims(first).fam;
    const rotated = (await refresh(t.url, first).expect(200)).body as Rotated;
    await refresh(t.url, first).expect(401, REVOKED);
    expect(told(family)).toHaveLength(1);
    expect(told(family)[0]).toMatchObject({ jti: claims(first).jti, sub: 'bob', type: 'refresh' });
    await refresh(t.url, rotated.refreshToken).expect(401, REVOKED);
    await request(t.url).get('/me').set(bearer(rotated.accessToken)).expect(401, REVOKED);
    // Another family of the same user is untouched.
    const other = (await refresh(t.url, await t.jwt.createRefreshToken('bob')).expect(200)).body as Rotated;
    await request(t.url).get('/me').set(bearer(other.accessToken)).expect(200);
    expect(told(family)).toHaveLength(1);
  });

  it("revokeRefreshFamily (logout) refuses the family's access and refresh tokens, not other families or plain access tokens", async () => {
    const rotated = (await refresh(t.url, await t.jwt.createRefreshToken('carol')).expect(200)).body as Rotated;
    const otherFamily = (await refresh(t.url, await t.jwt.createRefreshToken('carol')).expect(200)).body as Rotated;
    const plain = await t.jwt.createAccessToken('carol');
    expect(claims(plain).fam).toBeUndefined();
    await request(t.url).post('/logout').set(bearer(rotated.accessToken)).expect(200);
    await request(t.url).get('/me').set(bearer(rotated.accessToken)).expect(401, REVOKED);
    await refresh(t.url, rotated.refreshToken).expect(401, REVOKED);
    await request(t.url).get('/me').set(bearer(otherFamily.accessToken)).expect(200);
    await refresh(t.url, otherFamily.refreshToken).expect(200);
    await request(t.url).get('/me').set(bearer(plain)).expect(200, { id: 'carol', fam: null });
    expect(told(claims(rotated.accessToken).fam)).toHaveLength(0);
  });

  it("50 concurrent rotations of one token: exactly one succeeds, the others are reuse; the family ends revoked, so the winner's new tokens are refused too", async () => {
    const token = await t.jwt.createRefreshToken('dave');
    const family = claims(token).fam;
    const responses = await Promise.all(Array.from({ length: 50 }, () => refresh(t.url, token)));
    const won = responses.filter((response) => response.status === 200);
    expect(won).toHaveLength(1);
    for (const response of responses.filter((r) => r.status !== 200)) expect(response).toMatchObject({ status: 401, body: REVOKED });
    // The store decides atomically: one rotation, then one reuse that revokes the family (later ones find it revoked).
    expect(told(family)).toHaveLength(1);
    const winner = won[0].body as Rotated;
    await refresh(t.url, winner.refreshToken).expect(401, REVOKED);
    await request(t.url).get('/me').set(bearer(winner.accessToken)).expect(401, REVOKED);
  });

  it('a refresh token without a family (issued before rotation was turned on) cannot be rotated', async () => {
    const legacy = forgeHmac(
      { alg: 'HS256', typ: 'JWT' },
      { sub: 'erin', type: 'refresh', fresh: false, jti: 'legacy', iat: now(), exp: now() + 600 },
      SECRET,
    );
    await refresh(t.url, legacy).expect(401, REVOKED);
    // Not reuse (nothing was consumed): the loader hears nothing.
    expect(ReuseRecorder.told.filter((payload) => payload.jti === 'legacy')).toHaveLength(0);
  });

  it('an unknown family (its record expired or lost) is refused at the guard', async () => {
    const stranger = forgeHmac(
      { alg: 'HS256', typ: 'JWT' },
      { sub: 'fay', type: 'access', fresh: false, jti: 'x', fam: 'no-such-family', iat: now(), exp: now() + 600 },
      SECRET,
    );
    await request(t.url).get('/me').set(bearer(stranger)).expect(401, REVOKED);
  });
});

describe.each(ADAPTER_STORE_PAIRS)('refresh-token rotation, reuseInterval 60 (%s, %s store)', (adapter, kind) => {
  const t = rotatingApp(adapter, kind, 60);

  it("the token consumed last, presented again within the interval, gets a new access token and the family's current refresh token (same jti)", async () => {
    const first = await t.jwt.createRefreshToken('gus');
    const family = claims(first).fam;
    const rotated = (await refresh(t.url, first).expect(200)).body as Rotated;
    const again = (await refresh(t.url, first).expect(200)).body as Rotated;
    expect(again.refreshToken).toBe(rotated.refreshToken);
    expect(claims(again.accessToken)).toMatchObject({ fam: family, sub: 'gus', type: 'access' });
    expect(claims(again.accessToken).jti).not.toBe(claims(rotated.accessToken).jti);
    await request(t.url).get('/me').set(bearer(again.accessToken)).expect(200, { id: 'gus', fam: family });
    // No second branch: the current token rotates once more; the first one is now older than the last consumed: reuse.
    const second = (await refresh(t.url, rotated.refreshToken).expect(200)).body as Rotated;
    expect(told(family)).toHaveLength(0);
    await refresh(t.url, first).expect(401, REVOKED);
    expect(told(family).map((payload) => payload.jti)).toEqual([claims(first).jti]);
    await refresh(t.url, second.refreshToken).expect(401, REVOKED);
    await request(t.url).get('/me').set(bearer(again.accessToken)).expect(401, REVOKED);
  });

  it('50 concurrent rotations of one token all succeed with the same refresh token; the family stays usable', async () => {
    const token = await t.jwt.createRefreshToken('hal');
    const family = claims(token).fam;
    const responses = await Promise.all(Array.from({ length: 50 }, () => refresh(t.url, token)));
    expect(responses.map((response) => response.status)).toEqual(Array(50).fill(200));
    const refreshTokens = new Set(responses.map((response) => (response.body as Rotated).refreshToken));
    expect(refreshTokens.size).toBe(1);
    const [successor] = refreshTokens;
    expect(claims(successor).jti).not.toBe(claims(token).jti);
    expect(told(family)).toHaveLength(0);
    for (const response of responses.slice(0, 5)) {
      await request(t.url)
        .get('/me')
        .set(bearer((response.body as Rotated).accessToken))
        .expect(200);
    }
    await refresh(t.url, successor).expect(200);
  });
});

describe.each(ADAPTER_STORE_PAIRS)('refresh-token rotation, reuseInterval 0.3 (%s, %s store)', (adapter, kind) => {
  const t = rotatingApp(adapter, kind, 0.3);

  it('the token consumed last, presented again after the interval, is reuse: the family is revoked', async () => {
    const first = await t.jwt.createRefreshToken('ida');
    const family = claims(first).fam;
    const rotated = (await refresh(t.url, first).expect(200)).body as Rotated;
    await new Promise((resolve) => setTimeout(resolve, 700));
    await refresh(t.url, first).expect(401, REVOKED);
    expect(told(family)).toHaveLength(1);
    await refresh(t.url, rotated.refreshToken).expect(401, REVOKED);
    await request(t.url).get('/me').set(bearer(rotated.accessToken)).expect(401, REVOKED);
  });
});

describe.each(ADAPTER_STORE_PAIRS)('rotation keeps what the app configured (%s, %s store)', (adapter, kind) => {
  const t = rotatingApp(adapter, kind, 0, { identityClaim: 'uid', verifySub: false, errorMessageKey: 'error' });

  it("the identity claim is carried over as it is, and errors use the module's message key", async () => {
    const identity = { id: 7, org: 'acme' };
    const first = await t.jwt.createRefreshToken(identity);
    const rotated = (await refresh(t.url, first).expect(200)).body as Rotated;
    expect(claims(rotated.refreshToken).uid).toEqual(identity);
    expect(claims(rotated.accessToken).uid).toEqual(identity);
    await request(t.url)
      .get('/me')
      .set(bearer(rotated.accessToken))
      .expect(200, { id: identity, fam: claims(first).fam });
    await refresh(t.url, first).expect(401, { error: 'Token has been revoked' });
  });
});

describe.each(ADAPTER_STORE_PAIRS)("errorFormat 'nest' (%s, %s store)", (adapter, kind) => {
  const t = rotatingApp(adapter, kind, 0, { errorFormat: 'nest' });

  it('reuse and a revoked family answer with code REVOKED', async () => {
    const first = await t.jwt.createRefreshToken('nia');
    const rotated = (await refresh(t.url, first).expect(200)).body as Rotated;
    const body = { statusCode: 401, message: 'Token has been revoked', error: 'Unauthorized', code: 'REVOKED' };
    await refresh(t.url, first).expect(401, body);
    await request(t.url).get('/me').set(bearer(rotated.accessToken)).expect(401, body);
    expect(told(claims(first).fam)).toHaveLength(1);
  });
});

describe('start-up and call checks', () => {
  const base = { secretKey: SECRET };
  const Store = declareStore('memory');
  const cases: [string, JwtExtendedOptions, JwtExtendedLoaders, RegExp][] = [
    ['rotation without a store', { refreshTokenRotation: {} }, {}, /refreshTokenRotation.*needs loaders\.refreshTokenStore/],
    ['a store without rotation', {}, { refreshTokenStore: Store }, /refreshTokenRotation.*is not set, but loaders\.refreshTokenStore/],
    ['a reuse loader without rotation', {}, { refreshTokenReuse: ReuseRecorder }, /loaders\.refreshTokenReuse/],
    ['a negative reuseInterval', { refreshTokenRotation: { reuseInterval: -1 } }, { refreshTokenStore: Store }, /reuseInterval must be/],
    ['a NaN reuseInterval', { refreshTokenRotation: { reuseInterval: Number.NaN } }, { refreshTokenStore: Store }, /reuseInterval must be/],
    [
      'a string reuseInterval',
      { refreshTokenRotation: { reuseInterval: '5' as never } },
      { refreshTokenStore: Store },
      /reuseInterval must be/,
    ],
    [
      'a reuseInterval past a timer',
      { refreshTokenRotation: { reuseInterval: 2 ** 31 } },
      { refreshTokenStore: Store },
      /reuseInterval must be/,
    ],
    ['an unknown key', { refreshTokenRotation: { reuse: 5 } as never }, { refreshTokenStore: Store }, /unknown key "reuse"/],
    ['a non-object', { refreshTokenRotation: true as never }, { refreshTokenStore: Store }, /must be an object/],
    ['refresh tokens that never expire', { refreshTokenRotation: {}, refreshTokenExpires: false }, { refreshTokenStore: Store }, /finite/],
    ['access tokens that never expire', { refreshTokenRotation: {}, accessTokenExpires: false }, { refreshTokenStore: Store }, /finite/],
  ];
  it.each(cases)('refuses %s, naming the option', async (_name, options, loaders, message) => {
    const error = await startupError('express', { options: { ...base, ...options }, loaders });
    expect(error).toBeInstanceOf(JwtExtendedConfigError);
    expect((error as JwtExtendedConfigError).option).toBe('refreshTokenRotation');
    expect((error as Error).message).toMatch(message);
  });

  const t = rotatingApp('express', 'memory', 0);
  it('createRefreshToken refuses expiresDelta: false while rotating (the family could never expire)', async () => {
    await expect(t.jwt.createRefreshToken('jo', { expiresDelta: false })).rejects.toThrow(TypeError);
    expect(claims(await t.jwt.createRefreshToken('jo', { expiresDelta: 60 })).fam).toEqual(expect.any(String));
  });
  it('a non-numeric exp from additionalClaims is refused: the family could not be kept as long as the token lives', async () => {
    await expect(t.jwt.createRefreshToken('jo', { additionalClaims: { exp: 'never' } })).rejects.toThrow(/numeric exp/);
  });
  it('a fam given as an additional claim cannot choose the family', async () => {
    const token = await t.jwt.createRefreshToken('jo', { additionalClaims: { fam: 'chosen' } });
    expect(claims(token).fam).not.toBe('chosen');
    await refresh(t.url, token).expect(200);
  });
});

describe('without rotation', () => {
  const t = useTestApp('express', { controllers: [RotationRoutes] });
  it('refresh tokens carry no family, and rotateRefreshToken / revokeRefreshFamily say what to configure', async () => {
    const token = await t.jwt.createRefreshToken('kim');
    expect(claims(token).fam).toBeUndefined();
    const response = await refresh(t.url, token).expect(500);
    expect(JSON.stringify(response.body)).not.toContain(token);
    await expect(t.jwt.revokeRefreshFamily('some-family')).rejects.toThrow(/refreshTokenRotation/);
  });
});
