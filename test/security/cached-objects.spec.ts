import { type ArgumentsHost, Catch, Controller, type ExceptionFilter, Get, HttpCode, Injectable, Post, Query } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { beforeEach, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  type BlocklistLoader,
  CsrfException,
  Jwt,
  JwtExtendedException,
  JwtExtendedService,
  JwtHeader,
  type JwtPayload,
  type JwtProtectedHeader,
  JwtRequired,
  type TokenVerificationLoader,
  type UserLookupLoader,
} from '../../lib/index.js';
import { ADAPTERS, SECRET, useTestApp } from '../support/app.js';
import { accessCookie, bearer, expectResponse, handlerRuns } from '../support/http.js';
import { createService } from '../support/service.js';

/*
 * Defect 9.8: with the verified-token cache on, exceptions carried the cache entry's own header
 * and payload, so an exception filter that redacted them in place changed `csrf`, `sub`, `fresh`
 * for every later request with that token. Whatever user code (filters, handlers, loaders) does
 * to what it is handed, a later request sees the token as it was signed.
 */

const MISMATCH = { msg: 'CSRF double submit tokens do not match' };

/** What a careless or malicious filter/handler/loader does to the objects it receives. */
function vandalise(object: Record<string, unknown> | undefined): void {
  if (!object) return;
  for (const value of Object.values(object)) {
    // nested claim values are frozen: these throw, and must change nothing either way
    if (Array.isArray(value)) expect(() => value.push('admin')).toThrow(TypeError);
    else if (typeof value === 'object' && value !== null) expect(() => Object.assign(value, { admin: true })).toThrow(TypeError);
  }
  Object.assign(object, { csrf: 'redacted', sub: 'admin', fresh: true, type: 'refresh', alg: 'none', kid: 'evil' });
  delete object.exp;
}

/** An exception filter that redacts the token data of every library exception in place. */
@Catch(JwtExtendedException)
class RedactingFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}
  catch(exception: JwtExtendedException, host: ArgumentsHost) {
    vandalise(exception.jwtHeader);
    vandalise(exception.jwtPayload);
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), exception.getResponse(), exception.getStatus());
  }
}

/** What each loader saw, before it vandalised its arguments. */
const loaderSaw: { sub: unknown; csrf: unknown; fresh: unknown; kid: unknown }[] = [];

@Injectable()
class VandalLoaders implements BlocklistLoader, TokenVerificationLoader, UserLookupLoader {
  private see(header: JwtProtectedHeader, payload: Record<string, unknown>) {
    loaderSaw.push({ sub: payload.sub, csrf: payload.csrf, fresh: payload.fresh, kid: header.kid });
  }
  isTokenRevoked(header: JwtProtectedHeader, payload: Record<string, unknown>) {
    this.see(header, payload);
    vandalise(header);
    vandalise(payload);
    return false;
  }
  verifyToken(header: JwtProtectedHeader, payload: Record<string, unknown>) {
    this.see(header, payload);
    return true;
  }
  lookupUser(header: JwtProtectedHeader, payload: Record<string, unknown>) {
    this.see(header, payload);
    return { id: 'user' };
  }
}

const claimsOf = (jwt: JwtPayload, header: JwtProtectedHeader) => ({
  sub: jwt.sub,
  csrf: jwt.csrf,
  fresh: jwt.fresh,
  type: jwt.type,
  roles: jwt.roles,
  exp: typeof jwt.exp,
  kid: header.kid,
  alg: header.alg,
});

@Controller()
class ClaimsController {
  constructor(private readonly jwt: JwtExtendedService) {}

  @Get('me')
  @JwtRequired()
  me(@Jwt() jwt: JwtPayload, @JwtHeader() header: JwtProtectedHeader) {
    handlerRuns.record('me');
    const seen = claimsOf(jwt, header);
    vandalise(jwt);
    vandalise(header);
    return seen;
  }

