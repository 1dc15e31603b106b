import {
  All,
  type ArgumentsHost,
  Catch,
  Controller,
  Delete,
  type ExceptionFilter,
  Get,
  HttpException,
  Injectable,
  type MiddlewareConsumer,
  Module,
  type NestMiddleware,
  type NestModule,
  Param,
  Query,
  Req,
} from '@nestjs/common';
import { APP_FILTER, HttpAdapterHost } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  ExpiredTokenException,
  type ExpiredTokenLoader,
  InMemoryBlocklist,
  Jwt,
  type JwtErrorCode,
  type JwtErrorFormat,
  JwtExtendedException,
  type JwtExtendedOptions,
  JwtExtendedService,
  JwtUnavailableException,
  LoaderTimeoutException,
  type JwtPayload,
  JwtRequired,
  type JwtRequiredOptions,
  type TokenVerificationLoader,
  type UserLookupLoader,
} from '../../lib/index.js';
import { ADAPTERS, createTestApp, type TestApp } from '../support/app.js';

/** The options each kind of route verifies with (guard, `verifyJwtInRequest` in a handler, in middleware). */
const KINDS = {
  plain: {},
  fresh: { fresh: true },
  cookie: { locations: 'cookies' },
  query: { locations: 'query_string' },
} satisfies Record<string, JwtRequiredOptions>;
type Kind = keyof typeof KINDS;

/** Nest's status phrases, spelled out here rather than taken from where the library takes them. */
const PHRASE: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 422: 'Unprocessable Entity', 503: 'Service Unavailable' };

let runs = 0;

/** Two entries at most: revoking a third distinct identity fails closed with 503. */
@Injectable()
class Store extends InMemoryBlocklist {
  constructor() {
    super({ maxEntries: 2 });
  }
}

@Injectable()
class Checks implements TokenVerificationLoader, UserLookupLoader {
  verifyToken(_header: unknown, payload: JwtPayload) {
    // 'slow' never answers: the request must fail closed once loaderTimeout passes.
    return payload.sub === 'slow' ? new Promise<boolean>(() => {}) : payload.sub !== 'unverified';
  }
  lookupUser(_header: unknown, payload: JwtPayload) {
    return payload.sub === 'ghost' ? null : { id: payload.sub };
  }
}

@Controller()
class Routes {
  constructor(
    private readonly jwt: JwtExtendedService,
    private readonly store: Store,
  ) {}

  @All('guard/plain')
  @JwtRequired()
  plain() {
    return { ok: ++runs };
  }
  @All('guard/fresh')
  @JwtRequired(KINDS.fresh)
  fresh() {
    return { ok: ++runs };
  }
  @All('guard/cookie')
  @JwtRequired(KINDS.cookie)
  cookie() {
    return { ok: ++runs };
  }
  @All('guard/query')
  @JwtRequired(KINDS.query)
  query() {
    return { ok: ++runs };
  }

  @All('manual/:kind')
  async manual(@Req() req: object, @Param('kind') kind: Kind) {
    await this.jwt.verifyJwtInRequest(req, KINDS[kind]);
    return { ok: ++runs };
  }

  /** Application code that catches the library's exception and reads what it says. */
  @All('caught/:kind')
  async caught(@Req() req: object, @Param('kind') kind: Kind) {
    try {
      await this.jwt.verifyJwtInRequest(req, KINDS[kind]);
      return { code: null };
    } catch (error) {
      if (!(error instanceof JwtExtendedException)) throw error;
      return { code: error.code, status: error.getStatus(), body: error.getResponse() };
    }
  }

  @Get('decode')
  decode(@Query('token') token: string) {
    return this.jwt.decodeToken(token);
  }

  @Delete('logout')
  @JwtRequired()
  async logout(@Jwt() payload: JwtPayload) {
    await this.store.revokeToken(payload);
    return { revoked: true };
  }
}

@Controller('mw')
class MiddlewareRoutes {
  @All(':kind')
  reached() {
    return { ok: ++runs };
  }
}

type NodeNext = (error?: unknown) => void;

