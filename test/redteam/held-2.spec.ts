import {
  Controller,
  Get,
  Inject,
  Injectable,
  type MiddlewareConsumer,
  Module,
  type NestMiddleware,
  type NestModule,
  Post,
} from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  JWT_BLOCKLIST,
  type RevocationStore,
  InMemoryBlocklist,
  type InvalidTokenLoader,
  Jwt,
  JwtExtendedModule,
  JwtExtendedService,
  JwtHeader,
  JwtIdentity,
  JwtPublic,
  JwtRequired,
  type JwtPayload,
} from '../../lib/index.js';
import { ADAPTERS, SECRET, TOKEN_CACHE, createTestApp, type TestApp } from '../support/app.js';
import { bearer, expectResponse, handlerRuns } from '../support/http.js';
import { forgeHmac, now } from '../support/forge.js';

/*
 * Second pass: attacks that were expected to work and did not, kept as regression tests. Each
 * runs on both adapters, and with TEST_TOKEN_CACHE_SIZE=0 too.
 */

@Injectable()
class Revocations extends InMemoryBlocklist {}

/** An invalidToken loader that never answers: the default must be sent once loaderTimeout is over. */
@Injectable()
class HangingInvalidToken implements InvalidTokenLoader {
  onInvalidToken(): Promise<never> {
    return new Promise<never>(() => undefined);
  }
}

@Controller('params')
class ParamRoutes {
  @Get('protected')
  @JwtRequired()
  protectedRoute(
    @Jwt('constructor') ctor: unknown,
    @Jwt('__proto__') proto: unknown,
    @Jwt('toString') toStr: unknown,
    @Jwt('hasOwnProperty') hasOwn: unknown,
    @Jwt() jwt: JwtPayload,
    @JwtHeader() header: Record<string, unknown>,
  ) {
    handlerRuns.record('params');
    return {
      kinds: [ctor, proto, toStr, hasOwn].map((v) => typeof v),
      isAdmin: (jwt as Record<string, unknown>).isAdmin ?? null,
      headerAdmin: header.isAdmin ?? null,
      protoOfJwt: Object.getPrototypeOf(jwt) === Object.prototype,
    };
  }

  @Get('public')
  @JwtPublic()
  publicRoute(@Jwt('constructor') ctor: unknown, @Jwt('__proto__') proto: unknown, @JwtIdentity() id: unknown) {
    handlerRuns.record('public-params');
    return { kinds: [ctor, proto].map((v) => typeof v), id };
  }
}

/** Public at class level; one handler asks for a token with its own declaration, in a base class. */
@JwtRequired({ fresh: true })
class ProtectedBase {
  @Get('inherited-fresh')
  @JwtRequired({ fresh: true })
  inheritedFresh(@JwtIdentity() id: unknown) {
    handlerRuns.record('inherited-fresh');
    return { id };
  }

  @Get('inherited-class')
  inheritedClass(@JwtIdentity() id: unknown) {
    handlerRuns.record('inherited-class');
    return { id };
  }
}

@Controller('derived')
@JwtPublic()
class PublicDerived extends ProtectedBase {}

@Controller('base')
class BaseRoutes extends ProtectedBase {}

/** Middleware that verifies loosely (for logging), before routes that verify strictly. */
@Injectable()
class LooseVerify implements NestMiddleware {
  constructor(private readonly jwt: JwtExtendedService) {}
  async use(req: object, _res: unknown, next: (error?: unknown) => void) {
    try {
      await this.jwt.verifyJwtInRequest(req, { optional: true, skipRevocationCheck: true, verifyType: false });
      next();
    } catch (error) {
      next(error);
    }
  }
}

@Controller('mw')
class MiddlewareRoutes {
  constructor(private readonly store: Revocations) {}

  @Get('strict')
  @JwtRequired()
  strict(@JwtIdentity() id: unknown) {
    handlerRuns.record('strict');
    return { id };
  }

  @Post('revoke')
  @JwtRequired()
  async revoke(@Jwt() jwt: JwtPayload) {
    await this.store.revokeToken(jwt);
    return { ok: true };
  }
}

@Module({ controllers: [MiddlewareRoutes], providers: [Revocations], exports: [Revocations] })
class MiddlewareFeature implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    consumer.apply(LooseVerify).forRoutes(MiddlewareRoutes);
  }
}

