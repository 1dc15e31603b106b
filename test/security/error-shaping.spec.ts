import {
  type ArgumentsHost,
  type CanActivate,
  Catch,
  Controller,
  type ExceptionFilter,
  type ExecutionContext,
  Get,
  HttpException,
  type HttpServer,
  Injectable,
  type INestApplication,
  type MiddlewareConsumer,
  Module,
  type NestMiddleware,
  type NestModule,
  Query,
  Req,
  UseGuards,
} from '@nestjs/common';
import { APP_FILTER, HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  type BlocklistLoader,
  CsrfException,
  ExpiredTokenException,
  JwtDecodeException,
  JwtErrorFilter,
  JwtExtendedException,
  JwtExtendedModule,
  JwtExtendedService,
  type JwtExtendedLoaders,
  type JwtPayload,
  type JwtProtectedHeader,
  JwtRequired,
  JwtUnavailableException,
  LoaderTimeoutException,
  NoAuthorizationException,
} from '../../lib/index.js';
import { ADAPTERS, SECRET, createTestApp, useTestApp, type TestApp } from '../support/app.js';
import { forgeHmac, now } from '../support/forge.js';
import { INTERNAL_ERROR, bearer, expectResponse, handlerRuns } from '../support/http.js';
import { type EveryErrorLoader, HangingBlocklist, SUBJECT_CHECKS, inEveryErrorRole } from '../support/loaders.js';

/*
 * Error loaders shape every library exception that reaches Nest, wherever it was thrown
 * (CONTRACT §8, §17): JwtGuard, a custom guard or middleware calling verifyJwtInRequest,
 * a handler calling verifyJwtInRequest or decodeToken. Code that catches the exception
 * itself still gets the §6 class, and the loaders are not consulted for it.
 */

/** What each error loader was asked: its role and the §6 reason (or the token's subject). */
const asked: string[] = [];

/** Every shaped response is a status and body that no §6 default has. */
const SHAPED = {
  unauthorized: 440,
  invalidToken: 441,
  expiredToken: 442,
  needsFreshToken: 443,
  revokedToken: 444,
  tokenVerificationFailed: 445,
  userLookupError: 446,
} as const;
type ErrorRole = keyof typeof SHAPED;
const shaped = (role: ErrorRole) => new HttpException({ shaped: role }, SHAPED[role]);

@Injectable()
class Shapes implements EveryErrorLoader {
  onUnauthorized(reason: string) {
    asked.push(`unauthorized: ${reason}`);
    return shaped('unauthorized');
  }
  async onInvalidToken(reason: string) {
    asked.push(`invalidToken: ${reason}`);
    return shaped('invalidToken');
  }
  onExpiredToken(_h: JwtProtectedHeader, payload: JwtPayload) {
    asked.push(`expiredToken: ${String(payload.sub)}`);
    return shaped('expiredToken');
  }
  onNeedsFreshToken(_h: JwtProtectedHeader, payload: JwtPayload) {
    asked.push(`needsFreshToken: ${String(payload.sub)}`);
    return shaped('needsFreshToken');
  }
  async onRevokedToken(_h: JwtProtectedHeader, payload: JwtPayload) {
    asked.push(`revokedToken: ${String(payload.sub)}`);
    return shaped('revokedToken');
  }
  onTokenVerificationFailed(_h: JwtProtectedHeader, payload: JwtPayload) {
    asked.push(`tokenVerificationFailed: ${String(payload.sub)}`);
    return shaped('tokenVerificationFailed');
  }
  onUserLookupError(_h: JwtProtectedHeader, payload: JwtPayload) {
    asked.push(`userLookupError: ${String(payload.sub)}`);
    return shaped('userLookupError');
  }
}

const ALL_ERROR_LOADERS = inEveryErrorRole(Shapes);

/** How code that catches a library exception sees it. */
function describeCaught(error: unknown) {
  const e = error as JwtExtendedException;
  return {
    class: e.constructor.name,
    isLibraryException: e instanceof JwtExtendedException,
    status: e.getStatus(),
    body: e.getResponse(),
    reason: e.reason,
  };
}

/** A custom guard, as an app writes one around verifyJwtInRequest. */
@Injectable()
class VerifyingGuard implements CanActivate {
  constructor(private readonly jwt: JwtExtendedService) {}
  async canActivate(context: ExecutionContext) {
    await this.jwt.verifyJwtInRequest(context.switchToHttp().getRequest(), { fresh: true });
    return true;
  }
}