/** Verifies before any guard; on Fastify it gets the raw Node request. */
@Injectable()
class VerifyingMiddleware implements NestMiddleware {
  constructor(private readonly jwt: JwtExtendedService) {}
  async use(req: { originalUrl?: string; url?: string }, _res: unknown, next: NodeNext) {
    const kind = /\/mw\/(\w+)/.exec(req.originalUrl ?? req.url ?? '')?.[1] as Kind;
    try {
      await this.jwt.verifyJwtInRequest(req, KINDS[kind]);
      next();
    } catch (error) {
      next(error);
    }
  }
}

@Module({ controllers: [MiddlewareRoutes], providers: [VerifyingMiddleware] })
class MiddlewareModule implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    consumer.apply(VerifyingMiddleware).forRoutes(MiddlewareRoutes);
  }
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

interface Situation {
  name: string;
  code: JwtErrorCode;
  status: number;
  message: string;
  kind: Kind;
  /** The one request that meets the situation at `path`. */
  send(t: TestApp, path: string): Promise<request.Response>;
}

const SITUATIONS: Situation[] = [
  {
    name: 'missing header',
    code: 'NO_AUTHORIZATION',
    status: 401,
    message: 'Missing Authorization Header',
    kind: 'plain',
    send: async (t, path) => request(t.url).get(path),
  },
  {
    name: 'bad header',
    code: 'INVALID_HEADER',
    status: 422,
    message: "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'",
    kind: 'plain',
    send: async (t, path) => request(t.url).get(path).set('Authorization', 'Bearer a b'),
  },
  {
    name: 'bad query parameter',
    code: 'INVALID_QUERY_PARAM',
    status: 422,
    message: "Invalid value for query parameter 'jwt'. Expected the value to start with 'jwt:'",
    kind: 'query',
    send: async (t, path) =>
      request(t.url)
        .get(path)
        .query({ jwt: await t.jwt.createAccessToken('alice') }),
  },
  {
    name: 'CSRF',
    code: 'CSRF',
    status: 401,
    message: 'Missing CSRF token',
    kind: 'cookie',
    send: async (t, path) =>
      request(t.url)
        .post(path)
        .set('Cookie', `access_token_cookie=${await t.jwt.createAccessToken('alice')}`),
  },
  {
    name: 'expired',
    code: 'EXPIRED',
    status: 401,
    message: 'Token has expired',
    kind: 'plain',
    send: async (t, path) =>
      request(t.url)
        .get(path)
        .set(bearer(await t.jwt.createAccessToken('alice', { expiresDelta: -5 }))),
  },
  {
    name: 'wrong type',
    code: 'WRONG_TOKEN_TYPE',
    status: 422,
    message: 'Only non-refresh tokens are allowed',
    kind: 'plain',
    send: async (t, path) =>
      request(t.url)
        .get(path)
        .set(bearer(await t.jwt.createRefreshToken('alice'))),
  },
  {
    name: 'not fresh',
    code: 'FRESH_REQUIRED',
    status: 401,
    message: 'Fresh token required',
    kind: 'fresh',
    send: async (t, path) =>
      request(t.url)
        .get(path)
        .set(bearer(await t.jwt.createAccessToken('alice'))),
  },
  {
    name: 'revoked',
    code: 'REVOKED',
    status: 401,
    message: 'Token has been revoked',
    kind: 'plain',
    send: async (t, path) => {
      // One identity only, so these revocations never fill the store for other situations.
      const token = await t.jwt.createAccessToken('revoked');
      await request(t.url).delete('/logout').set(bearer(token)).expect(200);
      return request(t.url).get(path).set(bearer(token));
    },
  },
  {
    name: 'claims verification failed',
    code: 'CLAIMS_VERIFICATION_FAILED',
    status: 400,
    message: 'User claims verification failed',
    kind: 'plain',
    send: async (t, path) =>
      request(t.url)
        .get(path)
        .set(bearer(await t.jwt.createAccessToken('unverified'))),
  },
  {
    name: 'user lookup failed',
    code: 'USER_LOOKUP_FAILED',
    status: 401,
    message: 'Error loading the user ghost',
    kind: 'plain',
    send: async (t, path) =>
      request(t.url)
        .get(path)
        .set(bearer(await t.jwt.createAccessToken('ghost'))),
  },
  {
    name: 'malformed token',
    code: 'INVALID_TOKEN',
    status: 422,
    message: 'Not enough segments',
    kind: 'plain',
    send: async (t, path) => request(t.url).get(path).set(bearer('x.y')),
  },
  {
    name: 'loader time-out',
    code: 'UNAVAILABLE',
    status: 503,
    message: 'Service Unavailable',
    kind: 'plain',
    send: async (t, path) =>
      request(t.url)
        .get(path)
        .set(bearer(await t.jwt.createAccessToken('slow'))),
  },
];

