import { Controller, Get, HttpException, Injectable, Post, Query, Req } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  type BlocklistLoader,
  type ExpiredTokenLoader,
  type InvalidTokenLoader,
  JwtExtendedService,
  JwtRequired,
  type JwtPayload,
  type JwtProtectedHeader,
  type NeedsFreshTokenLoader,
  type RevokedTokenLoader,
  type TokenVerificationFailedLoader,
  type TokenVerificationLoader,
  type UnauthorizedLoader,
  type UserLookupErrorLoader,
  type UserLookupLoader,
} from '../../lib/index.js';
import { ADAPTERS, createTestApp, type TestApp } from '../support/app.js';

let runs = 0;

@Injectable()
class Responses
  implements
    ExpiredTokenLoader,
    InvalidTokenLoader,
    NeedsFreshTokenLoader,
    RevokedTokenLoader,
    TokenVerificationFailedLoader,
    UnauthorizedLoader,
    UserLookupErrorLoader
{
  onExpiredToken(header: JwtProtectedHeader, payload: JwtPayload) {
    return new HttpException({ loader: 'expired', alg: header.alg, sub: payload.sub }, 419);
  }
  async onInvalidToken(reason: string) {
    return new HttpException({ loader: 'invalid', reason }, 400);
  }
  onNeedsFreshToken(_header: JwtProtectedHeader, payload: JwtPayload) {
    return new HttpException({ loader: 'fresh', sub: payload.sub }, 403);
  }
  onRevokedToken(_header: JwtProtectedHeader, payload: JwtPayload) {
    return new HttpException({ loader: 'revoked', jti: payload.jti }, 410);
  }
  onTokenVerificationFailed(_header: JwtProtectedHeader, payload: JwtPayload) {
    return new HttpException({ loader: 'verification', sub: payload.sub }, 418);
  }
  onUnauthorized(reason: string) {
    return new HttpException({ loader: 'unauthorized', reason }, 201);
  }
  onUserLookupError(_header: JwtProtectedHeader, payload: JwtPayload) {
    return new HttpException({ loader: 'user', sub: payload.sub }, 404);
  }
}

@Injectable()
class Checks implements BlocklistLoader, TokenVerificationLoader, UserLookupLoader {
  isTokenRevoked(_h: JwtProtectedHeader, payload: JwtPayload) {
    return payload.sub === 'revoked';
  }
  verifyToken(_h: JwtProtectedHeader, payload: JwtPayload) {
    return payload.sub !== 'unverified';
  }
  lookupUser(_h: JwtProtectedHeader, payload: JwtPayload) {
    return payload.sub === 'ghost' ? null : { id: payload.sub };
  }
}

@Controller()
class Routes {
  constructor(private readonly jwt: JwtExtendedService) {}
  @Get('protected')
  @JwtRequired()
  protectedRoute() {
    runs++;
    return { ok: true };
  }
  @Get('fresh')
  @JwtRequired({ fresh: true })
  fresh() {
    runs++;
    return { ok: true };
  }
  @Post('cookie')
  @JwtRequired({ locations: 'cookies' })
  cookie() {
    runs++;
    return { ok: true };
  }
  @Get('decode')
  async decode(@Query('token') token: string) {
    return this.jwt.decodeToken(token);
  }
  @Get('manual')
  async manual(@Req() req: object) {
    await this.jwt.verifyJwtInRequest(req);
    return { ok: true };
  }
}

async function expectResponse(test: request.Test, status: number, body: unknown) {
  const before = runs;
  const res = await test;
  expect({ status: res.status, body: res.body }).toEqual({ status, body });
  expect(runs).toBe(before);
}