/** A custom guard that handles the failure itself. */
@Injectable()
class CatchingGuard implements CanActivate {
  constructor(private readonly jwt: JwtExtendedService) {}
  async canActivate(context: ExecutionContext) {
    const req = context.switchToHttp().getRequest<{ caught?: unknown }>();
    try {
      await this.jwt.verifyJwtInRequest(req, { fresh: true });
    } catch (error) {
      req.caught = describeCaught(error);
    }
    return true;
  }
}

/** Nest middleware (both adapters hand it the Node request and response). */
@Injectable()
class VerifyingMiddleware implements NestMiddleware {
  constructor(private readonly jwt: JwtExtendedService) {}
  async use(req: object, _res: unknown, next: () => void) {
    await this.jwt.verifyJwtInRequest(req, { fresh: true });
    next();
  }
}

@Injectable()
class CatchingMiddleware implements NestMiddleware {
  constructor(private readonly jwt: JwtExtendedService) {}
  async use(req: object, res: { statusCode: number; setHeader(n: string, v: string): void; end(b: string): void }) {
    try {
      await this.jwt.verifyJwtInRequest(req, { fresh: true });
      res.statusCode = 204;
      res.end('');
    } catch (error) {
      res.statusCode = 200;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(describeCaught(error)));
    }
  }
}

class MyError extends Error {}

@Controller()
class Routes {
  constructor(private readonly jwt: JwtExtendedService) {}

  @Get('guard')
  @JwtRequired({ fresh: true })
  guard() {
    handlerRuns.record('guard');
    return { ok: true };
  }

  @Get('custom-guard')
  @UseGuards(VerifyingGuard)
  customGuard() {
    handlerRuns.record('custom-guard');
    return { ok: true };
  }

  @Get('middleware')
  middleware() {
    handlerRuns.record('middleware');
    return { ok: true };
  }

  @Get('in-handler')
  async inHandler(@Req() req: object) {
    await this.jwt.verifyJwtInRequest(req, { fresh: true });
    handlerRuns.record('in-handler');
    return { ok: true };
  }

  @Get('decode')
  async decode(@Query('token') token: string) {
    await this.jwt.decodeToken(token);
    handlerRuns.record('decode');
    return { ok: true };
  }

  @Get('catch/decode')
  async catchDecode(@Query('token') token: string) {
    try {
      return await this.jwt.decodeToken(token);
    } catch (error) {
      return describeCaught(error);
    }
  }

  @Get('catch/in-handler')
  async catchInHandler(@Req() req: object) {
    try {
      return await this.jwt.verifyJwtInRequest(req, { fresh: true });
    } catch (error) {
      return describeCaught(error);
    }
  }

  @Get('catch/custom-guard')
  @UseGuards(CatchingGuard)
  catchCustomGuard(@Req() req: { caught?: unknown }) {
    return req.caught;
  }

  @Get('catch/middleware')
  catchMiddleware() {
    handlerRuns.record('catch/middleware');
    return { unreachable: true };
  }

  @Get('boom')
  boom() {
    throw new Error('not a library error');
  }

  @Get('mine')
  mine() {
    throw new MyError('mine');
  }
}

@Module({ controllers: [Routes], providers: [VerifyingGuard, CatchingGuard] })
class RoutesModule implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    consumer.apply(VerifyingMiddleware).forRoutes('middleware');
    consumer.apply(CatchingMiddleware).forRoutes('catch/middleware');
  }
}

/** A user's catch-all filter: answers every exception it is given, and says what it got. */
@Catch()
class CatchAllFilter implements ExceptionFilter {
  constructor(private readonly http: () => HttpServer) {}
  catch(exception: unknown, host: ArgumentsHost) {
    const status = exception instanceof HttpException ? exception.getStatus() : 500;
    const body = { caughtBy: 'app filter', class: (exception as object).constructor.name, status };
    this.http().reply(host.switchToHttp().getResponse(), body, 299);
  }
}

/** A user's filter for its own errors only. */
@Catch(MyError)
class MyErrorFilter implements ExceptionFilter {
  constructor(private readonly http: () => HttpServer) {}
  catch(_exception: MyError, host: ArgumentsHost) {
    this.http().reply(host.switchToHttp().getResponse(), { caughtBy: 'my error filter' }, 298);
  }
}

