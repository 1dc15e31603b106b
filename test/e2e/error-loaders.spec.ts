import { Controller, Get, HttpException, Injectable, Query, Req } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  type ExpiredTokenLoader,
  type InvalidTokenLoader,
  JwtExtendedService,
  NoAuthorizationException,
  type JwtPayload,
  type JwtProtectedHeader,
  type UnauthorizedLoader,
} from '../../lib/index.js';
import { ADAPTERS, RecordingLogger, useTestApp } from '../support/app.js';
import { accessCookie, bearer, expectResponse, handlerRuns } from '../support/http.js';
import { type EveryErrorLoader, HangingBlocklist, SUBJECT_CHECKS, inEveryErrorRole } from '../support/loaders.js';
import { TargetController } from '../support/routes.js';

@Injectable()
class Responses implements EveryErrorLoader {
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

const ALL_RESPONSES = inEveryErrorRole(Responses);

/** Library calls inside handlers; the guarded routes are TargetController's. */
@Controller()
class Routes {
  constructor(private readonly jwt: JwtExtendedService) {}
  @Get('decode')
  async decode(@Query('token') token: string) {
    const payload = await this.jwt.decodeToken(token);
    handlerRuns.record('decode');
    return payload;
  }
  @Get('manual')
  async manual(@Req() req: object) {
    await this.jwt.verifyJwtInRequest(req);
    handlerRuns.record('manual');
    return { ok: true };
  }
}

describe.each(ADAPTERS)('error-response loaders (%s)', (adapter) => {
  const t = useTestApp(adapter, { controllers: [TargetController, Routes], loaders: { ...ALL_RESPONSES, ...SUBJECT_CHECKS } });

  it('unauthorized: missing token, any status (201 here)', () =>
    expectResponse(request(t.url).get('/protected'), 201, { loader: 'unauthorized', reason: 'Missing Authorization Header' }, []));
  it('unauthorized: CSRF errors', async () => {
    const token = await t.jwt.createAccessToken('alice');
    await expectResponse(
      request(t.url).post('/cookie').set(accessCookie(token)),
      201,
      { loader: 'unauthorized', reason: 'Missing CSRF token' },
      [],
    );
  });
  it('invalidToken: every 422 (header, decode, wrong type)', async () => {
    await expectResponse(
      request(t.url).get('/protected').set('Authorization', 'Bearer a b'),
      400,
      { loader: 'invalid', reason: "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'" },
      [],
    );
    await expectResponse(
      request(t.url).get('/protected').set(bearer('x.y')),
      400,
      { loader: 'invalid', reason: 'Not enough segments' },
      [],
    );
    await expectResponse(
      request(t.url)
        .get('/protected')
        .set(bearer(await t.jwt.createRefreshToken('alice'))),
      400,
      { loader: 'invalid', reason: 'Only non-refresh tokens are allowed' },
      [],
    );
  });
  it.each([
    [
      'expiredToken gets the header and payload',
      '/protected',
      'alice',
      { expiresDelta: -5 },
      419,
      { loader: 'expired', alg: 'HS256', sub: 'alice' },
    ],
    ['needsFreshToken', '/fresh', 'alice', {}, 403, { loader: 'fresh', sub: 'alice' }],
    ['tokenVerificationFailed', '/protected', 'unverified', {}, 418, { loader: 'verification', sub: 'unverified' }],
    ['userLookupError', '/protected', 'ghost', {}, 404, { loader: 'user', sub: 'ghost' }],
  ] as const)('%s', async (_name, path, sub, options, status, body) =>
    expectResponse(
      request(t.url)
        .get(path)
        .set(bearer(await t.jwt.createAccessToken(sub, options))),
      status,
      body,
      [],
    ),
  );
  it('revokedToken', async () => {
    const token = await t.jwt.createAccessToken('revoked');
    await expectResponse(request(t.url).get('/protected').set(bearer(token)), 410, { loader: 'revoked', jti: t.jwt.getJti(token) }, []);
  });
  it('shapes exceptions from decodeToken inside a handler', async () => {
    await expectResponse(
      request(t.url).get('/decode').query({ token: 'nope' }),
      400,
      { loader: 'invalid', reason: 'Not enough segments' },
      [],
    );
    const expired = await t.jwt.createAccessToken('alice', { expiresDelta: -5 });
    await expectResponse(
      request(t.url).get('/decode').query({ token: expired }),
      419,
      { loader: 'expired', alg: 'HS256', sub: 'alice' },
      [],
    );
  });
  it('shapes exceptions from verifyJwtInRequest inside a handler', () =>
    expectResponse(request(t.url).get('/manual'), 201, { loader: 'unauthorized', reason: 'Missing Authorization Header' }, []));
});

type Misbehaviour =
  | 'throws'
  | 'throws an HttpException'
  | 'rejects'
  | 'never settles'
  | 'returns a string'
  | 'returns a plain object'
  | 'returns undefined'
  | 'resolves to a non-HttpException'
  | 'returns a body that cannot be serialised'
  | 'returns a status no adapter can send';

function misbehave(mode: Misbehaviour): HttpException | Promise<HttpException> {
  const wrong = <T>(value: T) => value as unknown as HttpException;
  switch (mode) {
    case 'throws':
      throw new Error('loader bug');
    case 'throws an HttpException':
      throw new HttpException({ loader: 'thrown' }, 418);
    case 'rejects':
      return Promise.reject(new Error('loader bug'));
    case 'never settles':
      return new Promise<never>(() => {});
    case 'returns a string':
      return wrong('not an exception');
    case 'returns a plain object':
      return wrong({ msg: 'custom' });
    case 'returns undefined':
      return wrong(undefined);
    case 'resolves to a non-HttpException':
      return Promise.resolve(wrong({ status: 400 }));
    case 'returns a body that cannot be serialised':
      return new HttpException({ big: 10n }, 400);
    case 'returns a status no adapter can send':
      return new HttpException({ loader: 'status' }, 99);
  }
}

/** What each misbehaviour leaves in the log (never the token). */
const LOGGED: Record<Misbehaviour, RegExp> = {
  throws: /The (unauthorized|invalidToken|expiredToken) loader failed \(loader bug\); the default response was sent/,
  'throws an HttpException': /loader failed \(Http Exception\); the default response was sent/,
  rejects: /loader failed \(loader bug\); the default response was sent/,
  'never settles': /The (unauthorized|invalidToken|expiredToken) loader did not answer within 150 ms/,
  'returns a string': /loader returned string instead of an HttpException; the default response was sent/,
  'returns a plain object': /loader returned object instead of an HttpException/,
  'returns undefined': /loader returned undefined instead of an HttpException/,
  'resolves to a non-HttpException': /loader returned object instead of an HttpException/,
  'returns a body that cannot be serialised':
    /loader returned an HttpException whose body cannot be serialised to JSON; the default response was sent/,
  'returns a status no adapter can send': /The error loader's response could not be sent \(.*\); the default response was sent/,
};

function misbehavingLoader(mode: Misbehaviour) {
  @Injectable()
  class Misbehaving implements UnauthorizedLoader, InvalidTokenLoader, ExpiredTokenLoader {
    onUnauthorized() {
      return misbehave(mode);
    }
    onInvalidToken() {
      return misbehave(mode);
    }
    onExpiredToken() {
      return misbehave(mode);
    }
  }
  return Misbehaving;
}

const MISBEHAVIOURS = Object.keys(LOGGED) as Misbehaviour[];

describe.each(ADAPTERS)('error loaders that misbehave: the §6 default answers, never a hang or a stack (%s)', (adapter) => {
  describe.each(MISBEHAVIOURS)('a loader that %s', (mode) => {
    const logger = new RecordingLogger();
    const loader = misbehavingLoader(mode);
    const t = useTestApp(adapter, {
      controllers: [TargetController, Routes],
      loaders: { unauthorized: loader, invalidToken: loader, expiredToken: loader },
      options: { errorMessageKey: 'error', loaderTimeout: 150 },
      logger,
    });

    async function expectDefault(test: request.Test, status: number, message: string, token?: string) {
      const logged = logger.lines.length;
      await expectResponse(test, status, { error: message }, []);
      const log = logger.lines.slice(logged).join('\n');
      expect(log).toMatch(LOGGED[mode]);
      if (token !== undefined) expect(log).not.toContain(token);
    }

    it('JwtGuard, missing token: 401 Missing Authorization Header', () =>
      expectDefault(request(t.url).get('/protected'), 401, 'Missing Authorization Header'));
    it('JwtGuard, malformed token: 422 with its reason', () =>
      expectDefault(request(t.url).get('/protected').set('Authorization', 'Bearer x.y'), 422, 'Not enough segments'));
    it('JwtGuard, expired token: 401 Token has expired', async () => {
      const token = await t.jwt.createAccessToken('alice', { expiresDelta: -5 });
      await expectDefault(request(t.url).get('/protected').set(bearer(token)), 401, 'Token has expired', token);
    });
    it('decodeToken in a handler, expired token: 401 Token has expired', async () => {
      const token = await t.jwt.createAccessToken('alice', { expiresDelta: -5 });
      await expectDefault(request(t.url).get('/decode').query({ token }), 401, 'Token has expired', token);
    });
    it('verifyJwtInRequest in a handler, missing token: 401', () =>
      expectDefault(request(t.url).get('/manual'), 401, 'Missing Authorization Header'));
  });
});

describe.each(ADAPTERS)('503: one body shape, with and without error loaders (%s)', (adapter) => {
  describe.each([
    ['with every error loader', { ...ALL_RESPONSES, blocklist: HangingBlocklist }],
    ['without error loaders', { blocklist: HangingBlocklist }],
  ] as const)('%s', (_name, loaders) => {
    const logger = new RecordingLogger();
    const t = useTestApp(adapter, {
      controllers: [TargetController, Routes],
      loaders,
      options: { errorMessageKey: 'error', loaderTimeout: 150 },
      logger,
    });

    it.each(['/protected', '/manual'])(
      'a blocklist loader past loaderTimeout at %s: 503 { error: "Service Unavailable" }',
      async (path) => {
        const token = await t.jwt.createAccessToken('alice');
        await expectResponse(request(t.url).get(path).set(bearer(token)), 503, { error: 'Service Unavailable' }, []);
        const log = logger.lines.join('\n');
        expect(log).toContain('The blocklist loader did not answer within 150 ms');
        expect(log).not.toContain(token);
      },
    );
  });
});

describe.each(ADAPTERS)('errorMessageKey (%s)', (adapter) => {
  const t = useTestApp(adapter, { controllers: [TargetController, Routes], options: { errorMessageKey: 'error' } });
  it('keys every default body', async () => {
    await expectResponse(request(t.url).get('/protected'), 401, { error: 'Missing Authorization Header' }, []);
    await expectResponse(request(t.url).get('/protected').set('Authorization', 'Bearer x.y'), 422, { error: 'Not enough segments' }, []);
    await expectResponse(
      request(t.url)
        .get('/fresh')
        .set(bearer(await t.jwt.createAccessToken('a'))),
      401,
      { error: 'Fresh token required' },
      [],
    );
  });
  it('keys the bodies of every way out of the library: CSRF, verifyJwtInRequest, decodeToken', async () => {
    const token = await t.jwt.createAccessToken('a');
    await expectResponse(request(t.url).post('/cookie').set(accessCookie(token)), 401, { error: 'Missing CSRF token' }, []);
    await expectResponse(
      request(t.url).post('/cookie').set(accessCookie(token)).set('X-CSRF-TOKEN', 'wrong'),
      401,
      { error: 'CSRF double submit tokens do not match' },
      [],
    );
    await expectResponse(request(t.url).get('/manual'), 401, { error: 'Missing Authorization Header' }, []);
    await expectResponse(request(t.url).get('/decode').query({ token: 'x.y' }), 422, { error: 'Not enough segments' }, []);
    const expired = await t.jwt.createAccessToken('a', { expiresDelta: -10 });
    await expectResponse(request(t.url).get('/decode').query({ token: expired }), 401, { error: 'Token has expired' }, []);
  });
  it('keys exceptions that application code catches, and leaves a key the creator chose', async () => {
    const bodyOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return (error as HttpException).getResponse();
      }
      throw new Error('did not throw');
    };
    expect(bodyOf(() => t.jwt.getJti('nope'))).toEqual({ error: 'Not enough segments' });
    expect(bodyOf(() => t.jwt.getUnverifiedJwtHeaders('a.b.c.d'))).toEqual({ error: 'Too many segments' });
    const noCsrf = await t.jwt.createAccessToken('a', { additionalClaims: { csrf: 1 } });
    expect(bodyOf(() => t.jwt.getCsrfToken(noCsrf))).toEqual({ error: 'Missing claim: csrf' });
    const caught = await t.jwt.verifyJwtInRequest({ headers: {} }).catch((error: HttpException) => error.getResponse());
    expect(caught).toEqual({ error: 'Missing Authorization Header' });
    expect(new NoAuthorizationException('mine', { messageKey: 'detail' }).getResponse()).toEqual({ detail: 'mine' });
    expect(new NoAuthorizationException('default').getResponse()).toEqual({ msg: 'default' });
  });
});
