import { Injectable, type MiddlewareConsumer, Module, type NestMiddleware, type NestModule } from '@nestjs/common';
import { Context, Mutation, Query, Resolver } from '@nestjs/graphql';
import { describe, expect, it } from '@jest/globals';
import {
  CurrentUser,
  Jwt,
  JwtExtendedService,
  JwtIdentity,
  JwtPublic,
  JwtRequired,
  type JwtPayload,
  type UserLookupLoader,
} from '../../lib/index.js';
import { ADAPTERS, RecordingLogger, useTestApp } from '../support/app.js';
import { DRIVER, bearer, gql, graphqlModule } from './graphql-app.js';

/*
 * One GraphQL request, many field resolutions: each field has its own verification state (its
 * guard's), fields of one protection share one verification, and a guard failure that is not an
 * HttpException reaches the client as a generic 500.
 */
let lookups = 0;

@Injectable()
class Users implements UserLookupLoader {
  lookupUser(_header: unknown, payload: JwtPayload) {
    lookups++;
    if (payload.sub === 'ghost') return null;
    if (payload.sub === 'broken') throw new Error('db password=hunter2 refused');
    return { name: payload.sub };
  }
}

type GqlContext = { req?: object; request?: object };

@Resolver()
class StateResolver {
  constructor(private readonly jwt: JwtExtendedService) {}

  /** Marks the payload it got: a sibling alias must not see the mark (its own copy). */
  @Query(() => String)
  @JwtRequired()
  mark(@Jwt() jwt: JwtPayload & { marked?: boolean }, @CurrentUser() user: { name: string }) {
    const seen = jwt.marked === true ? 'marked' : 'clean';
    jwt.marked = true;
    return `${user.name}:${seen}`;
  }

  @Query(() => String, { nullable: true })
  @JwtRequired()
  me(@JwtIdentity() id: string) {
    return id;
  }

  /** The operation's request keeps the last verification (`request.user`, the service's getters). */
  @Query(() => String)
  @JwtRequired({ fresh: true })
  viaRequest(@Context() ctx: GqlContext) {
    return String(this.jwt.getJwtIdentity(ctx.req ?? ctx.request!));
  }
}

/** Verifies in Nest middleware (the raw Node request on Fastify), before any resolver. */
@Injectable()
class OptionalJwtMiddleware implements NestMiddleware {
  constructor(private readonly jwt: JwtExtendedService) {}
  async use(req: object, _res: object, next: (error?: unknown) => void) {
    try {
      await this.jwt.verifyJwtInRequest(req, { optional: true });
      next();
    } catch (error) {
      next(error);
    }
  }
}

@Resolver()
class MiddlewareResolver {
  @Query(() => String)
  @JwtPublic()
  publicWho(@JwtIdentity() id: string | null) {
    return `public:${id ?? 'none'}`;
  }

  @Query(() => String)
  @JwtRequired({ refresh: true, locations: ['json'] })
  refreshWho(@JwtIdentity() id: string) {
    return `refresh:${id}`;
  }

  /** Mutations run one after the other: the second starts after the first published its state. */
  @Mutation(() => String)
  @JwtPublic()
  publicDo(@JwtIdentity() id: string | null) {
    return `public:${id ?? 'none'}`;
  }

  @Mutation(() => String)
  @JwtRequired({ refresh: true, locations: ['json'] })
  refreshDo(@JwtIdentity() id: string) {
    return `refresh:${id}`;
  }
}

@Module({ providers: [OptionalJwtMiddleware] })
class MiddlewareModule implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    consumer.apply(OptionalJwtMiddleware).forRoutes('graphql');
  }
}