/** Tokens for every §6 situation that a request can end in. */
async function tokens(jwt: JwtExtendedService) {
  const fresh = (sub: string) => jwt.createAccessToken(sub, { fresh: true });
  return {
    valid: await fresh('alice'),
    expired: await jwt.createAccessToken('alice', { fresh: true, expiresDelta: -30 }),
    stale: await jwt.createAccessToken('alice'),
    refresh: await jwt.createRefreshToken('alice'),
    revoked: await fresh('revoked'),
    unverified: await fresh('unverified'),
    ghost: await fresh('ghost'),
    badSignature: forgeHmac(
      { alg: 'HS256', typ: 'JWT' },
      { sub: 'alice', type: 'access', fresh: true, jti: 'j', iat: now(), nbf: now(), exp: now() + 600 },
      'another-secret-that-is-32-bytes-long!!',
    ),
  };
}
type Tokens = Awaited<ReturnType<typeof tokens>>;

interface Situation {
  name: string;
  /** The credentials headers, from the tokens (none for a missing token). */
  credentials?: (t: Tokens) => Record<string, string>;
  role: ErrorRole;
  /** What the loader is asked: the §6 reason, or the token's subject. */
  asked: string;
  /** The §6 default: status and message. */
  status: number;
  message: string;
}

const REQUEST_SITUATIONS: Situation[] = [
  {
    name: 'missing token',
    role: 'unauthorized',
    asked: 'Missing Authorization Header',
    status: 401,
    message: 'Missing Authorization Header',
  },
  {
    name: 'header without Bearer',
    credentials: () => ({ Authorization: 'Basic abc' }),
    role: 'unauthorized',
    asked: "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'",
    status: 401,
    message: "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'",
  },
  {
    name: 'bad header',
    credentials: () => ({ Authorization: 'Bearer a b' }),
    role: 'invalidToken',
    asked: "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'",
    status: 422,
    message: "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'",
  },
  {
    name: 'malformed token',
    credentials: () => ({ Authorization: 'Bearer x.y' }),
    role: 'invalidToken',
    asked: 'Not enough segments',
    status: 422,
    message: 'Not enough segments',
  },
  {
    name: 'bad signature',
    credentials: (t) => bearer(t.badSignature),
    role: 'invalidToken',
    asked: 'Signature verification failed',
    status: 422,
    message: 'Signature verification failed',
  },
  {
    name: 'refresh token',
    credentials: (t) => bearer(t.refresh),
    role: 'invalidToken',
    asked: 'Only non-refresh tokens are allowed',
    status: 422,
    message: 'Only non-refresh tokens are allowed',
  },
  {
    name: 'expired',
    credentials: (t) => bearer(t.expired),
    role: 'expiredToken',
    asked: 'alice',
    status: 401,
    message: 'Token has expired',
  },
  {
    name: 'not fresh',
    credentials: (t) => bearer(t.stale),
    role: 'needsFreshToken',
    asked: 'alice',
    status: 401,
    message: 'Fresh token required',
  },
  {
    name: 'revoked',
    credentials: (t) => bearer(t.revoked),
    role: 'revokedToken',
    asked: 'revoked',
    status: 401,
    message: 'Token has been revoked',
  },
  {
    name: 'claims verification failed',
    credentials: (t) => bearer(t.unverified),
    role: 'tokenVerificationFailed',
    asked: 'unverified',
    status: 400,
    message: 'User claims verification failed',
  },
  {
    name: 'user not found',
    credentials: (t) => bearer(t.ghost),
    role: 'userLookupError',
    asked: 'ghost',
    status: 401,
    message: 'Error loading the user ghost',
  },
];

/** decodeToken in a handler: the token comes in the query. */
const DECODE_SITUATIONS: { name: string; token: (t: Tokens) => string; role: ErrorRole; asked: string; status: number; message: string }[] =
  [
    {
      name: 'malformed token',
      token: () => 'nope',
      role: 'invalidToken',
      asked: 'Not enough segments',
      status: 422,
      message: 'Not enough segments',
    },
    {
      name: 'bad signature',
      token: (t) => t.badSignature,
      role: 'invalidToken',
      asked: 'Signature verification failed',
      status: 422,
      message: 'Signature verification failed',
    },
    { name: 'expired', token: (t) => t.expired, role: 'expiredToken', asked: 'alice', status: 401, message: 'Token has expired' },
  ];

const REQUEST_SITES = ['guard', 'custom-guard', 'middleware', 'in-handler'] as const;

function send(t: TestApp, path: string, credentials: Record<string, string> = {}) {
  return request(t.url).get(path).set(credentials);
}