function bodyOf(format: JwtErrorFormat, status: number, message: string, code: JwtErrorCode) {
  return format === 'flask' ? { detail: message } : { statusCode: status, message, error: PHRASE[status], code };
}

async function expectError(test: PromiseLike<request.Response>, status: number, body: unknown) {
  const before = runs;
  const res = await test;
  expect({ status: res.status, body: res.body }).toEqual({ status, body });
  expect(runs).toBe(before);
}

describe.each(ADAPTERS)('error codes and formats (%s)', (adapter) => {
  describe.each<JwtErrorFormat>(['flask', 'nest'])("errorFormat: '%s'", (format) => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(adapter, {
        imports: [MiddlewareModule],
        controllers: [Routes],
        // errorMessageKey shapes the 'flask' body only.
        options: { errorFormat: format, errorMessageKey: 'detail', queryStringValuePrefix: 'jwt:', loaderTimeout: 300 },
        loaders: { blocklist: Store, tokenVerification: Checks, userLookup: Checks },
      });
    });
    afterAll(() => t.close());

    describe.each(SITUATIONS)('$name: $status $code', ({ code, status, message, kind, send }) => {
      const body = bodyOf(format, status, message, code);
      it('through the guard', () => expectError(send(t, `/guard/${kind}`), status, body));
      it('through verifyJwtInRequest in a handler', () => expectError(send(t, `/manual/${kind}`), status, body));
      it('through verifyJwtInRequest in middleware', () => expectError(send(t, `/mw/${kind}`), status, body));
      it('code that catches the exception sees its code and body', async () => {
        const res = await send(t, `/caught/${kind}`);
        expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { code, status, body } });
      });
    });

    it.each([
      ['expired', 'EXPIRED', 401, 'Token has expired'],
      ['malformed', 'INVALID_TOKEN', 422, 'Not enough segments'],
    ] as const)('decodeToken in a handler, %s token: %s', async (which, code, status, message) => {
      const token = which === 'expired' ? await t.jwt.createAccessToken('alice', { expiresDelta: -5 }) : 'x.y';
      const res = await request(t.url).get('/decode').query({ token });
      expect({ status: res.status, body: res.body }).toEqual({ status, body: bodyOf(format, status, message, code) });
    });

    it('a store that cannot answer: 503 UNAVAILABLE, and the handler gets nothing else', async () => {
      // Three distinct identities in a store of two: the last revocation at the latest fails closed.
      const replies: request.Response[] = [];
      for (const who of ['store-1', 'store-2', 'store-3']) {
        replies.push(
          await request(t.url)
            .delete('/logout')
            .set(bearer(await t.jwt.createAccessToken(who))),
        );
      }
      const last = replies.at(-1)!;
      expect({ status: last.status, body: last.body }).toEqual({
        status: 503,
        body: bodyOf(format, 503, 'Token revocation store unavailable', 'UNAVAILABLE'),
      });
    });
  });
});

@Injectable()
class ExpiredResponse implements ExpiredTokenLoader {
  onExpiredToken() {
    return new HttpException({ loader: 'expired' }, 419);
  }
}

