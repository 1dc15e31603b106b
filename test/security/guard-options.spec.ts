import { All, Controller, Get, type INestApplication, Injectable, Options, Req, type Type, UseGuards } from '@nestjs/common';
import { beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import * as fc from 'fast-check';
import request from 'supertest';
import {
  JwtExtendedService,
  JwtGuard,
  JwtIdentity,
  JwtRequired,
  type JwtRequiredOptions,
  type TokenLocation,
  type TokenVerificationLoader,
} from '../../lib/index.js';
import { ADAPTERS, type AdapterName, type TestApp, useTestApp, withTestApp } from '../support/app.js';
import { accessCookie, bearer, expectResponse, handlerRuns } from '../support/http.js';

/** Calls of the tokenVerification loader: one per verified request, however often the guard is bound. */
let verifications = 0;

@Injectable()
class CountingVerification implements TokenVerificationLoader {
  verifyToken() {
    verifications++;
    return true;
  }
}

type Kind = 'none' | 'bad' | 'access' | 'fresh' | 'refresh' | 'cookie';
interface Tokens {
  access: string;
  fresh: string;
  refresh: string;
}

async function tokensOf(t: TestApp): Promise<Tokens> {
  return {
    access: await t.jwt.createAccessToken('alice'),
    fresh: await t.jwt.createAccessToken('alice', { fresh: true }),
    refresh: await t.jwt.createRefreshToken('alice'),
  };
}

function credentials(kind: Kind, tokens: Tokens): Record<string, string> {
  switch (kind) {
    case 'none':
      return {};
    case 'bad':
      return { Authorization: 'Bearer x.y.z' };
    case 'cookie':
      return accessCookie(tokens.access);
    default:
      return bearer(tokens[kind]);
  }
}

const MISSING = { msg: 'Missing Authorization Header' };
const MISSING_COOKIE = { msg: 'Missing cookie "access_token_cookie"' };
const NOT_FRESH = { msg: 'Fresh token required' };
const ONLY_REFRESH = { msg: 'Only refresh tokens are allowed' };
const ALICE = { id: 'alice' };
const NOBODY = { id: null };

// ---------------------------------------------------------------------------------------------
// One handler inherited by several controllers, each with its own class options.

class SharedHandler {
  @Get()
  who(@JwtIdentity() id: unknown) {
    handlerRuns.record(this.constructor.name);
    return { id };
  }
}
@Controller('optional')
@JwtRequired({ optional: true })
class OptionalChild extends SharedHandler {}
@Controller('protected')
@JwtRequired()
class ProtectedChild extends SharedHandler {}
@Controller('fresh')
@JwtRequired({ fresh: true })
class FreshChild extends SharedHandler {}

/** What each child answers, per credential: [kind, status, body, handler ran]. */
const CHILDREN: Record<string, { controller: Type; path: string; rows: [Kind, number, unknown, boolean][] }> = {
  optional: {
    controller: OptionalChild,
    path: '/optional',
    rows: [
      ['none', 200, NOBODY, true],
      ['access', 200, ALICE, true],
    ],
  },
  protected: {
    controller: ProtectedChild,
    path: '/protected',
    rows: [
      ['none', 401, MISSING, false],
      ['access', 200, ALICE, true],
    ],
  },
  fresh: {
    controller: FreshChild,
    path: '/fresh',
    rows: [
      ['none', 401, MISSING, false],
      ['access', 401, NOT_FRESH, false],
      ['fresh', 200, ALICE, true],
    ],
  },
};

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

describe.each(ADAPTERS)('one handler inherited by several controllers keeps per-controller options (%s)', (adapter) => {
  // Each order gets its own app: the guard's cache starts empty, so the first request decides what it holds.
  const expectOwnOptions = (order: string[]) =>
    withTestApp(adapter, { controllers: order.map((name) => CHILDREN[name].controller) }, async (t) => {
      const tokens = await tokensOf(t);
      const ask = async (name: string, [kind, status, body, ran]: [Kind, number, unknown, boolean]) =>
        expectResponse(
          request(t.url).get(CHILDREN[name].path).set(credentials(kind, tokens)),
          status,
          body,
          ran ? CHILDREN[name].controller.name : [],
        );
      // First contact without a token, in the given order: this is what used to fill the shared entry.
      for (const name of order) await ask(name, CHILDREN[name].rows[0]);
      // Then repeated alternation between the controllers, every credential each time.
      for (let round = 0; round < 4; round++) {
        for (const name of order) for (const row of CHILDREN[name].rows) await ask(name, row);
      }
    });

  it.each([
    ['optional', 'protected'],
    ['protected', 'optional'],
  ])('two controllers, %s first', (...order) => expectOwnOptions(order));
  it.each(permutations(['optional', 'protected', 'fresh']))('three controllers, order %s, %s, %s', (...order) => expectOwnOptions(order));
});

// ---------------------------------------------------------------------------------------------
// Class options versus handler options: the nearest declaration replaces the others as a whole.

@Controller('replace')
@JwtRequired({ optional: true })
class OptionalClassController {
  @Get('fresh')
  @JwtRequired({ fresh: true })
  fresh(@JwtIdentity() id: unknown) {
    handlerRuns.record('replace/fresh');
    return { id };
  }
  @Get('refresh')
  @JwtRequired({ refresh: true })
  refresh(@JwtIdentity() id: unknown) {
    handlerRuns.record('replace/refresh');
    return { id };
  }
  @Get('cookies')
  @JwtRequired({ locations: 'cookies' })
  cookies(@JwtIdentity() id: unknown) {
    handlerRuns.record('replace/cookies');
    return { id };
  }
  @Get('plain')
  @JwtRequired()
  plain(@JwtIdentity() id: unknown) {
    handlerRuns.record('replace/plain');
    return { id };
  }
  @Get('class')
  fromClass(@JwtIdentity() id: unknown) {
    handlerRuns.record('replace/class');
    return { id };
  }
}

@Controller('fresh-class')
@JwtRequired({ fresh: true })
class FreshClassController {
  @Get('optional')
  @JwtRequired({ optional: true })
  optional(@JwtIdentity() id: unknown) {
    handlerRuns.record('fresh-class/optional');
    return { id };
  }
}

@Controller('guard-class')
@UseGuards(JwtGuard)
class GuardOnClassController {
  @Get()
  defaults(@JwtIdentity() id: unknown) {
    handlerRuns.record('guard-class');
    return { id };
  }
}

@Controller('guard-handler')
class GuardOnHandlerController {
  @Get()
  @UseGuards(JwtGuard)
  defaults(@JwtIdentity() id: unknown) {
    handlerRuns.record('guard-handler');
    return { id };
  }
}

@Controller('twice')
@JwtRequired()
class TwiceController {
  @Get()
  @JwtRequired()
  twice(@JwtIdentity() id: unknown) {
    handlerRuns.record('twice');
    return { id };
  }
}

// Nest's metadata model: class metadata is read through the prototype chain; method metadata
// belongs to the function, so an override without decorators has none of its own.
@Controller('model/base')
@JwtRequired({ optional: true })
class ModelBase {
  @Get('open')
  open(@JwtIdentity() id: unknown) {
    handlerRuns.record(`${this.constructor.name}.open`);
    return { id };
  }
  @Get('locked')
  @JwtRequired()
  locked(@JwtIdentity() id: unknown) {
    handlerRuns.record(`${this.constructor.name}.locked`);
    return { id };
  }
}
@Controller('model/inherits')
class ModelInherits extends ModelBase {}
@Controller('model/redeclares')
@JwtRequired()
class ModelRedeclares extends ModelBase {}
@Controller('model/overrides')
class ModelOverrides extends ModelBase {
  @Get('locked')
  override locked(@JwtIdentity() id: unknown) {
    return super.locked(id);
  }
}
@Controller('model/overrides-redecorated')
class ModelOverridesRedecorated extends ModelBase {
  @Get('locked')
  @JwtRequired({ fresh: true })
  override locked(@JwtIdentity() id: unknown) {
    return super.locked(id);
  }
}

describe.each(ADAPTERS)('class and handler options (%s)', (adapter) => {
  const t = useTestApp(adapter, {
    controllers: [
      OptionalClassController,
      FreshClassController,
      GuardOnClassController,
      GuardOnHandlerController,
      TwiceController,
      ModelBase,
      ModelInherits,
      ModelRedeclares,
      ModelOverrides,
      ModelOverridesRedecorated,
    ],
    loaders: { tokenVerification: CountingVerification },
  });
  let tokens: Tokens;
  const get = (path: string, kind: Kind) => request(t.url).get(path).set(credentials(kind, tokens));

  beforeAll(async () => {
    tokens = await tokensOf(t);
  });
  beforeEach(() => {
    verifications = 0;
  });

  it('class { optional } + handler { fresh }: a fresh token is required', async () => {
    await expectResponse(get('/replace/fresh', 'none'), 401, MISSING, []);
    await expectResponse(get('/replace/fresh', 'access'), 401, NOT_FRESH, []);
    await expectResponse(get('/replace/fresh', 'fresh'), 200, ALICE, 'replace/fresh');
  });
  it('class { optional } + handler { refresh }: a refresh token is required', async () => {
    await expectResponse(get('/replace/refresh', 'none'), 401, MISSING, []);
    await expectResponse(get('/replace/refresh', 'access'), 422, ONLY_REFRESH, []);
    await expectResponse(get('/replace/refresh', 'refresh'), 200, ALICE, 'replace/refresh');
  });
  it('class { optional } + handler { locations }: a token in that location is required', async () => {
    await expectResponse(get('/replace/cookies', 'none'), 401, MISSING_COOKIE, []);
    await expectResponse(get('/replace/cookies', 'access'), 401, MISSING_COOKIE, []);
    await expectResponse(get('/replace/cookies', 'cookie'), 200, ALICE, 'replace/cookies');
  });
  it('class { optional } + handler {}: a token is required', async () => {
    await expectResponse(get('/replace/plain', 'none'), 401, MISSING, []);
    await expectResponse(get('/replace/plain', 'bad'), 422, { msg: expect.any(String) }, []);
    await expectResponse(get('/replace/plain', 'access'), 200, ALICE, 'replace/plain');
  });
  it('an undecorated handler keeps its class options', async () => {
    await expectResponse(get('/replace/class', 'none'), 200, NOBODY, 'replace/class');
    await expectResponse(get('/replace/class', 'access'), 200, ALICE, 'replace/class');
    await expectResponse(get('/replace/class', 'bad'), 422, { msg: expect.any(String) }, []);
  });
  it('class { fresh } + handler { optional }: the handler drops the class requirement too', async () => {
    await expectResponse(get('/fresh-class/optional', 'none'), 200, NOBODY, 'fresh-class/optional');
    await expectResponse(get('/fresh-class/optional', 'access'), 200, ALICE, 'fresh-class/optional');
  });

  it('@UseGuards(JwtGuard) without @JwtRequired() applies the defaults, on a class or a handler', async () => {
    for (const path of ['/guard-class', '/guard-handler']) {
      await expectResponse(get(path, 'none'), 401, MISSING, []);
      await expectResponse(get(path, 'refresh'), 422, { msg: 'Only non-refresh tokens are allowed' }, []);
      await expectResponse(get(path, 'access'), 200, ALICE, path.slice(1));
    }
  });

  it('a guard bound twice (class and handler) verifies once', async () => {
    await expectResponse(get('/twice', 'access'), 200, ALICE, 'twice');
    expect(verifications).toBe(1);
    await expectResponse(get('/replace/plain', 'access'), 200, ALICE, 'replace/plain');
    expect(verifications).toBe(2);
    await expectResponse(get('/twice', 'none'), 401, MISSING, []);
    expect(verifications).toBe(2);
  });

  it('inherited class options: a subclass without its own @JwtRequired() gets its base class options', async () => {
    for (const path of ['/model/base', '/model/inherits']) {
      const owner = path === '/model/base' ? 'ModelBase' : 'ModelInherits';
      await expectResponse(get(`${path}/open`, 'none'), 200, NOBODY, `${owner}.open`);
      await expectResponse(get(`${path}/locked`, 'none'), 401, MISSING, []);
      await expectResponse(get(`${path}/locked`, 'access'), 200, ALICE, `${owner}.locked`);
    }
  });
  it('a subclass re-declaring @JwtRequired() on its class replaces the inherited class options', async () => {
    await expectResponse(get('/model/redeclares/open', 'none'), 401, MISSING, []);
    await expectResponse(get('/model/redeclares/open', 'access'), 200, ALICE, 'ModelRedeclares.open');
    await expectResponse(get('/model/redeclares/locked', 'none'), 401, MISSING, []);
    // The base class's route is unaffected by its subclass, in either order.
    await expectResponse(get('/model/base/open', 'none'), 200, NOBODY, 'ModelBase.open');
    await expectResponse(get('/model/redeclares/open', 'none'), 401, MISSING, []);
  });
  it('an override without @JwtRequired() has no handler options: the (inherited) class options apply', async () => {
    await expectResponse(get('/model/overrides/locked', 'none'), 200, NOBODY, 'ModelOverrides.locked');
    await expectResponse(get('/model/base/locked', 'none'), 401, MISSING, []);
    await expectResponse(get('/model/overrides/locked', 'access'), 200, ALICE, 'ModelOverrides.locked');
  });
  it('an override with its own @JwtRequired() uses those options', async () => {
    await expectResponse(get('/model/overrides-redecorated/locked', 'none'), 401, MISSING, []);
    await expectResponse(get('/model/overrides-redecorated/locked', 'access'), 401, NOT_FRESH, []);
    await expectResponse(get('/model/overrides-redecorated/locked', 'fresh'), 200, ALICE, 'ModelOverridesRedecorated.locked');
  });
});

// ---------------------------------------------------------------------------------------------
// OPTIONS requests: no method is exempt; CORS preflights are Nest's CORS support's business.

@Controller('verbs')
class VerbsController {
  constructor(private readonly jwt: JwtExtendedService) {}

  @All('all')
  @JwtRequired()
  all(@JwtIdentity() id: unknown) {
    handlerRuns.record('all');
    return { id };
  }
  @Options('options')
  @JwtRequired()
  options(@JwtIdentity() id: unknown) {
    handlerRuns.record('options');
    return { id };
  }
  @Options('manual')
  async manual(@Req() req: object) {
    const verified = await this.jwt.verifyJwtInRequest(req);
    handlerRuns.record('manual');
    return { id: verified?.payload.sub ?? null };
  }
  @All('manual-all')
  async manualAll(@Req() req: object) {
    const verified = await this.jwt.verifyJwtInRequest(req);
    handlerRuns.record('manual-all');
    return { id: verified?.payload.sub ?? null };
  }
  @Get('get')
  @JwtRequired()
  get(@JwtIdentity() id: unknown) {
    handlerRuns.record('get');
    return { id };
  }
}

const REAL_PREFLIGHT = {
  Origin: 'http://x.test',
  'Access-Control-Request-Method': 'POST',
  'Access-Control-Request-Headers': 'authorization',
};
const OPTIONS_HEADERS: [string, Record<string, string>][] = [
  ['preflight headers', REAL_PREFLIGHT],
  ['Access-Control-Request-Method only', { 'Access-Control-Request-Method': 'DELETE' }],
  ['Origin only', { Origin: 'http://x.test' }],
  ['no preflight headers', {}],
];
const OPTIONS_ROUTES = ['all', 'options', 'manual', 'manual-all'];

describe.each(ADAPTERS)('OPTIONS requests are verified (%s)', (adapter) => {
  const withApp = (cors: Parameters<TestApp['app']['enableCors']>[0] | false, body: (t: TestApp, tokens: Tokens) => Promise<void>) => {
    const beforeInit = (app: INestApplication) => {
      if (cors) app.enableCors(cors);
    };
    return withTestApp(adapter, { controllers: [VerbsController], beforeInit }, async (t) => body(t, await tokensOf(t)));
  };

  it.each(OPTIONS_HEADERS)('without CORS: OPTIONS with %s reaches @All/@Options handlers only with a token', (_, headers) =>
    withApp(false, async (t, tokens) => {
      for (const route of OPTIONS_ROUTES) {
        await expectResponse(request(t.url).options(`/verbs/${route}`).set(headers), 401, MISSING, []);
        await expectResponse(request(t.url).options(`/verbs/${route}`).set(headers).set(credentials('access', tokens)), 200, ALICE, route);
      }
    }),
  );

  it('without CORS: every other method on an @All() handler is verified too', () =>
    withApp(false, async (t, tokens) => {
      for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
        for (const route of ['all', 'manual-all']) {
          await expectResponse(request(t.url)[method](`/verbs/${route}`), 401, MISSING, []);
          await expectResponse(request(t.url)[method](`/verbs/${route}`).set(credentials('access', tokens)), 200, ALICE, route);
        }
      }
    }));

  it('with enableCors(): a real preflight is answered by CORS (2xx, CORS headers), no handler runs', () =>
    withApp({}, async (t, tokens) => {
      for (const route of ['all', 'options', 'manual', 'get']) {
        const { result: res, ran } = await handlerRuns.during(() => request(t.url).options(`/verbs/${route}`).set(REAL_PREFLIGHT));
        expect(res.status).toBeGreaterThanOrEqual(200);
        expect(res.status).toBeLessThan(300);
        expect(res.headers['access-control-allow-origin']).toBe('*');
        expect(res.headers['access-control-allow-methods']).toContain('POST');
        expect(ran).toEqual([]);
      }
      // The actual request after the preflight still needs its token.
      await expectResponse(request(t.url).post('/verbs/all').set('Origin', 'http://x.test'), 401, MISSING, []);
      await expectResponse(
        request(t.url).post('/verbs/all').set('Origin', 'http://x.test').set(credentials('access', tokens)),
        200,
        ALICE,
        'all',
      );
    }));

  it('with enableCors({ preflightContinue: true }): a preflight that reaches a protected handler is verified', () =>
    withApp({ preflightContinue: true }, async (t, tokens) => {
      for (const route of OPTIONS_ROUTES) {
        const denied = await expectResponse(request(t.url).options(`/verbs/${route}`).set(REAL_PREFLIGHT), 401, MISSING, []);
        expect(denied.headers['access-control-allow-origin']).toBe('*');
        await expectResponse(
          request(t.url).options(`/verbs/${route}`).set(REAL_PREFLIGHT).set(credentials('access', tokens)),
          200,
          ALICE,
          route,
        );
      }
    }));
});

