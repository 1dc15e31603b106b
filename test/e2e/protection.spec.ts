import { All, Controller, Get, Injectable, Post, Req, Res } from '@nestjs/common';
import { beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  type BlocklistLoader,
  CurrentUser,
  Jwt,
  JwtExtendedService,
  JwtHeader,
  JwtIdentity,
  JwtLocation,
  JwtRequired,
  type JwtPayload,
  type JwtProtectedHeader,
  type TokenVerificationLoader,
  type UserLookupLoader,
} from '../../lib/index.js';
import { ADAPTERS, SECRET, useTestApp } from '../support/app.js';
import { forgeHmac, now } from '../support/forge.js';
import { INTERNAL_ERROR, bearer, expectResponse, handlerRuns } from '../support/http.js';

const revoked = new Set<string>();
const users: Record<string, { name: string }> = { alice: { name: 'Alice' } };
const seenByLoaders: string[] = [];

@Injectable()
class Checks implements BlocklistLoader, TokenVerificationLoader, UserLookupLoader<{ name: string }> {
  async isTokenRevoked(_header: JwtProtectedHeader, payload: JwtPayload) {
    seenByLoaders.push('blocklist');
    return revoked.has(String(payload.jti));
  }
  verifyToken(_header: JwtProtectedHeader, payload: JwtPayload) {
    seenByLoaders.push('verification');
    return payload.banned !== true;
  }
  async lookupUser(_header: JwtProtectedHeader, payload: JwtPayload) {
    seenByLoaders.push('lookup');
    return users[String(payload.sub)] ?? null;
  }
}

@Controller()
class ProtectedController {
  constructor(private readonly jwt: JwtExtendedService) {}

  @Get('me')
  @JwtRequired()
  me(@CurrentUser() user: unknown, @Req() req: { user?: unknown }) {
    handlerRuns.record('me');
    return { user, requestUser: req.user, viaService: this.jwt.getCurrentUser(req) };
  }
  @Post('refresh')
  @JwtRequired({ refresh: true })
  refresh(@JwtIdentity() id: unknown) {
    handlerRuns.record('refresh');
    return { id };
  }
  @Get('fresh')
  @JwtRequired({ fresh: true })
  fresh() {
    handlerRuns.record('fresh');
    return { ok: true };
  }
  @Get('any-type')
  @JwtRequired({ verifyType: false })
  anyType(@Jwt() jwt: JwtPayload) {
    handlerRuns.record('any-type');
    return { type: jwt.type };
  }
  @Get('no-revocation-check')
  @JwtRequired({ skipRevocationCheck: true })
  noRevocationCheck() {
    handlerRuns.record('no-revocation-check');
    return { ok: true };
  }
  @Get('optional')
  @JwtRequired({ optional: true })
  optional(
    @Jwt() jwt: unknown,
    @JwtHeader() header: unknown,
    @JwtIdentity() id: unknown,
    @JwtLocation() loc: unknown,
    @CurrentUser() user: unknown,
    @Req() req: object,
  ) {
    handlerRuns.record('optional');
    return {
      jwt,
      header,
      id,
      loc,
      user,
      serviceJwt: this.jwt.getJwt(req),
      serviceHeader: this.jwt.getJwtHeader(req),
      serviceLoc: this.jwt.getJwtRequestLocation(req),
    };
  }
  @All('preflight')
  @JwtRequired()
  preflight() {
    handlerRuns.record('preflight');
    return { ok: true };
  }
  @Get('unprotected-reads-jwt')
  unprotected(@Req() req: object) {
    const jwt = this.jwt.getJwt(req);
    handlerRuns.record('unprotected');
    return jwt;
  }
  @Get('manual')
  async manual(@Req() req: object) {
    const verified = await this.jwt.verifyJwtInRequest(req, { fresh: true });
    handlerRuns.record('manual');
    return { sub: verified?.payload.sub, identity: this.jwt.getJwtIdentity(req) };
  }
  @Get('views')
  @JwtRequired()
  views(@Res({ passthrough: true }) res: { locals?: Record<string, unknown> }) {
    handlerRuns.record('views');
    return { currentUser: res.locals?.currentUser };
  }
}

@Controller('class-level')
@JwtRequired({ fresh: true })
class ClassLevelController {
  @Get('inherits')
  inherits() {
    handlerRuns.record('class-inherits');
    return { ok: true };
  }
  @Get('override')
  @JwtRequired({ fresh: false, optional: true })
  override(@JwtIdentity() id: unknown) {
    handlerRuns.record('class-override');
    return { id };
  }
}