  @Post('cookie')
  @HttpCode(200)
  @JwtRequired({ locations: 'cookies' })
  cookie(@Jwt() jwt: JwtPayload, @JwtHeader() header: JwtProtectedHeader) {
    handlerRuns.record('cookie');
    return claimsOf(jwt, header);
  }

  @Get('fresh')
  @JwtRequired({ fresh: true })
  fresh() {
    handlerRuns.record('fresh');
    return { ok: true };
  }

  @Post('refresh')
  @HttpCode(200)
  @JwtRequired({ refresh: true })
  refresh() {
    handlerRuns.record('refresh');
    return { ok: true };
  }

  /** `decodeToken` inside a handler: its exceptions reach the filter too. */
  @Get('decode')
  async decode(@Query('token') token: string, @Query('csrf') csrf: string) {
    const payload = await this.jwt.decodeToken(token, { csrfValue: csrf });
    handlerRuns.record('decode');
    return payload;
  }
}

describe.each(ADAPTERS)('objects handed to user code never change a later request (%s)', (adapter) => {
  const t = useTestApp(adapter, {
    controllers: [ClaimsController],
    // keyId: the kid these tokens carry must be one this app verifies with (§11)
    options: { tokenLocation: ['headers', 'cookies'], keyId: 'k1' },
    beforeInit: (app) => {
      app.useGlobalFilters(new RedactingFilter(app.get(HttpAdapterHost)));
    },
  });
  beforeEach(() => {
    loaderSaw.length = 0;
  });

  const tokenWithRoles = () =>
    t.jwt.createAccessToken('alice', { additionalClaims: { roles: ['user'] }, additionalHeaders: { kid: 'k1' } });
  const expectedClaims = (token: string) => ({
    sub: 'alice',
    csrf: t.jwt.getCsrfToken(token),
    fresh: false,
    type: 'access',
    roles: ['user'],
    exp: 'number',
    kid: 'k1',
    alg: 'HS256',
  });

  function post(token: string, csrf?: string) {
    const req = request(t.url).post('/cookie').set(accessCookie(token));
    return csrf === undefined ? req : req.set('X-CSRF-TOKEN', csrf);
  }
  const me = (token: string) => request(t.url).get('/me').set(bearer(token));

  describe.each([
    ['the failing request comes first (cache miss)', false],
    ['a good request comes first (the failing one is a cache hit)', true],
  ])('CSRF: a filter redacting the csrf claim never makes "redacted" a valid CSRF value — %s', (_order, warmFirst) => {
    it('refuses the redacted value, still accepts the real one, and claims stay as signed', async () => {
      const token = await tokenWithRoles();
      const csrf = t.jwt.getCsrfToken(token);
      if (warmFirst) await expectResponse(post(token, csrf), 200, expectedClaims(token), 'cookie');
      await expectResponse(post(token, 'wrong'), 401, MISMATCH, []);
      await expectResponse(post(token, 'redacted'), 401, MISMATCH, []);
      await expectResponse(post(token), 401, { msg: 'Missing CSRF token' }, []);
      await expectResponse(post(token, csrf), 200, expectedClaims(token), 'cookie');
      await expectResponse(me(token), 200, expectedClaims(token), 'me');
    });
  });

  it.each([false, true])(
    'fresh: a filter setting fresh on a "Fresh token required" never makes the token fresh (warm first: %s)',
    async (warm) => {
      const token = await tokenWithRoles();
      if (warm) await expectResponse(me(token), 200, expectedClaims(token), 'me');
      for (let i = 0; i < 3; i++) {
        await expectResponse(request(t.url).get('/fresh').set(bearer(token)), 401, { msg: 'Fresh token required' }, []);
      }
      await expectResponse(me(token), 200, expectedClaims(token), 'me');
    },
  );

  it('type: a filter rewriting type on a wrong-type error never turns an access token into a refresh token', async () => {
    const access = await tokenWithRoles();
    for (let i = 0; i < 3; i++) {
      await expectResponse(request(t.url).post('/refresh').set(bearer(access)), 422, { msg: 'Only refresh tokens are allowed' }, []);
    }
    const refresh = await t.jwt.createRefreshToken('alice');
    for (let i = 0; i < 3; i++) {
      await expectResponse(me(refresh), 422, { msg: 'Only non-refresh tokens are allowed' }, []);
    }
    await expectResponse(request(t.url).post('/refresh').set(bearer(refresh)), 200, { ok: true }, 'refresh');
    await expectResponse(me(access), 200, expectedClaims(access), 'me');
  });

  it('a handler vandalising @Jwt() and @JwtHeader() never changes the next request', async () => {
    const token = await tokenWithRoles();
    for (let i = 0; i < 3; i++) await expectResponse(me(token), 200, expectedClaims(token), 'me');
  });

  it('decodeToken in a handler: a filter redacting its CsrfException never makes "redacted" valid', async () => {
    const token = await tokenWithRoles();
    const decode = (csrf: string) => request(t.url).get('/decode').query({ token, csrf });
    await expectResponse(decode('wrong'), 401, MISMATCH, []);
    await expectResponse(decode('redacted'), 401, MISMATCH, []);
    await expectResponse(
      decode(t.jwt.getCsrfToken(token)),
      200,
      expect.objectContaining({ sub: 'alice', csrf: t.jwt.getCsrfToken(token), fresh: false, type: 'access', roles: ['user'] }),
      'decode',
    );
  });
});