describe.each(ADAPTERS)('probes that held, second pass (%s)', (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(adapter, {
      imports: [MiddlewareFeature],
      module: JwtExtendedModule.forRoot({
        secretKey: SECRET,
        loaderTimeout: 300,
        imports: [MiddlewareFeature],
        loaders: { blocklist: Revocations, invalidToken: HangingInvalidToken },
        globalGuard: true,
        ...TOKEN_CACHE,
      }),
      controllers: [ParamRoutes, PublicDerived, BaseRoutes],
    });
  });
  afterAll(() => t.close());

  it("@Jwt('claim') reads own claims only: prototype members are undefined, an own __proto__ claim pollutes nothing", async () => {
    const token = forgeHmac(
      { alg: 'HS256', typ: 'JWT', __proto__: { isAdmin: true } },
      `{"sub":"mallory","iat":${now()},"exp":${now() + 60},"type":"access","fresh":false,"jti":"j1","__proto__":{"isAdmin":true}}`,
      SECRET,
    );
    await expectResponse(
      request(t.url).get('/params/protected').set(bearer(token)),
      200,
      { kinds: ['undefined', 'object', 'undefined', 'undefined'], isAdmin: null, headerAdmin: null, protoOfJwt: true },
      'params',
    );
    const plain = await t.jwt.createAccessToken('alice');
    await expectResponse(
      request(t.url).get('/params/protected').set(bearer(plain)),
      200,
      { kinds: ['undefined', 'undefined', 'undefined', 'undefined'], isAdmin: null, headerAdmin: null, protoOfJwt: true },
      'params',
    );
  });

  it("@Jwt('claim') on a public route with a token sent reads nothing (no token is read)", async () => {
    const token = await t.jwt.createAccessToken('alice');
    await expectResponse(
      request(t.url).get('/params/public').set(bearer(token)),
      200,
      { kinds: ['undefined', 'undefined'], id: null },
      'public-params',
    );
  });

  it("a base class's handler declaration survives a @JwtPublic() subclass; its class declaration does not", async () => {
    const stale = await t.jwt.createAccessToken('alice');
    await expectResponse(request(t.url).get('/derived/inherited-fresh').set(bearer(stale)), 401, { msg: 'Fresh token required' }, []);
    await expectResponse(request(t.url).get('/derived/inherited-fresh'), 401, { msg: 'Missing Authorization Header' }, []);
    await expectResponse(request(t.url).get('/base/inherited-class').set(bearer(stale)), 401, { msg: 'Fresh token required' }, []);
    // The subclass's own (nearer) @JwtPublic() opens the handler that only the base class protected.
    await expectResponse(request(t.url).get('/derived/inherited-class'), 200, { id: null }, 'inherited-class');
  });

  it('loose middleware verification never stands in for the route: a revoked or refresh token is still refused', async () => {
    const token = await t.jwt.createAccessToken('bob');
    await expectResponse(request(t.url).get('/mw/strict').set(bearer(token)), 200, { id: 'bob' }, 'strict');
    await request(t.url).post('/mw/revoke').set(bearer(token)).expect(201);
    await expectResponse(request(t.url).get('/mw/strict').set(bearer(token)), 401, { msg: 'Token has been revoked' }, []);
    const refresh = await t.jwt.createRefreshToken('bob');
    await expectResponse(request(t.url).get('/mw/strict').set(bearer(refresh)), 422, { msg: 'Only non-refresh tokens are allowed' }, []);
  });

  it('an error loader that never answers: the default 422 once loaderTimeout is over, no hang', async () => {
    await expectResponse(request(t.url).get('/params/protected').set(bearer('not.a.token')), 422, { msg: 'Invalid header string' }, []);
  });
});

/** Revokes through the JWT_BLOCKLIST token, as an app that does not name the store class would. */
@Controller('nest')
class NestFormatRoutes {
  constructor(@Inject(JWT_BLOCKLIST) private readonly store: RevocationStore) {}

  @Get('me')
  @JwtRequired()
  me(@JwtIdentity() id: unknown) {
    handlerRuns.record('nest/me');
    return { id };
  }

  @Post('revoke')
  @JwtRequired()
  async revoke(@Jwt() jwt: JwtPayload) {
    await this.store.revokeToken(jwt);
    return { ok: true };
  }
}

/** A feature module with its own errorFormat, next to an app module with another (no error loaders). */
@Controller('flask-feature')
class FlaskFeatureController {
  @Get('me')
  @JwtRequired()
  me(@JwtIdentity() id: unknown) {
    return { id };
  }
}

@Module({
  imports: [
    JwtExtendedModule.forRoot({
      secretKey: 'feature-secret-that-is-32-bytes-long!',
      errorMessageKey: 'reason',
      isGlobal: false,
      ...TOKEN_CACHE,
    }),
  ],
  controllers: [FlaskFeatureController],
})
class FlaskFeature {}

describe.each(ADAPTERS)("errorFormat: 'nest' bodies and JWT_BLOCKLIST (%s)", (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(adapter, {
      imports: [FlaskFeature],
      options: { errorFormat: 'nest' },
      loaders: { blocklist: Revocations },
      controllers: [NestFormatRoutes],
    });
  });
  afterAll(() => t.close());

  it('a token revoked through JWT_BLOCKLIST is refused; the Nest body carries no token, jti or claim', async () => {
    const token = await t.jwt.createAccessToken('erin', { additionalClaims: { secretNote: 'do-not-echo' } });
    await request(t.url).post('/nest/revoke').set(bearer(token)).expect(201);
    const jti = t.jwt.getJti(token)!;
    for (const hidden of [token, jti, 'do-not-echo', 'erin']) {
      await expectResponse(
        request(t.url).get('/nest/me').set(bearer(token)),
        401,
        { statusCode: 401, message: 'Token has been revoked', error: 'Unauthorized', code: 'REVOKED' },
        [],
        { hides: hidden },
      );
    }
  });

  it("without error loaders each module keeps its own body: the feature module's errorMessageKey, the app's 'nest'", async () => {
    await expectResponse(request(t.url).get('/flask-feature/me'), 401, { reason: 'Missing Authorization Header' }, []);
    await expectResponse(
      request(t.url).get('/nest/me'),
      401,
      { statusCode: 401, message: 'Missing Authorization Header', error: 'Unauthorized', code: 'NO_AUTHORIZATION' },
      [],
    );
  });
});

describe('globalGuard inside the forRootAsync factory (where it has no effect)', () => {
  it('stops start-up instead of leaving every route open', async () => {
    const started = createTestApp('express', {
      module: JwtExtendedModule.forRootAsync({
        useFactory: () => ({ secretKey: SECRET, globalGuard: true }) as never,
      }),
      controllers: [ParamRoutes],
    });
    await expect(started).rejects.toThrow(/globalGuard/);
  });
});