@Controller()
class NoLookupController {
  @Get('user')
  @JwtRequired()
  user(@CurrentUser() user: unknown) {
    handlerRuns.record('no-lookup-user');
    return { user };
  }
}

describe.each(ADAPTERS)('route protection (%s)', (adapter) => {
  const t = useTestApp(adapter, {
    controllers: [ProtectedController, ClassLevelController],
    loaders: { blocklist: Checks, tokenVerification: Checks, userLookup: Checks },
    options: { exposeCurrentUserToViews: true },
  });
  let access: string;

  beforeAll(async () => {
    access = await t.jwt.createAccessToken('alice');
  });
  beforeEach(() => {
    seenByLoaders.length = 0;
  });

  it('loads the user: @CurrentUser(), request.user and getCurrentUser agree', () =>
    expectResponse(
      request(t.url).get('/me').set(bearer(access)),
      200,
      { user: { name: 'Alice' }, requestUser: { name: 'Alice' }, viaService: { name: 'Alice' } },
      'me',
    ));
  it('401 when the user lookup finds nobody', async () =>
    expectResponse(
      request(t.url)
        .get('/me')
        .set(bearer(await t.jwt.createAccessToken('mallory'))),
      401,
      { msg: 'Error loading the user mallory' },
      [],
    ));
  it('401 for an expired token', async () =>
    expectResponse(
      request(t.url)
        .get('/me')
        .set(bearer(await t.jwt.createAccessToken('alice', { expiresDelta: -1 }))),
      401,
      { msg: 'Token has expired' },
      [],
    ));
  it('422 for a refresh token on an access route', async () =>
    expectResponse(
      request(t.url)
        .get('/me')
        .set(bearer(await t.jwt.createRefreshToken('alice'))),
      422,
      { msg: 'Only non-refresh tokens are allowed' },
      [],
    ));
  it('422 for an access token on a refresh route', () =>
    expectResponse(request(t.url).post('/refresh').set(bearer(access)), 422, { msg: 'Only refresh tokens are allowed' }, []));
  it('accepts a refresh token on a refresh route', async () =>
    expectResponse(
      request(t.url)
        .post('/refresh')
        .set(bearer(await t.jwt.createRefreshToken('alice'))),
      201,
      { id: 'alice' },
      'refresh',
    ));
  it('verifyType: false accepts either type', async () =>
    expectResponse(
      request(t.url)
        .get('/any-type')
        .set(bearer(await t.jwt.createRefreshToken('alice'))),
      200,
      { type: 'refresh' },
      'any-type',
    ));
  it('type must be exactly "refresh" to count as refresh', async () => {
    const odd = forgeHmac({ alg: 'HS256' }, { sub: 'alice', type: 'REFRESH', exp: now() + 60 }, SECRET);
    await expectResponse(request(t.url).post('/refresh').set(bearer(odd)), 422, { msg: 'Only refresh tokens are allowed' }, []);
  });

  it('fresh routes: 401 for non-fresh, stale-timestamp or string fresh; 200 for true or future timestamp', async () => {
    const notFresh = { msg: 'Fresh token required' };
    await expectResponse(request(t.url).get('/fresh').set(bearer(access)), 401, notFresh, []);
    await expectResponse(
      request(t.url)
        .get('/fresh')
        .set(bearer(await t.jwt.createAccessToken('alice', { fresh: -10 }))),
      401,
      notFresh,
      [],
    );
    for (const fresh of ['true', 1, [true], { a: 1 }]) {
      const odd = forgeHmac({ alg: 'HS256' }, { sub: 'alice', fresh }, SECRET);
      await expectResponse(request(t.url).get('/fresh').set(bearer(odd)), 401, notFresh, []);
    }
    await expectResponse(
      request(t.url)
        .get('/fresh')
        .set(bearer(await t.jwt.createAccessToken('alice', { fresh: true }))),
      200,
      { ok: true },
      'fresh',
    );
    await expectResponse(
      request(t.url)
        .get('/fresh')
        .set(bearer(await t.jwt.createAccessToken('alice', { fresh: 300 }))),
      200,
      { ok: true },
      'fresh',
    );
  });

  it('checks in order: type before freshness', async () =>
    expectResponse(
      request(t.url)
        .get('/fresh')
        .set(bearer(await t.jwt.createRefreshToken('alice'))),
      422,
      { msg: 'Only non-refresh tokens are allowed' },
      [],
    ));

  it('401 for a revoked token; skipRevocationCheck skips the blocklist only', async () => {
    const token = await t.jwt.createAccessToken('alice');
    revoked.add(t.jwt.getJti(token)!);
    await expectResponse(request(t.url).get('/me').set(bearer(token)), 401, { msg: 'Token has been revoked' }, []);
    expect(seenByLoaders).toEqual(['blocklist']);
    seenByLoaders.length = 0;
    await expectResponse(request(t.url).get('/no-revocation-check').set(bearer(token)), 200, { ok: true }, 'no-revocation-check');
    expect(seenByLoaders).toEqual(['verification', 'lookup']);
  });

  it('400 when tokenVerification says no, before the user lookup', async () => {
    const banned = await t.jwt.createAccessToken('alice', { additionalClaims: { banned: true } });
    await expectResponse(request(t.url).get('/me').set(bearer(banned)), 400, { msg: 'User claims verification failed' }, []);
    expect(seenByLoaders).toEqual(['blocklist', 'verification']);
  });

  it('optional: no token runs the handler with empty values', () =>
    expectResponse(
      request(t.url).get('/optional'),
      200,
      { jwt: {}, header: {}, id: null, loc: null, user: null, serviceJwt: {}, serviceHeader: {}, serviceLoc: null },
      'optional',
    ));
  it('optional: a present token is verified and exposed', () =>
    expectResponse(
      request(t.url).get('/optional').set(bearer(access)),
      200,
      expect.objectContaining({ id: 'alice', loc: 'headers', user: { name: 'Alice' }, header: { alg: 'HS256', typ: 'JWT' } }),
      'optional',
    ));
  it('optional: a bad token still fails', () =>
    expectResponse(request(t.url).get('/optional').set('Authorization', 'Bearer x.y.z'), 422, { msg: 'Invalid header padding' }, []));

  it('OPTIONS requests are verified like any other, preflight headers or not', async () => {
    const missing = { msg: 'Missing Authorization Header' };
    const preflightLike = () =>
      request(t.url).options('/preflight').set('Origin', 'http://x.test').set('Access-Control-Request-Method', 'POST');
    await expectResponse(preflightLike(), 401, missing, []);
    await expectResponse(request(t.url).options('/preflight'), 401, missing, []);
    await expectResponse(request(t.url).post('/preflight'), 401, missing, []);
    await expectResponse(preflightLike().set(bearer(access)), 200, { ok: true }, 'preflight');
  });

  it('handler options override class options', async () => {
    await expectResponse(request(t.url).get('/class-level/inherits').set(bearer(access)), 401, { msg: 'Fresh token required' }, []);
    await expectResponse(request(t.url).get('/class-level/override').set(bearer(access)), 200, { id: 'alice' }, 'class-override');
    await expectResponse(request(t.url).get('/class-level/override'), 200, { id: null }, 'class-override');
  });

  it('getJwt on a route that never verified is a 500, not data', () =>
    expectResponse(request(t.url).get('/unprotected-reads-jwt').set(bearer(access)), 500, INTERNAL_ERROR, [], { hides: access }));

  it('verifyJwtInRequest inside a handler uses the same checks', async () => {
    await expectResponse(request(t.url).get('/manual').set(bearer(access)), 401, { msg: 'Fresh token required' }, []);
    await expectResponse(
      request(t.url)
        .get('/manual')
        .set(bearer(await t.jwt.createAccessToken('alice', { fresh: true }))),
      200,
      { sub: 'alice', identity: 'alice' },
      'manual',
    );
  });

  it('exposeCurrentUserToViews puts the user in the view locals', () =>
    expectResponse(request(t.url).get('/views').set(bearer(access)), 200, { currentUser: { name: 'Alice' } }, 'views'));
});

describe.each(ADAPTERS)('without a userLookup loader (%s)', (adapter) => {
  const t = useTestApp(adapter, { controllers: [NoLookupController] });
  it('@CurrentUser() fails with 500 (the log says a userLookup loader is needed)', async () =>
    expectResponse(
      request(t.url)
        .get('/user')
        .set(bearer(await t.jwt.createAccessToken('alice'))),
      500,
      INTERNAL_ERROR,
      [],
    ));
  it('getCurrentUser says why', async () => {
    const req = { headers: { authorization: `Bearer ${await t.jwt.createAccessToken('alice')}` }, method: 'GET' };
    await t.jwt.verifyJwtInRequest(req);
    expect(() => t.jwt.getCurrentUser(req)).toThrow(/userLookup/);
    expect(t.jwt.getJwtIdentity(req)).toBe('alice');
    expect(() => t.jwt.getJwt({ headers: {} })).toThrow(/@JwtRequired\(\)/);
  });
});
