import { Controller, HttpCode, Post } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { JwtExtendedService, JwtIdentity, JwtRequired } from '../../lib/index.js';
import { useTestApp } from '../support/app.js';
import { bearer } from '../support/http.js';
import { useRedis } from '../support/redis-server.js';
import { ADAPTER_STORE_PAIRS, REVOKED, RotationRoutes, type Rotated, declareStore, refresh } from '../rotation/rotation.js';

/*
 * Fourth pass (design gap, plain security sense): with rotation on, the guard refuses a refresh token
 * only when its whole family is revoked. A token rotateRefreshToken has *consumed* (CONTRACT §12:
 * "atomically consumes the presented refresh token") still passes @JwtRequired({ refresh: true }) on
 * every route that does not rotate, e.g. the Flask-style refresh route an app keeps while it
 * migrates (`createAccessToken(identity)`): a thief holding a consumed token mints access tokens
 * until it expires, and no reuse is ever detected. A consumed token (outside reuseInterval) should
 * be refused by the guard, as reuse.
 */

let redis: Redis;
useRedis((started) => (redis = started.redis));

@Controller()
class LegacyRefresh {
  constructor(private readonly jwt: JwtExtendedService) {}

  @Post('legacy-refresh')
  @HttpCode(200)
  @JwtRequired({ refresh: true })
  async legacy(@JwtIdentity() id: string) {
    return { accessToken: await this.jwt.createAccessToken(id) };
  }
}

describe.each(ADAPTER_STORE_PAIRS)('a consumed refresh token on a refresh route that does not rotate (%s, %s store)', (adapter, kind) => {
  const t = useTestApp(adapter, {
    options: { refreshTokenRotation: {} },
    loaders: { refreshTokenStore: declareStore(kind, () => redis) },
    controllers: [RotationRoutes, LegacyRefresh],
  });

  it('is refused (401 Token has been revoked) once rotateRefreshToken consumed it', async () => {
    const stolen = await t.jwt.createRefreshToken('alice');
    const { body } = await refresh(t.url, stolen).expect(200); // the user's client rotates
    const current = (body as Rotated).refreshToken;
    // the user's current token works on the route that does not rotate
    await request(t.url).post('/legacy-refresh').set(bearer(current)).expect(200);
    const answer = await request(t.url).post('/legacy-refresh').set(bearer(stolen));
    expect([answer.status, answer.body]).toEqual([401, REVOKED]);
    // §12: a consumed token presented again is reuse and revokes the whole family, the current token included
    await request(t.url).post('/legacy-refresh').set(bearer(current)).expect(401, REVOKED);
  });
});
