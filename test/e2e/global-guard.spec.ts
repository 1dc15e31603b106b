import {
  type CanActivate,
  Controller,
  Get,
  Injectable,
  type MiddlewareConsumer,
  Module,
  type NestMiddleware,
  type NestModule,
  Post,
  Res,
} from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  type BlocklistLoader,
  CurrentUser,
  Jwt,
  JwtExtendedModule,
  JwtExtendedService,
  JwtGuard,
  JwtHeader,
  JwtIdentity,
  JwtLocation,
  JwtPublic,
  JwtRequired,
  type JwtPayload,
  type TokenVerificationLoader,
  type UserLookupLoader,
} from '../../lib/index.js';
import { ADAPTERS, RecordingLogger, SECRET, createTestApp, type TestApp } from '../support/app.js';

/** Loader calls, to prove each request is verified once however many bindings of the guard run. */
const calls = { blocklist: 0, verification: 0 };

@Injectable()
class CountingChecks implements BlocklistLoader, TokenVerificationLoader {
  isTokenRevoked() {
    calls.blocklist++;
    return false;
  }
  verifyToken() {
    calls.verification++;
    return true;
  }
}

/** What the param decorators see. */
function seen(jwt: unknown, header: unknown, identity: unknown, location: unknown) {
  return { jwt, header, identity, location };
}

/** No declaration: the global default. */
@Controller('default')
class DefaultController {
  @Get('plain')
  plain(@JwtIdentity() id: unknown) {
    return { id };
  }
  @Get('public')
  @JwtPublic()
  open(@Jwt() jwt: unknown, @JwtHeader() header: unknown, @JwtIdentity() id: unknown, @JwtLocation() location: unknown) {
    return seen(jwt, header, id, location);
  }
  @Get('fresh')
  @JwtRequired({ fresh: true })
  fresh(@JwtIdentity() id: unknown) {
    return { id };
  }
  @Get('refresh')
  @JwtRequired({ refresh: true })
  refresh(@JwtIdentity() id: unknown) {
    return { id };
  }
}

/** A public class: its handlers are open unless they declare `@JwtRequired()`. */
@Controller('open')
@JwtPublic()
class OpenController {
  constructor(private readonly jwt: JwtExtendedService) {}

  @Get('plain')
  plain(@Jwt() jwt: unknown, @JwtHeader() header: unknown, @JwtIdentity() id: unknown, @JwtLocation() location: unknown) {
    return seen(jwt, header, id, location);
  }
  @Get('guarded')
  @JwtRequired()
  guarded(@JwtIdentity() id: unknown) {
    return { id };
  }
  @Get('fresh')
  @JwtRequired({ fresh: true })
  fresh(@JwtIdentity() id: unknown) {
    return { id };
  }
  /** Logout always clears the cookies, whatever state they are in. */
  @Post('logout')
  logout(@Res({ passthrough: true }) res: object) {
    this.jwt.unsetJwtCookies(res);
    return { msg: 'Logged out' };
  }
}

/** A class declaration: its handlers follow it unless they declare their own. */
@Controller('optional')
@JwtRequired({ optional: true })
class OptionalController {
  @Get('plain')
  plain(@JwtIdentity() id: unknown) {
    return { id };
  }
  @Get('public')
  @JwtPublic()
  open(@Jwt() jwt: unknown, @JwtHeader() header: unknown, @JwtIdentity() id: unknown, @JwtLocation() location: unknown) {
    return seen(jwt, header, id, location);
  }
  @Get('refresh')
  @JwtRequired({ refresh: true })
  refresh(@JwtIdentity() id: unknown) {
    return { id };
  }
}

/** Global + class + handler: three bindings of the guard on one route. */
@Controller('bound')
@JwtRequired()
class ThriceBoundController {
  @Get('fresh')
  @JwtRequired({ fresh: true })
  fresh(@JwtIdentity() id: unknown) {
    return { id };
  }
}

/** A base class declaration reaches subclasses; a subclass's own declaration is nearer. */
@Controller('base')
@JwtRequired()
class ProtectedBase {
  @Get('plain')
  plain() {
    return { ok: true };
  }
}
@Controller('sub')
@JwtPublic()
class PublicSub extends ProtectedBase {}

