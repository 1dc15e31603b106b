import { Injectable } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import type { AdditionalClaimsLoader } from '../../lib/index.js';
import { useTestApp } from '../support/app.js';
import { useRedis } from '../support/redis-server.js';
import { ADAPTER_STORE_PAIRS, REVOKED, RotationRoutes, claims, declareStore, refresh } from '../rotation/rotation.js';

/*
 * Fourth pass: rotation tells tokens apart by `jti`, which the signer sets and then lets the
 * `additionalClaims` loader replace (the `fam` claim is protected from it, `jti` is not). An app that
 * puts its server-side session id in `jti` (a common way to tie a JWT to a session) gets successors
 * with the presented token's own jti: the store sees `presented === current` on every rotation, so
 * one refresh token rotates forever and a thief's copy is never reuse. CONTRACT §12: "Two
 * concurrent rotations of one token never both create a branch"; "Presenting a refresh token that was
 * already consumed ... it is reuse". Either the library refuses such a jti while rotating, or the
 * second presentation is reuse.
 */

let redis: Redis;
useRedis((started) => (redis = started.redis));

@Injectable()
class SessionIdAsJti implements AdditionalClaimsLoader {
  additionalClaims(identity: unknown) {
    return { jti: `session-of-${String(identity)}` };
  }
}

describe.each(ADAPTER_STORE_PAIRS)('an additionalClaims loader that sets jti (%s, %s store)', (adapter, kind) => {
  const t = useTestApp(adapter, {
    options: { refreshTokenRotation: {} },
    loaders: { refreshTokenStore: declareStore(kind, () => redis), additionalClaims: SessionIdAsJti },
    controllers: [RotationRoutes],
  });

  it('one refresh token never rotates twice: a consumed token presented again is reuse (or the jti is refused up front)', async () => {
    let login: string;
    try {
      login = await t.jwt.createRefreshToken('alice');
    } catch (error) {
      expect(error).toBeInstanceOf(TypeError); // refused up front: acceptable
      return;
    }
    const first = await refresh(t.url, login);
    if (first.status !== 200) {
      expect(first.status).toBeLessThan(500);
      return;
    }
    // The user's tab rotated; the thief presents the same stolen token.
    const second = await refresh(t.url, login);
    expect([second.status, second.body]).toEqual([401, REVOKED]);
    expect(claims(login).jti).toBe('session-of-alice');
  });
});