/** The app-wide enhancers (APP_FILTER / APP_INTERCEPTOR providers) registered in the app. */
function appWideEnhancers(app: INestApplication): string[] {
  return [...app.get(ModulesContainer).values()].flatMap((moduleRef) =>
    [...moduleRef.providers.keys()].filter((key): key is string => typeof key === 'string' && /^APP_(FILTER|INTERCEPTOR)\b/.test(key)),
  );
}

describe.each(ADAPTERS)('error loaders shape library exceptions wherever they are thrown (%s)', (adapter) => {
  const t = useTestApp(adapter, { imports: [RoutesModule], loaders: { ...ALL_ERROR_LOADERS, ...SUBJECT_CHECKS } });
  let tk: Tokens;
  beforeAll(async () => {
    tk = await tokens(t.jwt);
  });

  describe.each(REQUEST_SITES)('thrown in %s', (site) => {
    it.each(REQUEST_SITUATIONS.map((s) => [s.name, s.role, s] as const))('%s → the %s loader answers', async (_name, _role, situation) => {
      const before = asked.length;
      await expectResponse(send(t, `/${site}`, situation.credentials?.(tk)), SHAPED[situation.role], { shaped: situation.role }, [], {
        hides: situation.message,
      });
      expect(asked.slice(before)).toEqual([`${situation.role}: ${situation.asked}`]);
    });

    it('a valid token passes (the loaders are not consulted)', async () => {
      const before = asked.length;
      await expectResponse(send(t, `/${site}`, bearer(tk.valid)), 200, { ok: true }, site);
      expect(asked.length).toBe(before);
    });
  });

  describe('thrown by decodeToken in a handler', () => {
    it.each(DECODE_SITUATIONS.map((s) => [s.name, s.role, s] as const))('%s → the %s loader answers', async (_name, _role, situation) => {
      const before = asked.length;
      await expectResponse(
        request(t.url)
          .get('/decode')
          .query({ token: situation.token(tk) }),
        SHAPED[situation.role],
        { shaped: situation.role },
        [],
        { hides: situation.message },
      );
      expect(asked.slice(before)).toEqual([`${situation.role}: ${situation.asked}`]);
    });
  });

  describe('code that catches the exception gets the §6 class, and the loaders are not consulted', () => {
    it('decodeToken in a handler', async () => {
      const before = asked.length;
      const expired = await request(t.url).get('/catch/decode').query({ token: tk.expired });
      expect(expired.body).toEqual({
        class: ExpiredTokenException.name,
        isLibraryException: true,
        status: 401,
        body: { msg: 'Token has expired' },
        reason: 'Token has expired',
      });
      const malformed = await request(t.url).get('/catch/decode').query({ token: 'nope' });
      expect(malformed.body).toMatchObject({ class: JwtDecodeException.name, status: 422, body: { msg: 'Not enough segments' } });
      expect(asked.length).toBe(before);
    });

    it.each(['in-handler', 'custom-guard', 'middleware'])('verifyJwtInRequest in %s', async (site) => {
      const before = asked.length;
      const missing = await request(t.url).get(`/catch/${site}`);
      expect({ status: missing.status, body: missing.body }).toEqual({
        status: 200,
        body: {
          class: NoAuthorizationException.name,
          isLibraryException: true,
          status: 401,
          body: { msg: 'Missing Authorization Header' },
          reason: 'Missing Authorization Header',
        },
      });
      const stale = await send(t, `/catch/${site}`, bearer(tk.stale));
      expect(stale.body).toMatchObject({ class: 'FreshTokenRequiredException', status: 401, body: { msg: 'Fresh token required' } });
      expect(asked.length).toBe(before);
    });
  });

  it('registers one app-wide filter and no interceptor', () => {
    expect(appWideEnhancers(t.app).map((key) => key.split(' ')[0])).toEqual(['APP_FILTER']);
  });

  it('leaves other exceptions to Nest', async () => {
    await expectResponse(request(t.url).get('/boom'), 500, INTERNAL_ERROR, []);
  });
});