/** Both declarations on one target contradict each other: the protected reading wins. */
@Controller('both')
@JwtPublic()
@JwtRequired()
class BothOnClassController {
  @Get('class')
  onClass() {
    return { ok: true };
  }
  @Get('handler')
  @JwtRequired({ optional: true })
  @JwtPublic()
  onHandler(@JwtIdentity() id: unknown) {
    return { id };
  }
}

/** Verifies in middleware (§17): a public route then shows that state rather than hiding it. */
@Injectable()
class VerifyInMiddleware implements NestMiddleware {
  constructor(private readonly jwt: JwtExtendedService) {}
  use(req: object, _res: object, next: (error?: unknown) => void) {
    this.jwt.verifyJwtInRequest(req, { optional: true }).then(() => next(), next);
  }
}

@Controller('mw')
class MiddlewareController {
  @Get('public')
  @JwtPublic()
  open(@JwtIdentity() id: unknown) {
    return { id };
  }
}

@Module({ controllers: [MiddlewareController], providers: [VerifyInMiddleware] })
class MiddlewareModule implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    consumer.apply(VerifyInMiddleware).forRoutes(MiddlewareController);
  }
}

const NOTHING = { jwt: {}, header: {}, identity: null, location: null };
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe.each(ADAPTERS)('globalGuard and @JwtPublic() (%s)', (adapter) => {
  let t: TestApp;
  let access: string;
  let fresh: string;
  let refresh: string;
  let expired: string;
  beforeAll(async () => {
    t = await createTestApp(adapter, {
      options: { tokenLocation: ['headers', 'cookies'] },
      globalGuard: true,
      loaders: { blocklist: CountingChecks, tokenVerification: CountingChecks },
      imports: [MiddlewareModule],
      controllers: [
        DefaultController,
        OpenController,
        OptionalController,
        ThriceBoundController,
        ProtectedBase,
        PublicSub,
        BothOnClassController,
      ],
    });
    access = await t.jwt.createAccessToken('alice');
    fresh = await t.jwt.createAccessToken('alice', { fresh: true });
    refresh = await t.jwt.createRefreshToken('alice');
    expired = await t.jwt.createAccessToken('alice', { expiresDelta: -60 });
  });
  afterAll(() => t.close());

  describe('global default (no declaration)', () => {
    it('every route requires a valid access token', async () => {
      await request(t.url)
        .get('/default/plain')
        .expect(401, { msg: 'Missing JWT in headers or cookies (Missing Authorization Header; Missing cookie "access_token_cookie")' });
      await request(t.url).get('/default/plain').set(bearer(expired)).expect(401, { msg: 'Token has expired' });
      await request(t.url).get('/default/plain').set(bearer(refresh)).expect(422, { msg: 'Only non-refresh tokens are allowed' });
      await request(t.url).get('/default/plain').set(bearer(access)).expect(200, { id: 'alice' });
    });

    it("a handler's @JwtRequired(...) replaces the global default", async () => {
      await request(t.url).get('/default/fresh').set(bearer(access)).expect(401, { msg: 'Fresh token required' });
      await request(t.url).get('/default/fresh').set(bearer(fresh)).expect(200, { id: 'alice' });
      await request(t.url).get('/default/refresh').set(bearer(refresh)).expect(200, { id: 'alice' });
      await request(t.url).get('/default/refresh').set(bearer(access)).expect(422, { msg: 'Only refresh tokens are allowed' });
    });

    it("a handler's @JwtPublic() opens it: no token read, the decorators see the no-token state", async () => {
      await request(t.url).get('/default/public').expect(200, NOTHING);
      // a valid token is not read either
      await request(t.url).get('/default/public').set(bearer(access)).expect(200, NOTHING);
      await request(t.url).get('/default/public').set(bearer(expired)).expect(200, NOTHING);
      await request(t.url).get('/default/public').set('Authorization', 'Bearer a b c').expect(200, NOTHING);
      await request(t.url).get('/default/public').set('Authorization', 'Basic abc').expect(200, NOTHING);
    });
  });

  describe('public class', () => {
    it('its handlers are open, whatever token comes', async () => {
      const before = { ...calls };
      await request(t.url).get('/open/plain').expect(200, NOTHING);
      await request(t.url).get('/open/plain').set(bearer(expired)).expect(200, NOTHING);
      await request(t.url).get('/open/plain').set(bearer('not.a.jwt')).expect(200, NOTHING);
      expect(calls).toEqual(before);
    });

    it("a handler's @JwtRequired() inside it protects that handler, with the handler's options", async () => {
      await request(t.url).get('/open/guarded').expect(401);
      await request(t.url).get('/open/guarded').set(bearer(expired)).expect(401, { msg: 'Token has expired' });
      await request(t.url).get('/open/guarded').set(bearer(access)).expect(200, { id: 'alice' });
      await request(t.url).get('/open/fresh').set(bearer(access)).expect(401, { msg: 'Fresh token required' });
      await request(t.url).get('/open/fresh').set(bearer(fresh)).expect(200, { id: 'alice' });
    });

    it('a cookie logout clears the cookies with an expired cookie and no CSRF header', async () => {
      const res = await request(t.url)
        .post('/open/logout')
        .set('Cookie', `access_token_cookie=${expired}; csrf_access_token=whatever; refresh_token_cookie=garbage`)
        .expect(201, { msg: 'Logged out' });
      const cleared = (res.headers['set-cookie'] as unknown as string[]).map((line) => line.split('=')[0]);
      expect(cleared.toSorted()).toEqual(['access_token_cookie', 'csrf_access_token', 'csrf_refresh_token', 'refresh_token_cookie']);
    });

    it('a subclass that declares @JwtPublic() opens what its base class protects; the base stays protected', async () => {
      await request(t.url).get('/sub/plain').expect(200, { ok: true });
      await request(t.url).get('/base/plain').expect(401);
      await request(t.url).get('/base/plain').set(bearer(access)).expect(200, { ok: true });
    });
    it('keeps the state that middleware verified with verifyJwtInRequest', async () => {
      await request(t.url).get('/mw/public').set(bearer(access)).expect(200, { id: 'alice' });
      await request(t.url).get('/mw/public').expect(200, { id: null });
    });
  });

  describe('class declaration', () => {
    it('its options apply to handlers without their own', async () => {
      await request(t.url).get('/optional/plain').expect(200, { id: null });
      await request(t.url).get('/optional/plain').set(bearer(access)).expect(200, { id: 'alice' });
      // optional still fails a bad token
      await request(t.url).get('/optional/plain').set(bearer(expired)).expect(401, { msg: 'Token has expired' });
    });

    it("a handler's @JwtPublic() inside a @JwtRequired() class opens it", async () => {
      await request(t.url).get('/optional/public').set(bearer(expired)).expect(200, NOTHING);
    });

    it("a handler's @JwtRequired(...) replaces the class's", async () => {
      await request(t.url).get('/optional/refresh').expect(401);
      await request(t.url).get('/optional/refresh').set(bearer(refresh)).expect(200, { id: 'alice' });
    });
  });

  it('@JwtPublic() and @JwtRequired() on one handler or class: @JwtRequired() wins (fails closed)', async () => {
    await request(t.url).get('/both/class').expect(401);
    await request(t.url).get('/both/class').set(bearer(access)).expect(200, { ok: true });
    await request(t.url).get('/both/handler').set(bearer(expired)).expect(401, { msg: 'Token has expired' });
    await request(t.url).get('/both/handler').expect(200, { id: null });
  });

  describe('once per request', () => {
    it('global + handler: the loaders run once and the handler options apply', async () => {
      const before = { ...calls };
      await request(t.url).get('/default/fresh').set(bearer(fresh)).expect(200, { id: 'alice' });
      expect(calls).toEqual({ blocklist: before.blocklist + 1, verification: before.verification + 1 });
    });

    it('global + class + handler: the loaders run once and the handler options apply', async () => {
      const before = { ...calls };
      await request(t.url).get('/bound/fresh').set(bearer(fresh)).expect(200, { id: 'alice' });
      expect(calls).toEqual({ blocklist: before.blocklist + 1, verification: before.verification + 1 });
      // the first binding to run (the global one) already applies the handler's fresh requirement
      await request(t.url).get('/bound/fresh').set(bearer(access)).expect(401, { msg: 'Fresh token required' });
      expect(calls).toEqual({ blocklist: before.blocklist + 1, verification: before.verification + 1 });
    });

    it('global + class: once', async () => {
      const before = { ...calls };
      await request(t.url).get('/optional/plain').set(bearer(access)).expect(200, { id: 'alice' });
      expect(calls).toEqual({ blocklist: before.blocklist + 1, verification: before.verification + 1 });
    });
  });
});