// ---------------------------------------------------------------------------------------------
// Property: random decorations and inheritance, random request order, over a real app. Each
// answer must match a model of the contract (nearest declaration wins, no merge), which implies
// the headline: without `optional: true` a handler never runs without a valid token.

type Declaration = JwtRequiredOptions | undefined;
interface ClassModel {
  /** Index of the parent class in the scenario (-1 for the base class itself). */
  parent: number;
  /** `@JwtRequired(options)` on the class, if any. */
  classOptions: Declaration;
  /** Whether the class defines the handler itself (the base always does). */
  definesHandler: boolean;
  /** `@JwtRequired(options)` on its own handler, if it defines one. */
  handlerOptions: Declaration;
}
interface Scenario {
  classes: ClassModel[];
  /** `@UseGuards(JwtGuard)` on the base class: routes without any options get the defaults. */
  baseGuarded: boolean;
  baseRegistered: boolean;
  requests: [number, Kind][];
}

const LOCATIONS: (TokenLocation | TokenLocation[])[] = ['headers', 'cookies', ['cookies', 'headers'], ['headers', 'cookies']];
const optionsArb: fc.Arbitrary<JwtRequiredOptions> = fc.record(
  {
    optional: fc.boolean(),
    fresh: fc.boolean(),
    refresh: fc.boolean(),
    locations: fc.constantFrom(...LOCATIONS),
    verifyType: fc.boolean(),
    skipRevocationCheck: fc.boolean(),
  },
  { requiredKeys: [] },
);
// Half the classes and handlers undecorated, so inherited options and shared handlers are common.
const declarationArb: fc.Arbitrary<Declaration> = fc.option(optionsArb, { nil: undefined, freq: 2 });
const KINDS: Kind[] = ['none', 'bad', 'access', 'fresh', 'refresh', 'cookie'];