describe.each(ADAPTERS)("errorFormat: 'nest' with an error loader (%s)", (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(adapter, {
      controllers: [Routes],
      options: { errorFormat: 'nest' },
      loaders: { blocklist: Store, expiredToken: ExpiredResponse },
    });
  });
  afterAll(() => t.close());

  it('the loader replaces the whole response of its errors: guard, verifyJwtInRequest, decodeToken', async () => {
    const expired = await t.jwt.createAccessToken('alice', { expiresDelta: -5 });
    await expectError(request(t.url).get('/guard/plain').set(bearer(expired)), 419, { loader: 'expired' });
    await expectError(request(t.url).get('/manual/plain').set(bearer(expired)), 419, { loader: 'expired' });
    await expectError(request(t.url).get('/decode').query({ token: expired }), 419, { loader: 'expired' });
  });

  it('errors no loader shapes keep the Nest body', async () => {
    const nest = bodyOf('nest', 401, 'Missing Authorization Header', 'NO_AUTHORIZATION');
    await expectError(request(t.url).get('/guard/plain'), 401, nest);
    await expectError(request(t.url).get('/manual/plain'), 401, nest);
    await expectError(
      request(t.url).get('/decode').query({ token: 'x.y' }),
      422,
      bodyOf('nest', 422, 'Not enough segments', 'INVALID_TOKEN'),
    );
  });
});

/** The README's exception filter: the app maps `code` to its own body. */
const TYPES: Record<JwtErrorCode, string> = {
  NO_AUTHORIZATION: 'auth/missing',
  INVALID_HEADER: 'auth/invalid',
  INVALID_QUERY_PARAM: 'auth/invalid',
  CSRF: 'auth/csrf',
  EXPIRED: 'auth/expired',
  WRONG_TOKEN_TYPE: 'auth/invalid',
  FRESH_REQUIRED: 'auth/fresh-required',
  REVOKED: 'auth/revoked',
  CLAIMS_VERIFICATION_FAILED: 'auth/forbidden',
  USER_LOOKUP_FAILED: 'auth/unknown-user',
  INVALID_TOKEN: 'auth/invalid',
  UNAVAILABLE: 'auth/unavailable',
};

@Catch(JwtExtendedException)
class AuthErrorFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}
  catch(error: JwtExtendedException, host: ArgumentsHost) {
    const body = { type: TYPES[error.code], title: error.reason, status: error.getStatus() };
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), body, error.getStatus());
  }
}

@Module({ providers: [{ provide: APP_FILTER, useClass: AuthErrorFilter }] })
class AuthErrorFilterModule {}

describe.each(ADAPTERS)('an app filter that maps code to its own body (%s)', (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(adapter, {
      imports: [AuthErrorFilterModule],
      controllers: [Routes],
      loaders: { blocklist: Store },
    });
  });
  afterAll(() => t.close());

  it('answers the guard, verifyJwtInRequest and decodeToken errors with the mapped body', async () => {
    const expired = await t.jwt.createAccessToken('alice', { expiresDelta: -5 });
    await expectError(request(t.url).get('/guard/plain'), 401, {
      type: 'auth/missing',
      title: 'Missing Authorization Header',
      status: 401,
    });
    await expectError(request(t.url).get('/manual/plain').set(bearer(expired)), 401, {
      type: 'auth/expired',
      title: 'Token has expired',
      status: 401,
    });
    await expectError(request(t.url).get('/decode').query({ token: 'x.y' }), 422, {
      type: 'auth/invalid',
      title: 'Not enough segments',
      status: 422,
    });
  });
});

describe('the public types', () => {
  it('errorFormat and code are string-literal unions; each class narrows its code', () => {
    // @ts-expect-error not a format (start-up refuses it too)
    const wrong: JwtExtendedOptions = { errorFormat: 'json' };
    const expired: 'EXPIRED' = new ExpiredTokenException().code;
    const unavailable: JwtErrorCode = new LoaderTimeoutException('blocklist', 1).code;
    expect([wrong.errorFormat, expired, unavailable, new JwtUnavailableException('down').code]).toEqual([
      'json',
      'EXPIRED',
      'UNAVAILABLE',
      'UNAVAILABLE',
    ]);
  });
});