@Controller()
class PingController {
  @Get('ping')
  ping() {
    return { ok: true };
  }
}

/** What a test puts in place of the real guard. */
class AllowAllGuard implements CanActivate {
  canActivate() {
    return true;
  }
}

describe.each(ADAPTERS)('globalGuard wiring (%s)', (adapter) => {
  it('is off by default: routes without a declaration are open, @JwtPublic() ones see the no-token state', async () => {
    const t = await createTestApp(adapter, { controllers: [PingController, DefaultController] });
    try {
      await request(t.url).get('/ping').expect(200, { ok: true });
      // @JwtPublic() applies the guard itself: its param decorators work without the global guard
      await request(t.url).get('/default/public').set(bearer('not.a.jwt')).expect(200, NOTHING);
    } finally {
      await t.close();
    }
  });

  it('works with forRootAsync', async () => {
    const t = await createTestApp(adapter, {
      module: JwtExtendedModule.forRootAsync({ useFactory: () => ({ secretKey: SECRET }), globalGuard: true }),
      controllers: [PingController],
    });
    try {
      await request(t.url).get('/ping').expect(401, { msg: 'Missing Authorization Header' });
      await request(t.url)
        .get('/ping')
        .set(bearer(await t.jwt.createAccessToken('alice')))
        .expect(200, { ok: true });
    } finally {
      await t.close();
    }
  });

  it('overrideProvider(JwtGuard) replaces the global guard', async () => {
    const t = await createTestApp(adapter, {
      globalGuard: true,
      controllers: [PingController],
      override: (builder) => builder.overrideProvider(JwtGuard).useClass(AllowAllGuard),
    });
    try {
      await request(t.url).get('/ping').expect(200, { ok: true });
    } finally {
      await t.close();
    }
  });
});

