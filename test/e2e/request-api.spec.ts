import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { FreshTokenRequiredException, JwtExtendedService, JwtRequired, type JwtRequiredOptions } from '../../lib/index.js';
import { ADAPTERS, SECRET, useTestApp } from '../support/app.js';
import { INTERNAL_ERROR, bearer, expectResponse, handlerRuns } from '../support/http.js';
import { Users } from '../support/loaders.js';
import { createService } from '../support/service.js';

/** Options that `@JwtRequired()` and `verifyJwtInRequest()` both refuse, and what the message names. */
const REFUSED: [string, unknown, RegExp][] = [
  ['a misspelt key', { freshh: true }, /unknown option "freshh"/],
  ['a key of another API', { maxAge: 60 }, /unknown option "maxAge"/],
  ['a misspelt location', { locations: ['header'] }, /option "locations" has "header"/],
  ['a misspelt single location', { locations: 'cookie' }, /option "locations" has "cookie"/],
  ['no locations', { locations: [] }, /option "locations" is empty/],
  ['a location twice', { locations: ['headers', 'headers'] }, /option "locations" names a location twice/],
  ['a non-string location', { locations: [42] }, /option "locations" has 42/],
  ['null locations', { locations: null }, /option "locations" has null/],
  ['a string flag', { fresh: 'yes' }, /option "fresh" must be a boolean, got "yes"/],
  ['a number flag', { optional: 1 }, /option "optional" must be a boolean, got 1/],
  ['a null flag', { refresh: null }, /option "refresh" must be a boolean, got null/],
  ['"false" as a string', { verifyType: 'false' }, /option "verifyType" must be a boolean, got "false"/],
  ['an object flag', { skipRevocationCheck: {} }, /option "skipRevocationCheck" must be a boolean/],
  ['null options', null, /options must be an object, got null/],
  ['a string for options', 'headers', /options must be an object, got "headers"/],
  ['an array for options', ['headers'], /options must be an object, got an array/],
];

describe('verifyJwtInRequest validates its options like @JwtRequired()', () => {
  let jwt: JwtExtendedService;
  let token: string;
  const req = () => ({ method: 'GET', headers: { authorization: `Bearer ${token}` }, query: { jwt: token } });
  beforeAll(async () => {
    jwt = await createService({ secretKey: SECRET, tokenLocation: ['headers', 'query_string'] });
    token = await jwt.createAccessToken('alice');
  });

  it.each(REFUSED)('rejects %s with a TypeError, before reading the request', async (_, options, message) => {
    const incoming = req();
    await expect(jwt.verifyJwtInRequest(incoming, options as JwtRequiredOptions)).rejects.toThrow(TypeError);
    await expect(jwt.verifyJwtInRequest(incoming, options as JwtRequiredOptions)).rejects.toThrow(message);
    await expect(jwt.verifyJwtInRequest(incoming, options as JwtRequiredOptions)).rejects.toThrow(/^verifyJwtInRequest\(\): /);
    // nothing was verified: the request has no state
    expect(() => jwt.getJwt(incoming)).toThrow(/@JwtRequired\(\)/);
  });

  it.each(REFUSED)('@JwtRequired() refuses %s when applied', (_, options, message) => {
    expect(() => JwtRequired(options as JwtRequiredOptions)).toThrow(TypeError);
    expect(() => JwtRequired(options as JwtRequiredOptions)).toThrow(message);
    expect(() => JwtRequired(options as JwtRequiredOptions)).toThrow(/^@JwtRequired\(\): /);
  });

  it('accepts every valid form, and keys set to undefined count as absent', async () => {
    const accepted: JwtRequiredOptions[] = [
      {},
      { locations: 'headers' },
      { locations: ['query_string'] },
      { locations: ['query_string', 'headers'] },
      { optional: false, fresh: undefined, refresh: false, verifyType: true, skipRevocationCheck: false },
      { locations: undefined },
    ];
    for (const options of accepted) expect((await jwt.verifyJwtInRequest(req(), options))?.payload.sub).toBe('alice');
    expect((await jwt.verifyJwtInRequest(req()))?.payload.sub).toBe('alice');
  });

  it('a single location is the only one read', async () => {
    await jwt.verifyJwtInRequest(req(), { locations: 'query_string' });
    const only = { method: 'GET', headers: { authorization: `Bearer ${token}` } };
    expect(await jwt.verifyJwtInRequest(only, { locations: 'query_string', optional: true })).toBeNull();
  });

  it('fresh: true is enforced (a misspelt key can no longer drop it)', async () => {
    await expect(jwt.verifyJwtInRequest(req(), { fresh: true })).rejects.toThrow(FreshTokenRequiredException);
    const fresh = await jwt.createAccessToken('alice', { fresh: true });
    const freshReq = { method: 'GET', headers: { authorization: `Bearer ${fresh}` } };
    expect((await jwt.verifyJwtInRequest(freshReq, { fresh: true }))?.payload.sub).toBe('alice');
  });

  it('the caller keeps its options object: it is read, never changed', async () => {
    const options: JwtRequiredOptions = { locations: 'headers', optional: true };
    await jwt.verifyJwtInRequest(req(), options);
    expect(options).toEqual({ locations: 'headers', optional: true });
    expect(Object.isFrozen(options)).toBe(false);
  });
});

const CASES: Record<string, unknown> = {
  'no-locations': { locations: [] },
  misspelt: { locations: ['header'] },
  freshh: { freshh: true },
  valid: { locations: ['headers'] },
};

@Controller()
class ManualController {
  constructor(private readonly jwt: JwtExtendedService) {}

