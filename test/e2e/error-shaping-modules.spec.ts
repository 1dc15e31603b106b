import { Controller, type DynamicModule, Get, HttpException, Injectable, Module, Query, Req, type Type } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  InMemoryBlocklist,
  type InvalidTokenLoader,
  type JwtErrorFormat,
  JwtExtendedModule,
  JwtExtendedService,
  JwtIdentity,
  JwtRequired,
} from '../../lib/index.js';
import { ADAPTERS, TOKEN_CACHE, useTestApp } from '../support/app.js';

/*
 * Each JwtExtendedModule shapes its own exceptions (§16 errorFormat per module, §17 error loaders of
 * their module), whichever module's JwtErrorFilter catches them: Nest lets only one of the app-wide
 * filters catch an exception, so every route below is answered through another module's filter in
 * one of the two import orders.
 */

/** A feature module with its own JwtExtendedModule (not global), its routes under `/<name>`. */
function featureModule(name: string, errorFormat: JwtErrorFormat, invalidTokenStatus?: number): Type {
  @Injectable()
  class InvalidToken implements InvalidTokenLoader {
    onInvalidToken(reason: string) {
      return new HttpException({ shapedBy: name, reason }, invalidTokenStatus ?? 500);
    }
  }

  @Controller(name)
  class Routes {
    constructor(private readonly jwt: JwtExtendedService) {}
    @Get('guarded')
    @JwtRequired()
    guarded(@JwtIdentity() id: unknown) {
      return { id };
    }
    @Get('manual')
    async manual(@Req() req: object) {
      await this.jwt.verifyJwtInRequest(req);
      return { ok: true };
    }
    @Get('decode')
    decode(@Query('token') token: string) {
      return this.jwt.decodeToken(token);
    }
  }

  const jwt: DynamicModule = JwtExtendedModule.forRoot({
    secretKey: `${name}-secret-that-is-32-bytes-long!!!`,
    errorFormat,
    isGlobal: false,
    loaders: invalidTokenStatus === undefined ? undefined : { invalidToken: InvalidToken },
    ...TOKEN_CACHE,
  });
  @Module({ imports: [jwt], controllers: [Routes] })
  class Feature {}
  Object.defineProperty(Feature, 'name', { value: `${name}Module` });
  return Feature;
}

@Module({})
class Root {}

/** The app: only the feature modules, in this order. */
const app = (...imports: Type[]) => ({ imports, module: { module: Root } });

const ROUTES = ['guarded', 'manual'] as const;
const missing = (format: JwtErrorFormat) =>
  format === 'flask'
    ? { msg: 'Missing Authorization Header' }
    : { statusCode: 401, message: 'Missing Authorization Header', error: 'Unauthorized', code: 'NO_AUTHORIZATION' };
const invalidHeader = (format: JwtErrorFormat) =>
  format === 'flask'
    ? { msg: 'Invalid header string' }
    : { statusCode: 422, message: 'Invalid header string', error: 'Unprocessable Entity', code: 'INVALID_TOKEN' };

async function get(url: string, path: string, token?: string) {
  const req = request(url).get(path);
  const res = await (token === undefined ? req : req.set('Authorization', `Bearer ${token}`));
  return { status: res.status, body: res.body as unknown };
}

describe.each(ADAPTERS)('two modules with error loaders (%s)', (adapter) => {
  // `flaskish` keeps the default body: its verifier must still name the owner of its exceptions.
  const flaskish = featureModule('flaskish', 'flask', 418);
  const nestish = featureModule('nestish', 'nest', 400);

  describe.each([
    ['flaskish first', [flaskish, nestish]],
    ['nestish first', [nestish, flaskish]],
  ])('%s', (_order, imports) => {
    const t = useTestApp(adapter, app(...imports));

    it.each(ROUTES)("each module's loader shapes a bad token on its own routes (%s)", async (route) => {
      expect(await get(t.url, `/flaskish/${route}`, 'not.a.token')).toEqual({
        status: 418,
        body: { shapedBy: 'flaskish', reason: 'Invalid header string' },
      });
      expect(await get(t.url, `/nestish/${route}`, 'not.a.token')).toEqual({
        status: 400,
        body: { shapedBy: 'nestish', reason: 'Invalid header string' },
      });
    });

    it("each module's loader shapes decodeToken's exception in its own handlers", async () => {
      expect(await get(t.url, '/flaskish/decode?token=not.a.token')).toMatchObject({ status: 418, body: { shapedBy: 'flaskish' } });
      expect(await get(t.url, '/nestish/decode?token=not.a.token')).toMatchObject({ status: 400, body: { shapedBy: 'nestish' } });
    });

    it.each(ROUTES)('an error no loader shapes keeps its own module’s errorFormat (%s)', async (route) => {
      expect(await get(t.url, `/flaskish/${route}`)).toEqual({ status: 401, body: missing('flask') });
      expect(await get(t.url, `/nestish/${route}`)).toEqual({ status: 401, body: missing('nest') });
    });
  });
});

describe.each(ADAPTERS)('a module without error loaders next to one with them (%s)', (adapter) => {
  const plain = featureModule('plain', 'flask');
  const loud = featureModule('loud', 'nest', 418);

  describe.each([
    ['plain first', [plain, loud]],
    ['loud first', [loud, plain]],
  ])('%s', (_order, imports) => {
    const t = useTestApp(adapter, app(...imports));

    it.each(ROUTES)("the other module's loader does not answer for it (%s)", async (route) => {
      expect(await get(t.url, `/plain/${route}`, 'not.a.token')).toEqual({ status: 422, body: invalidHeader('flask') });
      expect(await get(t.url, `/plain/${route}`)).toEqual({ status: 401, body: missing('flask') });
      expect(await get(t.url, `/loud/${route}`, 'not.a.token')).toEqual({
        status: 418,
        body: { shapedBy: 'loud', reason: 'Invalid header string' },
      });
      expect(await get(t.url, `/loud/${route}`)).toEqual({ status: 401, body: missing('nest') });
    });

    it("decodeToken's exception keeps its own module's body", async () => {
      expect(await get(t.url, '/plain/decode?token=not.a.token')).toMatchObject({ status: 422, body: { msg: expect.any(String) } });
    });
  });
});

/** Full after one revoked token: a second identity's revocation fails closed (503) in the store's own body. */
@Injectable()
class FullStore extends InMemoryBlocklist {
  constructor() {
    super({ maxEntries: 1 });
  }
}

@Controller('store')
class StoreRoutes {
  constructor(private readonly store: FullStore) {}
  @Get('revoke')
  async revoke(@Query('sub') sub: string) {
    await this.store.revokeToken({ jti: `jti-${sub}`, sub, exp: Math.floor(Date.now() / 1000) + 600 });
    return { ok: true };
  }
}

@Module({
  imports: [
    JwtExtendedModule.forRoot({
      secretKey: 'store-secret-that-is-32-bytes-long!!!',
      errorMessageKey: 'error',
      isGlobal: false,
      loaders: { blocklist: FullStore },
      ...TOKEN_CACHE,
    }),
  ],
  controllers: [StoreRoutes],
})
class StoreModule {}

describe.each(ADAPTERS)("a store's exception next to a module with error loaders (%s)", (adapter) => {
  const t = useTestApp(adapter, app(StoreModule, featureModule('loud', 'nest', 418)));

  it("keeps the body its store's module gave it", async () => {
    expect(await get(t.url, '/store/revoke?sub=first')).toEqual({ status: 200, body: { ok: true } });
    expect(await get(t.url, '/store/revoke?sub=second')).toEqual({ status: 503, body: { error: 'Token revocation store unavailable' } });
  });
});
