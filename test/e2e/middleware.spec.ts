import {
  Controller,
  Get,
  Injectable,
  type MiddlewareConsumer,
  Module,
  type NestMiddleware,
  type NestModule,
  Req,
  Res,
} from '@nestjs/common';
import { beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { CurrentUser, Jwt, JwtExtendedService, JwtIdentity, JwtLocation, type JwtPayload, JwtRequired } from '../../lib/index.js';
import { ADAPTERS, useTestApp } from '../support/app.js';
import { accessCookie, bearer, expectResponse, handlerRuns } from '../support/http.js';
import { Users } from '../support/loaders.js';

type NodeNext = (error?: unknown) => void;

/** Verifies in Nest middleware. On Fastify it gets the raw Node request, not the FastifyRequest. */
@Injectable()
class OptionalJwtMiddleware implements NestMiddleware {
  constructor(private readonly jwt: JwtExtendedService) {}
  async use(req: object, _res: object, next: NodeNext) {
    try {
      await this.jwt.verifyJwtInRequest(req, { optional: true });
      next();
    } catch (error) {
      next(error);
    }
  }
}

@Injectable()
class RequiredJwtMiddleware implements NestMiddleware {
  constructor(private readonly jwt: JwtExtendedService) {}
  async use(req: object, _res: object, next: NodeNext) {
    try {
      await this.jwt.verifyJwtInRequest(req);
      next();
    } catch (error) {
      next(error);
    }
  }
}

interface Locals {
  locals?: Record<string, unknown>;
}

@Controller('mw')
class MiddlewareController {
  constructor(private readonly jwt: JwtExtendedService) {}

  /** Everything a handler can read, no guard: the middleware's verification only. */
  @Get('state')
  state(
    @Jwt() payload: JwtPayload,
    @JwtIdentity() identity: unknown,
    @JwtLocation() location: unknown,
    @CurrentUser() user: unknown,
    @Req() req: { user?: unknown },
    @Res({ passthrough: true }) res: Locals,
  ) {
    handlerRuns.record('state');
    return {
      sub: payload.sub ?? null,
      identity,
      location,
      user,
      requestUser: req.user,
      getJwt: this.jwt.getJwt(req).sub ?? null,
      getCurrentUser: this.jwt.getCurrentUser(req),
      viewLocals: res.locals?.currentUser,
    };
  }

  /** Nothing of the library runs between the middleware and this handler. */
  @Get('plain')
  plain(@Req() req: { user?: unknown }, @Res({ passthrough: true }) res: Locals) {
    handlerRuns.record('plain');
    return { requestUser: req.user, viewLocals: res.locals?.currentUser };
  }

  /** The guard verifies again, from the query string only: its verification is what the handler sees. */
  @Get('guarded')
  @JwtRequired({ locations: 'query_string' })
  guarded(@JwtIdentity() identity: unknown, @Req() req: { user?: unknown }, @Res({ passthrough: true }) res: Locals) {
    handlerRuns.record('guarded');
    return { identity, requestUser: req.user, getCurrentUser: this.jwt.getCurrentUser(req), viewLocals: res.locals?.currentUser };
  }
}

@Controller('strict')
class StrictController {
  @Get()
  strict(@JwtIdentity() identity: unknown) {
    handlerRuns.record('strict');
    return { identity };
  }
}

@Module({ controllers: [MiddlewareController, StrictController], providers: [OptionalJwtMiddleware, RequiredJwtMiddleware] })
class MiddlewareModule implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    consumer.apply(OptionalJwtMiddleware).forRoutes(MiddlewareController);
    consumer.apply(RequiredJwtMiddleware).forRoutes(StrictController);
  }
}

describe.each(ADAPTERS)('verifyJwtInRequest in Nest middleware (%s)', (adapter) => {
  const t = useTestApp(adapter, {
    imports: [MiddlewareModule],
    loaders: { userLookup: Users },
    options: { tokenLocation: ['headers', 'cookies', 'query_string'], exposeCurrentUserToViews: true },
  });
  let alice: string;
  let bob: string;
  beforeAll(async () => {
    alice = await t.jwt.createAccessToken('alice');
    bob = await t.jwt.createAccessToken('bob');
  });

  const ALICE = { name: 'Alice' };
  const aliceFrom = (location: string) => ({
    sub: 'alice',
    identity: 'alice',
    location,
    user: ALICE,
    requestUser: ALICE,
    getJwt: 'alice',
    getCurrentUser: ALICE,
    viewLocals: ALICE,
  });

  it('a header token: the handler sees it through every accessor', () =>
    expectResponse(request(t.url).get('/mw/state').set(bearer(alice)), 200, aliceFrom('headers'), 'state'));
  it('a cookie token', () => expectResponse(request(t.url).get('/mw/state').set(accessCookie(alice)), 200, aliceFrom('cookies'), 'state'));
  it('a query-string token', () =>
    expectResponse(request(t.url).get('/mw/state').query({ jwt: alice }), 200, aliceFrom('query_string'), 'state'));
  it('no token (optional): the empty state everywhere', () =>
    expectResponse(
      request(t.url).get('/mw/state'),
      200,
      { sub: null, identity: null, location: null, user: null, requestUser: null, getJwt: null, getCurrentUser: null, viewLocals: null },
      'state',
    ));
  it('request.user and the view locals reach a handler that uses nothing of the library', async () => {
    await expectResponse(request(t.url).get('/mw/plain').set(bearer(alice)), 200, { requestUser: ALICE, viewLocals: ALICE }, 'plain');
    await expectResponse(request(t.url).get('/mw/plain'), 200, { requestUser: null, viewLocals: null }, 'plain');
  });
  it('a guard after the middleware replaces its state as a whole', () =>
    expectResponse(
      request(t.url).get('/mw/guarded').set(bearer(alice)).query({ jwt: bob }),
      200,
      { identity: 'bob', requestUser: { name: 'Bob' }, getCurrentUser: { name: 'Bob' }, viewLocals: { name: 'Bob' } },
      'guarded',
    ));
  it('a bad token fails in the middleware; the handler never runs', async () => {
    await expectResponse(request(t.url).get('/mw/state').set('Authorization', 'Bearer x.y.z'), 422, { msg: 'Invalid header padding' }, []);
    await expectResponse(
      request(t.url)
        .get('/mw/state')
        .set(bearer(await t.jwt.createAccessToken('mallory'))),
      401,
      { msg: 'Error loading the user mallory' },
      [],
    );
  });
  it('a required verification without a token fails in the middleware; the handler never runs', () =>
    expectResponse(
      request(t.url).get('/strict'),
      401,
      {
        msg:
          'Missing JWT in headers, cookies or query_string (Missing Authorization Header; ' +
          'Missing cookie "access_token_cookie"; Missing \'jwt\' query parameter)',
      },
      [],
    ));
  it('a required verification with a token: the handler sees it', () =>
    expectResponse(request(t.url).get('/strict').set(accessCookie(bob)), 200, { identity: 'bob' }, 'strict'));
  it('requests never see each other’s state', async () => {
    const { result: responses, ran } = await handlerRuns.during(() =>
      Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          request(t.url)
            .get('/mw/plain')
            .set(bearer(i % 2 ? alice : bob)),
        ),
      ),
    );
    expect(ran).toEqual(Array.from({ length: 20 }, () => 'plain'));
    responses.forEach((res, i) => expect(res.body.requestUser).toEqual(i % 2 ? ALICE : { name: 'Bob' }));
  });
});