const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    base: fc.record({ classOptions: declarationArb, handlerOptions: declarationArb }),
    subclasses: fc.array(
      fc.record({
        parentPick: fc.nat(),
        classOptions: declarationArb,
        // Mostly inherit the handler: siblings sharing one handler function is what the options cache got wrong.
        definesHandler: fc.nat(2).map((n) => n === 0),
        handlerOptions: declarationArb,
      }),
      { minLength: 1, maxLength: 4 },
    ),
    baseGuarded: fc.boolean(),
    baseRegistered: fc.boolean(),
    requests: fc.array(fc.tuple(fc.nat(), fc.constantFrom(...KINDS)), { minLength: 20, maxLength: 40 }),
  })
  .map(({ base, subclasses, baseGuarded, baseRegistered, requests }) => ({
    classes: [
      { parent: -1, classOptions: base.classOptions, definesHandler: true, handlerOptions: base.handlerOptions },
      ...subclasses.map((s, i) => ({
        // Any earlier class may be the parent: chains of any depth, siblings sharing handlers.
        parent: s.parentPick % (i + 1),
        classOptions: s.classOptions,
        definesHandler: s.definesHandler,
        handlerOptions: s.definesHandler ? s.handlerOptions : undefined,
      })),
    ],
    baseGuarded,
    baseRegistered,
    requests,
  }));