describe('globalGuard must be a boolean', () => {
  it('refuses anything else when the module is built', () => {
    expect(() => JwtExtendedModule.forRoot({ secretKey: SECRET, globalGuard: 'yes' as unknown as boolean })).toThrow(
      'JwtExtendedModule: "globalGuard" must be a boolean, got string',
    );
  });
});

@Controller('users')
class UsesCurrentUser {
  @Get('me')
  me(@CurrentUser() user: unknown) {
    return { user };
  }
  @Get('plain')
  plain(@Jwt() jwt: JwtPayload) {
    return jwt;
  }
}

@Injectable()
class Users implements UserLookupLoader {
  lookupUser() {
    return { name: 'Alice' };
  }
}

describe.each(ADAPTERS)('start-up warning for @CurrentUser() without userLookup (%s)', (adapter) => {
  it('names the controller and handler; a request still fails with 500', async () => {
    const logger = new RecordingLogger();
    const t = await createTestApp(adapter, { globalGuard: true, controllers: [UsesCurrentUser], logger });
    try {
      const warnings = logger.lines.filter((line) => line.includes('@CurrentUser()'));
      expect(warnings).toEqual([expect.stringContaining('UsesCurrentUser.me uses @CurrentUser() but no userLookup loader is configured')]);
      await request(t.url)
        .get('/users/me')
        .set(bearer(await t.jwt.createAccessToken('alice')))
        .expect(500);
    } finally {
      await t.close();
    }
  });

  it('says nothing when a userLookup loader is configured', async () => {
    const logger = new RecordingLogger();
    const t = await createTestApp(adapter, { globalGuard: true, controllers: [UsesCurrentUser], loaders: { userLookup: Users }, logger });
    try {
      expect(logger.lines.filter((line) => line.includes('@CurrentUser()'))).toEqual([]);
      await request(t.url)
        .get('/users/me')
        .set(bearer(await t.jwt.createAccessToken('alice')))
        .expect(200, { user: { name: 'Alice' } });
    } finally {
      await t.close();
    }
  });
});