describe.each(ADAPTERS)('loaders vandalising their arguments never change a later request (%s)', (adapter) => {
  const t = useTestApp(adapter, {
    controllers: [ClaimsController],
    loaders: { blocklist: VandalLoaders, tokenVerification: VandalLoaders, userLookup: VandalLoaders },
    options: { keyId: 'k2' },
  });
  beforeEach(() => {
    loaderSaw.length = 0;
  });

  it('every request hands the loaders the token as signed', async () => {
    const token = await t.jwt.createAccessToken('bob', { additionalHeaders: { kid: 'k2' } });
    const asSigned = { sub: 'bob', csrf: t.jwt.getCsrfToken(token), fresh: false, kid: 'k2' };
    for (let i = 0; i < 3; i++) await expectResponse(request(t.url).get('/me').set(bearer(token)), 200, expect.anything(), 'me');
    // three loaders a request; the blocklist loader (first) vandalises, so only it is guaranteed the original
    expect(loaderSaw.filter((_, i) => i % 3 === 0)).toEqual([asSigned, asSigned, asSigned]);
  });
});

describe.each([
  ['cache on', 10_000],
  ['cache off', 0],
])('decodeToken hands out the same kind of objects either way (%s)', (_name, tokenCacheSize) => {
  it('a new top-level object per call, nested values frozen, exceptions with their own copies', async () => {
    const jwt = await createService({ secretKey: SECRET, tokenCacheSize });
    const token = await jwt.createAccessToken('x', { additionalClaims: { roles: ['user'], profile: { tier: 'gold' } } });
    const results = [await jwt.decodeToken(token), await jwt.decodeToken(token), await jwt.decodeToken(token)];
    for (const payload of results) {
      expect(Object.isFrozen(payload)).toBe(false);
      expect(Object.isFrozen(payload.roles)).toBe(true);
      expect(Object.isFrozen(payload.profile)).toBe(true);
      expect(payload).toMatchObject({ sub: 'x', type: 'access', fresh: false, roles: ['user'], profile: { tier: 'gold' } });
    }
    expect(new Set(results).size).toBe(3);
    results[0].sub = 'admin';
    expect(results[1].sub).toBe('x');

    const failure = await jwt.decodeToken(token, { csrfValue: 'wrong' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CsrfException);
    const { jwtPayload } = failure as CsrfException;
    expect(jwtPayload).not.toBe(results[1]);
    jwtPayload!.csrf = 'redacted';
    await expect(jwt.decodeToken(token, { csrfValue: 'redacted' })).rejects.toBeInstanceOf(CsrfException);
    await expect(jwt.decodeToken(token, { csrfValue: jwt.getCsrfToken(token) })).resolves.toMatchObject({ sub: 'x' });
  });
});