describe.each(ADAPTERS)('without error loaders (%s)', (adapter) => {
  const t = useTestApp(adapter, { imports: [RoutesModule], loaders: SUBJECT_CHECKS });
  let tk: Tokens;
  beforeAll(async () => {
    tk = await tokens(t.jwt);
  });

  it('registers no app-wide filter or interceptor', () => {
    expect(appWideEnhancers(t.app)).toEqual([]);
  });

  describe.each(REQUEST_SITES)('thrown in %s', (site) => {
    it.each(REQUEST_SITUATIONS.map((s) => [s.name, s] as const))('%s → the §6 default', (_name, situation) =>
      expectResponse(send(t, `/${site}`, situation.credentials?.(tk)), situation.status, { msg: situation.message }, []),
    );
  });

  it.each(DECODE_SITUATIONS.map((s) => [s.name, s] as const))('decodeToken in a handler: %s → the §6 default', (_name, situation) =>
    expectResponse(
      request(t.url)
        .get('/decode')
        .query({ token: situation.token(tk) }),
      situation.status,
      { msg: situation.message },
      [],
    ),
  );
});

describe.each(ADAPTERS)('only some error loaders (%s)', (adapter) => {
  const t = useTestApp(adapter, { imports: [RoutesModule], loaders: { expiredToken: Shapes, ...SUBJECT_CHECKS } });
  let tk: Tokens;
  beforeAll(async () => {
    tk = await tokens(t.jwt);
  });

  it.each(REQUEST_SITES)('%s: the configured loader shapes its exception, the others keep the §6 default', async (site) => {
    await expectResponse(send(t, `/${site}`, bearer(tk.expired)), SHAPED.expiredToken, { shaped: 'expiredToken' }, []);
    for (const situation of REQUEST_SITUATIONS.filter((s) => s.role !== 'expiredToken')) {
      await expectResponse(send(t, `/${site}`, situation.credentials?.(tk)), situation.status, { msg: situation.message }, []);
    }
  });
});

/*
 * Precedence (README "Custom error responses"): Nest consults the filters nearest the route
 * first, then global filters, the last registered first. Filters given to app.useGlobalFilters()
 * are registered after every APP_FILTER provider, so they come before the library's filter;
 * a catch-all APP_FILTER of the root module is registered before it, so it comes after.
 */
describe.each(ADAPTERS)("precedence with the app's own global filters (%s)", (adapter) => {
  const apps: TestApp[] = [];
  let tk: Tokens;
  async function boot(setup: Parameters<typeof createTestApp>[1]) {
    const t = await createTestApp(adapter, { imports: [RoutesModule], loaders: { ...ALL_ERROR_LOADERS, ...SUBJECT_CHECKS }, ...setup });
    apps.push(t);
    tk ??= await tokens(t.jwt);
    return t;
  }
  afterAll(() => Promise.all(apps.map((t) => t.close())));

  it('a catch-all given to app.useGlobalFilters() comes first: it gets the unshaped §6 exception', async () => {
    const t = await boot({ beforeInit: (app) => void app.useGlobalFilters(new CatchAllFilter(() => app.getHttpAdapter())) });
    const before = asked.length;
    for (const site of REQUEST_SITES) {
      await expectResponse(send(t, `/${site}`), 299, { caughtBy: 'app filter', class: NoAuthorizationException.name, status: 401 }, []);
      await expectResponse(
        send(t, `/${site}`, bearer(tk.expired)),
        299,
        { caughtBy: 'app filter', class: ExpiredTokenException.name, status: 401 },
        [],
      );
    }
    await expectResponse(
      request(t.url).get('/decode').query({ token: 'x' }),
      299,
      { caughtBy: 'app filter', class: JwtDecodeException.name, status: 422 },
      [],
    );
    expect(asked.length).toBe(before);
  });

  it('registering JwtErrorFilter after it gives error loaders the first word; the catch-all keeps every other exception', async () => {
    const t = await boot({
      beforeInit: (app) => void app.useGlobalFilters(new CatchAllFilter(() => app.getHttpAdapter()), app.get(JwtErrorFilter)),
    });
    for (const site of REQUEST_SITES) {
      await expectResponse(send(t, `/${site}`), SHAPED.unauthorized, { shaped: 'unauthorized' }, []);
      await expectResponse(send(t, `/${site}`, bearer(tk.revoked)), SHAPED.revokedToken, { shaped: 'revokedToken' }, []);
    }
    await expectResponse(request(t.url).get('/decode').query({ token: tk.expired }), SHAPED.expiredToken, { shaped: 'expiredToken' }, []);
    await expectResponse(request(t.url).get('/boom'), 299, { caughtBy: 'app filter', class: 'Error', status: 500 }, []);
  });

  it('a global filter for other exceptions leaves library exceptions to the error loaders', async () => {
    const t = await boot({ beforeInit: (app) => void app.useGlobalFilters(new MyErrorFilter(() => app.getHttpAdapter())) });
    for (const site of REQUEST_SITES) {
      await expectResponse(send(t, `/${site}`, bearer(tk.stale)), SHAPED.needsFreshToken, { shaped: 'needsFreshToken' }, []);
    }
    await expectResponse(request(t.url).get('/mine'), 298, { caughtBy: 'my error filter' }, []);
  });

  it("a catch-all APP_FILTER of the app's root module comes after the library's filter", async () => {
    @Module({
      imports: [RoutesModule],
      providers: [
        {
          provide: APP_FILTER,
          inject: [HttpAdapterHost],
          useFactory: (host: HttpAdapterHost) => new CatchAllFilter(() => host.httpAdapter),
        },
      ],
    })
    class Root {}
    const t = await boot({
      module: {
        module: Root,
        imports: [JwtExtendedModule.forRoot({ secretKey: SECRET, loaders: { ...ALL_ERROR_LOADERS, ...SUBJECT_CHECKS } })],
      },
    });
    for (const site of REQUEST_SITES) {
      await expectResponse(send(t, `/${site}`), SHAPED.unauthorized, { shaped: 'unauthorized' }, []);
    }
    await expectResponse(request(t.url).get('/boom'), 299, { caughtBy: 'app filter', class: 'Error', status: 500 }, []);
  });
});