  @Get('manual/:case')
  async manual(@Req() req: object, @Param('case') name: string) {
    const verified = await this.jwt.verifyJwtInRequest(req, CASES[name] as JwtRequiredOptions);
    handlerRuns.record(name);
    return { sub: verified?.payload.sub };
  }
}

describe.each(ADAPTERS)('verifyJwtInRequest options in a handler (%s)', (adapter) => {
  const t = useTestApp(adapter, { controllers: [ManualController] });
  let token: string;
  beforeAll(async () => {
    token = await t.jwt.createAccessToken('alice');
  });

  it.each(['no-locations', 'misspelt', 'freshh'])(
    '%s: a 500 that reveals nothing, whatever the token; the handler stops there',
    async (name) => {
      await expectResponse(request(t.url).get(`/manual/${name}`).set(bearer(token)), 500, INTERNAL_ERROR, []);
      await expectResponse(request(t.url).get(`/manual/${name}`), 500, INTERNAL_ERROR, []);
    },
  );
  it('valid options verify as before', () =>
    expectResponse(request(t.url).get('/manual/valid').set(bearer(token)), 200, { sub: 'alice' }, 'valid'));
});

interface Holder {
  user?: unknown;
  locals?: Record<string, unknown>;
}

/**
 * Verifies a request several times (the guard, then the handler): after each call every way of
 * reading the state must describe that call.
 */
@Controller('again')
class AgainController {
  constructor(private readonly jwt: JwtExtendedService) {}

  private snapshot(req: Holder, res: Holder) {
    return {
      identity: this.jwt.getJwtIdentity(req),
      sub: this.jwt.getJwt(req).sub ?? null,
      location: this.jwt.getJwtRequestLocation(req),
      user: this.jwt.getCurrentUser(req),
      requestUser: req.user,
      viewLocals: res.locals?.currentUser,
    };
  }

  @Get('guard-then-optional-none')
  @JwtRequired()
  async optionalNone(@Req() req: Holder, @Res({ passthrough: true }) res: Holder) {
    const before = this.snapshot(req, res);
    const verified = await this.jwt.verifyJwtInRequest(req, { optional: true, locations: 'cookies' });
    handlerRuns.record('optional-none');
    return { before, verified, after: this.snapshot(req, res) };
  }

  @Get('guard-then-other-token')
  @JwtRequired()
  async otherToken(@Req() req: Holder, @Res({ passthrough: true }) res: Holder) {
    const before = this.snapshot(req, res);
    await this.jwt.verifyJwtInRequest(req, { locations: 'query_string' });
    handlerRuns.record('other-token');
    return { before, after: this.snapshot(req, res) };
  }

  @Get('twice')
  async twice(@Req() req: Holder, @Res({ passthrough: true }) res: Holder) {
    await this.jwt.verifyJwtInRequest(req, { locations: 'headers' });
    const first = this.snapshot(req, res);
    await this.jwt.verifyJwtInRequest(req, { locations: 'cookies', optional: true });
    const second = this.snapshot(req, res);
    await this.jwt.verifyJwtInRequest(req, { locations: 'query_string' });
    handlerRuns.record('twice');
    return { first, second, third: this.snapshot(req, res) };
  }

  /** A call that fails leaves the previous verification in place, whole. */
  @Get('guard-then-failure')
  @JwtRequired()
  async failure(@Req() req: Holder, @Res({ passthrough: true }) res: Holder) {
    const error = await this.jwt.verifyJwtInRequest(req, { fresh: true }).catch((e: Error) => e.name);
    handlerRuns.record('failure');
    return { error, after: this.snapshot(req, res) };
  }
}

describe.each(ADAPTERS)('each verification replaces the whole request state (%s)', (adapter) => {
  const t = useTestApp(adapter, {
    controllers: [AgainController],
    loaders: { userLookup: Users },
    options: { tokenLocation: ['headers', 'cookies', 'query_string'], exposeCurrentUserToViews: true },
  });
  let alice: string;
  let bob: string;
  /** The snapshot of a request verified with `sub`'s token, found at `location`. */
  const verified = (sub: string, name: string, location: string) => ({
    identity: sub,
    sub,
    location,
    user: { name },
    requestUser: { name },
    viewLocals: { name },
  });
  const ALICE = verified('alice', 'Alice', 'headers');
  const BOB_QUERY = verified('bob', 'Bob', 'query_string');
  const EMPTY = { identity: null, sub: null, location: null, user: null, requestUser: null, viewLocals: null };

  beforeAll(async () => {
    alice = await t.jwt.createAccessToken('alice');
    bob = await t.jwt.createAccessToken('bob');
  });

  it('the guard, then an optional call that finds no token: everything empty', () =>
    expectResponse(
      request(t.url).get('/again/guard-then-optional-none').set(bearer(alice)),
      200,
      { before: ALICE, verified: null, after: EMPTY },
      'optional-none',
    ));
  it('the guard, then a call that finds another token: everything that token', () =>
    expectResponse(
      request(t.url).get('/again/guard-then-other-token').set(bearer(alice)).query({ jwt: bob }),
      200,
      { before: ALICE, after: BOB_QUERY },
      'other-token',
    ));
  it('three calls in a handler: token, none, another token', () =>
    expectResponse(
      request(t.url).get('/again/twice').set(bearer(alice)).query({ jwt: bob }),
      200,
      { first: ALICE, second: EMPTY, third: BOB_QUERY },
      'twice',
    ));
  it('a call that fails leaves the previous state whole', () =>
    expectResponse(
      request(t.url).get('/again/guard-then-failure').set(bearer(alice)),
      200,
      { error: 'FreshTokenRequiredException', after: ALICE },
      'failure',
    ));
});