describe.each(ADAPTERS)('GraphQL after middleware on %s', (adapter) => {
  const t = useTestApp(adapter, { imports: [graphqlModule(adapter), MiddlewareModule], providers: [MiddlewareResolver] });

  it(`${DRIVER[adapter]}: a public field sees the middleware's verification, not a sibling's`, async () => {
    const access = await t.jwt.createAccessToken('alice');
    const refresh = await t.jwt.createRefreshToken('mallory');
    for (const query of ['{ publicWho refreshWho }', '{ refreshWho publicWho }']) {
      const result = await gql(t.url, query, { headers: bearer(access), body: { refresh_token: refresh } });
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual({ publicWho: 'public:alice', refreshWho: 'refresh:mallory' });
    }
  });

  it(`${DRIVER[adapter]}: a public mutation after a protected one sees the middleware's state, not the mutation's`, async () => {
    const access = await t.jwt.createAccessToken('alice');
    const refresh = await t.jwt.createRefreshToken('mallory');
    const result = await gql(t.url, 'mutation { refreshDo publicDo }', { headers: bearer(access), body: { refresh_token: refresh } });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ refreshDo: 'refresh:mallory', publicDo: 'public:alice' });
    const anonymous = await gql(t.url, 'mutation { refreshDo publicDo }', { body: { refresh_token: refresh } });
    expect(anonymous.data).toEqual({ refreshDo: 'refresh:mallory', publicDo: 'public:none' });
  });
});

describe.each(ADAPTERS)('GraphQL with exposeCurrentUserToViews on %s', (adapter) => {
  const t = useTestApp(adapter, {
    imports: [graphqlModule(adapter)],
    providers: [MiddlewareResolver],
    loaders: { userLookup: Users },
    options: { exposeCurrentUserToViews: true },
  });

  it(`${DRIVER[adapter]}: binding the response keeps each field's own state`, async () => {
    const access = await t.jwt.createAccessToken('alice');
    const refresh = await t.jwt.createRefreshToken('mallory');
    for (const query of ['{ publicWho refreshWho }', '{ refreshWho publicWho }']) {
      const result = await gql(t.url, query, { headers: bearer(access), body: { refresh_token: refresh } });
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual({ publicWho: 'public:none', refreshWho: 'refresh:mallory' });
    }
    const serial = await gql(t.url, 'mutation { refreshDo publicDo }', { body: { refresh_token: refresh } });
    expect(serial.data).toEqual({ refreshDo: 'refresh:mallory', publicDo: 'public:none' });
  });
});

describe.each(ADAPTERS)('GraphQL field state on %s', (adapter) => {
  const logger = new RecordingLogger();
  const t = useTestApp(adapter, {
    imports: [graphqlModule(adapter)],
    providers: [StateResolver],
    loaders: { userLookup: Users },
    logger,
  });

  it(`${DRIVER[adapter]}: aliases share one verification but each gets its own copy of the state`, async () => {
    const token = await t.jwt.createAccessToken('alice');
    lookups = 0;
    const result = await gql(t.url, '{ a: mark b: mark c: mark }', { headers: bearer(token) });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ a: 'alice:clean', b: 'alice:clean', c: 'alice:clean' });
    expect(lookups).toBe(1);
  });

  it(`${DRIVER[adapter]}: a shared verification that fails fails every alias, with one lookup`, async () => {
    const token = await t.jwt.createAccessToken('ghost');
    lookups = 0;
    const result = await gql(t.url, '{ a: me b: me c: me }', { headers: bearer(token) });
    expect(result.data).toEqual({ a: null, b: null, c: null });
    // In the order the fields failed: sort by path.
    const errors = (result.errors ?? []).map((error) => [error.path, error.message, error.extensions?.status]);
    expect(errors.toSorted((x, y) => String(x[0]).localeCompare(String(y[0])))).toEqual([
      [['a'], 'Error loading the user ghost', 401],
      [['b'], 'Error loading the user ghost', 401],
      [['c'], 'Error loading the user ghost', 401],
    ]);
    expect(lookups).toBe(1);
  });

  it(`${DRIVER[adapter]}: the service's getters on the context's request read the field's verification`, async () => {
    const token = await t.jwt.createAccessToken('carol', { fresh: true });
    const result = await gql(t.url, '{ viaRequest }', { headers: bearer(token) });
    expect(result.data).toEqual({ viaRequest: 'carol' });
  });

  it(`${DRIVER[adapter]}: a loader's error is logged, and the client gets Internal Server Error`, async () => {
    const token = await t.jwt.createAccessToken('broken');
    logger.lines.length = 0;
    const result = await gql(t.url, '{ me }', { headers: bearer(token) });
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]).toMatchObject({
      message: 'Internal Server Error',
      path: ['me'],
      extensions: { status: 500, code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(JSON.stringify(result.errors)).not.toContain('hunter2');
    expect(logger.lines.some((line) => line.includes('db password=hunter2 refused'))).toBe(true);
  });
});
