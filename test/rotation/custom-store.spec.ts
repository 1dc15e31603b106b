import { Controller, HttpCode, HttpException, Injectable, Post, Req } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  type FamilyRotation,
  type FamilyToken,
  type FamilyTokenStatus,
  InMemoryRefreshTokenStore,
  JwtExtendedService,
  type JwtPayload,
  JwtRequired,
  type JwtProtectedHeader,
  type RefreshTokenStore,
  type RevokedTokenLoader,
  type RotationOutcome,
} from '../../lib/index.js';
import { ADAPTERS, useTestApp } from '../support/app.js';
import { bearer } from '../support/http.js';
import { RotationRoutes, type Rotated, claims, refresh } from './rotation.js';

/** A store of the app's own (any class implementing RefreshTokenStore), which stops answering on demand. */
@Injectable()
class StallingStore implements RefreshTokenStore {
  static stalled = false;
  private readonly families = new InMemoryRefreshTokenStore();
  private answer<T>(call: () => T | Promise<T>): T | Promise<T> {
    return StallingStore.stalled ? new Promise<T>(() => {}) : call();
  }
  startFamily(family: string, jti: string, expiresAt: number): Promise<void> {
    return this.answer(() => this.families.startFamily(family, jti, expiresAt)) as Promise<void>;
  }
  rotate(rotation: FamilyRotation): Promise<RotationOutcome> {
    return this.answer(() => this.families.rotate(rotation)) as Promise<RotationOutcome>;
  }
  revokeFamily(family: string): Promise<void> {
    return this.answer(() => this.families.revokeFamily(family)) as Promise<void>;
  }
  checkFamilyToken(token: FamilyToken): FamilyTokenStatus | Promise<FamilyTokenStatus> {
    return this.answer(() => this.families.checkFamilyToken(token));
  }
}

/** Shapes every revoked-token response, reuse included. */
@Injectable()
class RevokedShape implements RevokedTokenLoader {
  onRevokedToken(_header: JwtProtectedHeader, payload: JwtPayload) {
    return new HttpException({ error: 'session ended', family: payload.fam ?? null }, 401);
  }
}

@Controller()
class AnyTokenRoutes {
  constructor(private readonly jwt: JwtExtendedService) {}
  /** A handler that rotates whatever token verified the request. */
  @Post('rotate-any')
  @HttpCode(200)
  @JwtRequired({ verifyType: false })
  rotate(@Req() req: object) {
    return this.jwt.rotateRefreshToken(req);
  }
}

describe.each(ADAPTERS)('a custom refresh-token store under loaderTimeout (%s)', (adapter) => {
  const t = useTestApp(adapter, {
    options: { refreshTokenRotation: {}, loaderTimeout: 100 },
    loaders: { refreshTokenStore: StallingStore },
    controllers: [RotationRoutes, AnyTokenRoutes],
  });

  it('a store that stops answering fails the guard, the rotation and createRefreshToken closed with 503', async () => {
    const token = await t.jwt.createRefreshToken('stall');
    const rotated = (await refresh(t.url, token).expect(200)).body as Rotated;
    StallingStore.stalled = true;
    try {
      await request(t.url).get('/me').set(bearer(rotated.accessToken)).expect(503, { msg: 'Service Unavailable' });
      await refresh(t.url, rotated.refreshToken).expect(503, { msg: 'Service Unavailable' });
      await expect(t.jwt.createRefreshToken('stall')).rejects.toMatchObject({ status: 503 });
      await expect(t.jwt.revokeRefreshFamily(String(claims(token).fam))).rejects.toMatchObject({ status: 503 });
    } finally {
      StallingStore.stalled = false;
    }
    await refresh(t.url, rotated.refreshToken).expect(200);
  });

  it('rotateRefreshToken on a request verified with an access token: 422 Only refresh tokens are allowed', async () => {
    const rotated = (await refresh(t.url, await t.jwt.createRefreshToken('mixup')).expect(200)).body as Rotated;
    await request(t.url).post('/rotate-any').set(bearer(rotated.accessToken)).expect(422, { msg: 'Only refresh tokens are allowed' });
    await request(t.url).post('/rotate-any').set(bearer(rotated.refreshToken)).expect(200);
  });
});

describe.each(ADAPTERS)('the revokedToken loader shapes refusals of revoked families (%s)', (adapter) => {
  const t = useTestApp(adapter, {
    options: { refreshTokenRotation: {} },
    loaders: { refreshTokenStore: InMemoryRefreshTokenStore, revokedToken: RevokedShape },
    controllers: [RotationRoutes],
  });

  it('reuse detected by rotateRefreshToken and the guard refusing the family answer through the loader', async () => {
    const token = await t.jwt.createRefreshToken('shaped');
    const family = claims(token).fam;
    expect(family).toEqual(expect.any(String));
    const rotated = (await refresh(t.url, token).expect(200)).body as Rotated;
    await refresh(t.url, token).expect(401, { error: 'session ended', family });
    await request(t.url).get('/me').set(bearer(rotated.accessToken)).expect(401, { error: 'session ended', family });
  });
});