describe.each(ADAPTERS)('error-response loaders (%s)', (adapter) => {
  let t: TestApp;
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  beforeAll(async () => {
    const loaders = {
      expiredToken: Responses,
      invalidToken: Responses,
      needsFreshToken: Responses,
      revokedToken: Responses,
      tokenVerificationFailed: Responses,
      unauthorized: Responses,
      userLookupError: Responses,
      blocklist: Checks,
      tokenVerification: Checks,
      userLookup: Checks,
    };
    t = await createTestApp(adapter, { controllers: [Routes], loaders });
  });
  afterAll(() => t.close());

  it('unauthorized: missing token, any status (201 here)', () =>
    expectResponse(request(t.url).get('/protected'), 201, { loader: 'unauthorized', reason: 'Missing Authorization Header' }));
  it('unauthorized: CSRF errors', async () => {
    const token = await t.jwt.createAccessToken('alice');
    await expectResponse(request(t.url).post('/cookie').set('Cookie', `access_token_cookie=${token}`), 201, {
      loader: 'unauthorized',
      reason: 'Missing CSRF token',
    });
  });
  it('invalidToken: every 422 (header, decode, wrong type)', async () => {
    await expectResponse(request(t.url).get('/protected').set('Authorization', 'Bearer a b'), 400, {
      loader: 'invalid',
      reason: "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'",
    });
    await expectResponse(request(t.url).get('/protected').set(bearer('x.y')), 400, { loader: 'invalid', reason: 'Not enough segments' });
    await expectResponse(
      request(t.url)
        .get('/protected')
        .set(bearer(await t.jwt.createRefreshToken('alice'))),
      400,
      {
        loader: 'invalid',
        reason: 'Only non-refresh tokens are allowed',
      },
    );
  });
  it('expiredToken gets the header and payload', async () =>
    expectResponse(
      request(t.url)
        .get('/protected')
        .set(bearer(await t.jwt.createAccessToken('alice', { expiresDelta: -5 }))),
      419,
      {
        loader: 'expired',
        alg: 'HS256',
        sub: 'alice',
      },
    ));
  it('needsFreshToken', async () =>
    expectResponse(
      request(t.url)
        .get('/fresh')
        .set(bearer(await t.jwt.createAccessToken('alice'))),
      403,
      { loader: 'fresh', sub: 'alice' },
    ));
  it('revokedToken', async () => {
    const token = await t.jwt.createAccessToken('revoked');
    await expectResponse(request(t.url).get('/protected').set(bearer(token)), 410, { loader: 'revoked', jti: t.jwt.getJti(token) });
  });
  it('tokenVerificationFailed', async () =>
    expectResponse(
      request(t.url)
        .get('/protected')
        .set(bearer(await t.jwt.createAccessToken('unverified'))),
      418,
      {
        loader: 'verification',
        sub: 'unverified',
      },
    ));
  it('userLookupError', async () =>
    expectResponse(
      request(t.url)
        .get('/protected')
        .set(bearer(await t.jwt.createAccessToken('ghost'))),
      404,
      { loader: 'user', sub: 'ghost' },
    ));
  it('shapes exceptions from decodeToken inside a handler', async () => {
    await expectResponse(request(t.url).get('/decode').query({ token: 'nope' }), 400, { loader: 'invalid', reason: 'Not enough segments' });
    const expired = await t.jwt.createAccessToken('alice', { expiresDelta: -5 });
    await expectResponse(request(t.url).get('/decode').query({ token: expired }), 419, { loader: 'expired', alg: 'HS256', sub: 'alice' });
  });
  it('shapes exceptions from verifyJwtInRequest inside a handler', () =>
    expectResponse(request(t.url).get('/manual'), 201, { loader: 'unauthorized', reason: 'Missing Authorization Header' }));
});

@Injectable()
class Broken implements UnauthorizedLoader, InvalidTokenLoader {
  onUnauthorized(): HttpException {
    throw new Error('loader bug');
  }
  onInvalidToken() {
    return 'not an exception' as unknown as HttpException;
  }
}

describe.each(ADAPTERS)('error-response loaders that misbehave (%s)', (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(adapter, { controllers: [Routes], loaders: { unauthorized: Broken, invalidToken: Broken } });
  });
  afterAll(() => t.close());
  it('a throwing loader fails closed with 500', async () => {
    const before = runs;
    const res = await request(t.url).get('/protected');
    expect(res.status).toBe(500);
    expect(runs).toBe(before);
  });
  it('a loader returning something else than an HttpException fails closed with 500', async () => {
    const before = runs;
    const res = await request(t.url).get('/protected').set('Authorization', 'Bearer x.y');
    expect(res.status).toBe(500);
    expect(runs).toBe(before);
  });
});

describe.each(ADAPTERS)('errorMessageKey (%s)', (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(adapter, { controllers: [Routes], options: { errorMessageKey: 'error' } });
  });
  afterAll(() => t.close());
  it('keys every default body', async () => {
    await expectResponse(request(t.url).get('/protected'), 401, { error: 'Missing Authorization Header' });
    await expectResponse(request(t.url).get('/protected').set('Authorization', 'Bearer x.y'), 422, { error: 'Not enough segments' });
    await expectResponse(
      request(t.url)
        .get('/fresh')
        .set('Authorization', `Bearer ${await t.jwt.createAccessToken('a')}`),
      401,
      {
        error: 'Fresh token required',
      },
    );
  });
});
