import { Injectable } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import request from 'supertest';
import type { RefreshTokenReuseLoader } from '../../lib/index.js';
import { useTestApp } from '../support/app.js';
import { bearer } from '../support/http.js';
import { useRedis } from '../support/redis-server.js';
import { ADAPTER_STORE_PAIRS, REVOKED, RotationRoutes, type Rotated, declareStore, refresh } from '../rotation/rotation.js';

/*
 * Fourth pass: CONTRACT §12, on reuse: "the whole family is revoked, the request fails with 401
 * `Token has been revoked`, and the optional loader `refreshTokenReuse` is told". The loader is
 * awaited before the 401 is thrown, so a loader that throws (an alerting webhook that is down) turns
 * the reuse answer into a 500, and one that hangs into the loader-timeout 503: the client (or the
 * thief) is told "try again later" instead of "revoked", and the answer depends on a side channel.
 */

let redis: Redis;
useRedis((started) => (redis = started.redis));

@Injectable()
class FailingAlert implements RefreshTokenReuseLoader {
  onRefreshTokenReuse(): Promise<void> {
    return Promise.reject(new Error('alerting webhook down'));
  }
}

@Injectable()
class HangingAlert implements RefreshTokenReuseLoader {
  onRefreshTokenReuse(): Promise<void> {
    return new Promise(() => undefined);
  }
}

describe.each(ADAPTER_STORE_PAIRS)('a refreshTokenReuse loader that fails (%s, %s store)', (adapter, kind) => {
  describe.each([
    ['throws', FailingAlert],
    ['hangs past loaderTimeout', HangingAlert],
  ])('the loader %s', (_name, loader) => {
    const t = useTestApp(adapter, {
      options: { refreshTokenRotation: {}, loaderTimeout: 200 },
      loaders: { refreshTokenStore: declareStore(kind, () => redis), refreshTokenReuse: loader },
      controllers: [RotationRoutes],
    });

    it('reuse still answers 401 Token has been revoked, and the family is revoked', async () => {
      const login = await t.jwt.createRefreshToken('alice');
      const { body } = await refresh(t.url, login).expect(200);
      const reuse = await refresh(t.url, login);
      expect([reuse.status, reuse.body]).toEqual([401, REVOKED]);
      await request(t.url)
        .get('/me')
        .set(bearer((body as Rotated).accessToken))
        .expect(401, REVOKED);
    });
  });
});