/** Builds the controllers by calling the decorators as functions, as TypeScript would. */
function buildControllers(scenario: Scenario): Type[] {
  const classes: Type[] = [];
  scenario.classes.forEach((model, i) => {
    const Cls: Type = model.parent < 0 ? class {} : class extends classes[model.parent] {};
    Object.defineProperty(Cls, 'name', { value: `Generated${i}` });
    if (model.definesHandler) {
      const proto = Cls.prototype as object;
      Object.defineProperty(proto, 'handle', {
        value: function handle(this: object) {
          handlerRuns.record(this.constructor.name);
          return { ran: true };
        },
        writable: true,
        configurable: true,
      });
      const descriptor = Object.getOwnPropertyDescriptor(proto, 'handle')!;
      Get('handle')(proto, 'handle', descriptor);
      if (model.handlerOptions) JwtRequired(model.handlerOptions)(proto, 'handle', descriptor);
    }
    if (model.classOptions) JwtRequired(model.classOptions)(Cls);
    if (i === 0 && scenario.baseGuarded) UseGuards(JwtGuard)(Cls);
    Controller(`c${i}`)(Cls);
    classes.push(Cls);
  });
  return scenario.baseRegistered ? classes : classes.slice(1);
}

/** The model's answer: nearest declaration wins (handler, then class up the chain), no merge. */
function effectiveOptions(scenario: Scenario, index: number): JwtRequiredOptions | 'public' {
  const chain: ClassModel[] = [];
  for (let i = index; i >= 0; i = scenario.classes[i].parent) chain.push(scenario.classes[i]);
  const handlerOptions = chain.find((c) => c.definesHandler)!.handlerOptions;
  const classOptions = chain.find((c) => c.classOptions)?.classOptions;
  return handlerOptions ?? classOptions ?? (scenario.baseGuarded ? {} : 'public');
}