describe.each(ADAPTERS)('the CSRF and cookie exceptions (%s)', (adapter) => {
  const t = useTestApp(adapter, {
    imports: [RoutesModule],
    options: { tokenLocation: ['cookies'], csrfMethods: ['GET'] },
    loaders: { unauthorized: Shapes },
  });

  it.each(REQUEST_SITES)('%s: a cookie token without its CSRF value is shaped by the unauthorized loader', async (site) => {
    const token = await t.jwt.createAccessToken('alice', { fresh: true });
    const before = asked.length;
    await expectResponse(
      request(t.url).get(`/${site}`).set('Cookie', `access_token_cookie=${token}`),
      SHAPED.unauthorized,
      { shaped: 'unauthorized' },
      [],
      { hides: 'Missing CSRF token' },
    );
    expect(asked.slice(before)).toEqual(['unauthorized: Missing CSRF token']);
  });

  it('code that catches it gets a CsrfException', async () => {
    const token = await t.jwt.createAccessToken('alice', { fresh: true });
    const res = await request(t.url).get('/catch/in-handler').set('Cookie', `access_token_cookie=${token}`);
    expect(res.body).toMatchObject({ class: CsrfException.name, status: 401, body: { msg: 'Missing CSRF token' } });
  });
});

/** A revocation store whose backend is down, as the ready stores report it. */
@Injectable()
class DownBlocklist implements BlocklistLoader {
  isTokenRevoked(): boolean {
    throw new JwtUnavailableException('Token revocation store unavailable', { messageKey: 'error' });
  }
}

describe.each(ADAPTERS)('503s keep one body shape at every site, with and without error loaders (%s)', (adapter) => {
  describe.each([
    ['a blocklist loader past loaderTimeout', HangingBlocklist, 'Service Unavailable'],
    ['a store that is down', DownBlocklist, 'Token revocation store unavailable'],
  ] as const)('%s', (_name, blocklist, message) => {
    const appWith = (loaders: JwtExtendedLoaders) =>
      useTestApp(adapter, { imports: [RoutesModule], loaders, options: { errorMessageKey: 'error', loaderTimeout: 150 } });
    const apps = { with: appWith({ ...ALL_ERROR_LOADERS, blocklist }), without: appWith({ blocklist }) };
    let token: string;
    beforeAll(async () => {
      token = await apps.with.jwt.createAccessToken('alice', { fresh: true });
    });

    it.each(REQUEST_SITES)('%s: 503 { error: message } either way, the loaders not consulted', async (site) => {
      const before = asked.length;
      for (const t of Object.values(apps)) {
        await expectResponse(send(t, `/${site}`, bearer(token)), 503, { error: message }, []);
      }
      expect(asked.length).toBe(before);
    });

    it('code that catches it gets a JwtUnavailableException', async () => {
      const res = await send(apps.with, '/catch/in-handler', bearer(token));
      expect(res.body).toMatchObject({ isLibraryException: true, status: 503, body: { error: message } });
      expect(res.body.class).toBe(blocklist === HangingBlocklist ? LoaderTimeoutException.name : JwtUnavailableException.name);
    });
  });
});