function expectedOutcome(options: JwtRequiredOptions | 'public', kind: Kind): { status: number; ran: boolean } {
  const handled = { status: 200, ran: true };
  if (options === 'public') return handled;
  const refresh = options.refresh === true;
  const locations = options.locations === undefined ? ['headers'] : [options.locations].flat();
  const found = locations.some((location) =>
    location === 'headers' ? kind !== 'none' && kind !== 'cookie' : kind === 'cookie' && !refresh,
  );
  if (!found) return options.optional ? handled : { status: 401, ran: false };
  if (kind === 'bad') return { status: 422, ran: false };
  if (options.verifyType !== false && refresh !== (kind === 'refresh')) return { status: 422, ran: false };
  if (options.fresh && kind !== 'fresh') return { status: 401, ran: false };
  return handled;
}

describe.each(ADAPTERS)('property over the guard option resolution (%s)', (adapter: AdapterName) => {
  it('a handler runs without a valid token only when its effective options say optional', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (scenario) => {
        const controllers = buildControllers(scenario);
        const offset = scenario.baseRegistered ? 0 : 1;
        await withTestApp(adapter, { controllers }, async (t) => {
          const tokens = await tokensOf(t);
          for (const [pick, kind] of scenario.requests) {
            const index = offset + (pick % controllers.length);
            const options = effectiveOptions(scenario, index);
            const { status, ran } = expectedOutcome(options, kind);
            await expectResponse(
              request(t.url).get(`/c${index}/handle`).set(credentials(kind, tokens)),
              status,
              expect.anything(),
              ran ? `Generated${index}` : [],
              { context: { index, kind, options } },
            );
          }
        });
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});
