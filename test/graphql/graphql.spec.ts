import { Injectable } from '@nestjs/common';
import { Args, Context, Field, Mutation, ObjectType, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  CurrentUser,
  Jwt,
  JwtExtendedService,
  JwtHeader,
  JwtIdentity,
  JwtLocation,
  type JwtPayload,
  JwtPublic,
  JwtRequired,
  type UserLookupLoader,
} from '../../lib/index.js';
import { ADAPTERS, useTestApp } from '../support/app.js';
import { withAnotherSignature } from '../support/forge.js';
import { DRIVER, type GraphQLResult, bearer, gql, graphqlModule } from './graphql-app.js';

/** The GraphQL context of either driver: Apollo `{ req, res }`, Mercurius `{ request, reply }`. */
interface GqlContext {
  req?: object;
  request?: object;
  res?: object;
  reply?: object;
}
const requestOf = (ctx: GqlContext) => (ctx.req ?? ctx.request) as object;
const responseOf = (ctx: GqlContext) => (ctx.res ?? ctx.reply) as object;

@Injectable()
class Users implements UserLookupLoader {
  lookupUser(_: unknown, payload: JwtPayload) {
    return { name: payload.sub };
  }
}

/** Method decorators, every token location, the param decorators, the service and cookie helpers. */
@Resolver()
class AccountResolver {
  constructor(private readonly jwt: JwtExtendedService) {}

  @Query(() => String, { nullable: true })
  @JwtRequired()
  me(@JwtIdentity() id: string) {
    return id;
  }

  /** Public: reads no token, its params see the "no token" state. */
  @Query(() => String)
  @JwtPublic()
  open(@Jwt() jwt: JwtPayload, @JwtLocation() location: unknown) {
    return JSON.stringify({ jwt, location });
  }

  @Query(() => String, { nullable: true })
  @JwtRequired({ optional: true })
  maybe(@JwtIdentity() id: string | null) {
    return id ?? 'anonymous';
  }

  @Query(() => String, { nullable: true })
  @JwtRequired({ fresh: true })
  fresh(@JwtIdentity() id: string) {
    return id;
  }

  @Query(() => String, { nullable: true })
  @JwtRequired({ refresh: true })
  refreshId(@JwtIdentity() id: string) {
    return id;
  }

  @Query(() => String, { nullable: true })
  @JwtRequired()
  params(
    @Jwt() payload: JwtPayload,
    @Jwt('role') role: unknown,
    @JwtHeader() header: { alg?: string },
    @JwtLocation() location: unknown,
    @CurrentUser() user: unknown,
  ) {
    return JSON.stringify({ sub: payload.sub, role, alg: header.alg, location, user });
  }

  @Query(() => String, { nullable: true })
  @JwtRequired({ locations: 'cookies' })
  cookieId(@JwtIdentity() id: string, @JwtLocation() location: string) {
    return `${id}@${location}`;
  }

  @Query(() => String, { nullable: true })
  @JwtRequired({ locations: 'query_string' })
  queryId(@JwtIdentity() id: string, @JwtLocation() location: string) {
    return `${id}@${location}`;
  }

  @Query(() => String, { nullable: true })
  @JwtRequired({ locations: 'json' })
  jsonId(@JwtIdentity() id: string, @JwtLocation() location: string) {
    return `${id}@${location}`;
  }

  /** verifyJwtInRequest with the context's request, in a public resolver. */
  @Query(() => String, { nullable: true })
  @JwtPublic()
  async viaService(@Context() ctx: GqlContext) {
    const verified = await this.jwt.verifyJwtInRequest(requestOf(ctx), { optional: false });
    return `${String(verified?.payload.sub)}/${String(this.jwt.getJwtIdentity(requestOf(ctx)))}`;
  }

  @Mutation(() => String, { nullable: true })
  @JwtRequired()
  rename(@Args('name') name: string, @JwtIdentity() id: string) {
    return `${id}:${name}`;
  }

  @Mutation(() => Boolean)
  @JwtPublic()
  async login(@Args('id') id: string, @Context() ctx: GqlContext) {
    this.jwt.setAccessCookies(responseOf(ctx), await this.jwt.createAccessToken(id));
    return true;
  }

  @Mutation(() => Boolean)
  @JwtPublic()
  logout(@Context() ctx: GqlContext) {
    this.jwt.unsetJwtCookies(responseOf(ctx));
    return true;
  }
}

/** Resolver-class declarations: required class with a public method… */
@Resolver()
@JwtRequired()
class ProtectedResolver {
  @Query(() => String, { nullable: true })
  whoami(@JwtIdentity() id: string) {
    return id;
  }
  @Query(() => String)
  @JwtPublic()
  ping() {
    return 'pong';
  }
}

/** …and a public class with a required method. */
@Resolver()
@JwtPublic()
class PublicResolver {
  @Query(() => String)
  info() {
    return 'info';
  }
  @Query(() => String, { nullable: true })
  @JwtRequired()
  secret(@JwtIdentity() id: string) {
    return id;
  }
}

@ObjectType()
class Profile {
  @Field()
  name!: string;
}

/** A public query whose object has a field that needs a fresh token (guards on field resolvers). */
@Resolver(() => Profile)
class ProfileResolver {
  @Query(() => Profile)
  @JwtPublic()
  profile(): Profile {
    return { name: 'Alice' };
  }

  @ResolveField(() => String, { nullable: true })
  @JwtRequired({ fresh: true })
  email(@Parent() profile: Profile, @JwtIdentity() id: string) {
    return `${id}+${profile.name.toLowerCase()}@example.com`;
  }
}

/** The one error of a failed field, with the §6 message and status. */
function expectFailure(result: GraphQLResult, field: string, message: string, status: number, code: string) {
  expect(result.status).toBe(200);
  expect(result.errors).toHaveLength(1);
  const [error] = result.errors!;
  expect(error.message).toBe(message);
  expect(error.path).toEqual([field]);
  expect(error.extensions).toMatchObject({ code, status });
  expect(result.data?.[field] ?? null).toBeNull();
}

describe.each(ADAPTERS)('GraphQL on %s', (adapter) => {
  const t = useTestApp(adapter, {
    imports: [graphqlModule(adapter)],
    providers: [AccountResolver, ProtectedResolver, PublicResolver],
    loaders: { userLookup: Users },
  });
  const driver = DRIVER[adapter];

  describe(`${driver}: header token, queries and mutations`, () => {
    it('a valid token runs the protected query', async () => {
      const token = await t.jwt.createAccessToken('alice');
      const result = await gql(t.url, '{ me }', { headers: bearer(token) });
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual({ me: 'alice' });
    });

    it('no token fails the field with the §6 message, status and body', async () => {
      const result = await gql(t.url, '{ me }');
      expectFailure(result, 'me', 'Missing Authorization Header', 401, 'UNAUTHENTICATED');
      expect(result.errors![0].extensions!.originalError).toEqual({ msg: 'Missing Authorization Header' });
    });

    it('an expired token fails with 401 Token has expired', async () => {
      const token = await t.jwt.createAccessToken('alice', { expiresDelta: -60 });
      expectFailure(await gql(t.url, '{ me }', { headers: bearer(token) }), 'me', 'Token has expired', 401, 'UNAUTHENTICATED');
    });

    it('a tampered token fails with 422 (BAD_USER_INPUT, as Nest codes 422)', async () => {
      const token = await t.jwt.createAccessToken('alice');
      const tampered = withAnotherSignature(token);
      const result = await gql(t.url, '{ me }', { headers: bearer(tampered) });
      expect(result.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', status: 422 });
      expect(result.data).toEqual({ me: null });
    });

    it('a refresh token is refused where an access token is required, and accepted by refresh: true', async () => {
      const refresh = await t.jwt.createRefreshToken('alice');
      expectFailure(
        await gql(t.url, '{ me }', { headers: bearer(refresh) }),
        'me',
        'Only non-refresh tokens are allowed',
        422,
        'BAD_USER_INPUT',
      );
      expect((await gql(t.url, '{ refreshId }', { headers: bearer(refresh) })).data).toEqual({ refreshId: 'alice' });
    });

    it('a mutation is protected like a query', async () => {
      const token = await t.jwt.createAccessToken('alice');
      const ok = await gql(t.url, 'mutation { rename(name: "Al") }', { headers: bearer(token) });
      expect(ok.data).toEqual({ rename: 'alice:Al' });
      expectFailure(await gql(t.url, 'mutation { rename(name: "Al") }'), 'rename', 'Missing Authorization Header', 401, 'UNAUTHENTICATED');
    });

    it('optional: no token runs with no identity; a bad token still fails', async () => {
      expect((await gql(t.url, '{ maybe }')).data).toEqual({ maybe: 'anonymous' });
      const expired = await t.jwt.createAccessToken('alice', { expiresDelta: -60 });
      expectFailure(await gql(t.url, '{ maybe }', { headers: bearer(expired) }), 'maybe', 'Token has expired', 401, 'UNAUTHENTICATED');
    });

    it('a public resolver reads no token: an expired one does not fail it, its params see no token', async () => {
      const expired = await t.jwt.createAccessToken('alice', { expiresDelta: -60 });
      const result = await gql(t.url, '{ open }', { headers: bearer(expired) });
      expect(result.errors).toBeUndefined();
      expect(JSON.parse(result.data!.open as string)).toEqual({ jwt: {}, location: null });
    });

    it('param decorators in a resolver: @Jwt(), @Jwt(claim), @JwtHeader(), @JwtLocation(), @CurrentUser()', async () => {
      const token = await t.jwt.createAccessToken('alice', { additionalClaims: { role: 'admin' } });
      const result = await gql(t.url, '{ params }', { headers: bearer(token) });
      expect(JSON.parse(result.data!.params as string)).toEqual({
        sub: 'alice',
        role: 'admin',
        alg: 'HS256',
        location: 'headers',
        user: { name: 'alice' },
      });
    });
  });

  describe(`${driver}: resolver-class declarations`, () => {
    it('a @JwtRequired() class protects its queries; its @JwtPublic() query is open', async () => {
      expectFailure(await gql(t.url, '{ whoami }'), 'whoami', 'Missing Authorization Header', 401, 'UNAUTHENTICATED');
      const token = await t.jwt.createAccessToken('bob');
      expect((await gql(t.url, '{ whoami }', { headers: bearer(token) })).data).toEqual({ whoami: 'bob' });
      expect((await gql(t.url, '{ ping }')).data).toEqual({ ping: 'pong' });
    });

    it('a @JwtPublic() class is open; its @JwtRequired() query is protected', async () => {
      expect((await gql(t.url, '{ info }')).data).toEqual({ info: 'info' });
      expectFailure(await gql(t.url, '{ secret }'), 'secret', 'Missing Authorization Header', 401, 'UNAUTHENTICATED');
    });
  });

  // One GraphQL request runs several resolvers: each is verified with its own options, whatever ran first.
  describe(`${driver}: one operation, resolvers with different protection`, () => {
    it.each(['{ open fresh }', '{ fresh open }', '{ maybe fresh }', '{ fresh maybe }', '{ me fresh }', '{ fresh me }'])(
      '%s with a non-fresh token: the fresh field fails, the other runs',
      async (query) => {
        const token = await t.jwt.createAccessToken('alice');
        const result = await gql(t.url, query, { headers: bearer(token) });
        expect(result.errors).toHaveLength(1);
        expect(result.errors![0]).toMatchObject({ message: 'Fresh token required', path: ['fresh'], extensions: { status: 401 } });
        expect(result.data!.fresh).toBeNull();
        expect(Object.values(result.data!).filter((value) => value !== null)).toHaveLength(1);
      },
    );

    it.each(['{ info secret }', '{ secret info }', '{ ping whoami }', '{ whoami ping }', '{ maybe me }', '{ me maybe }'])(
      '%s without a token: the required field fails, the other runs',
      async (query) => {
        const result = await gql(t.url, query);
        expect(result.errors).toHaveLength(1);
        expect(result.errors![0]).toMatchObject({ message: 'Missing Authorization Header', extensions: { status: 401 } });
        expect(Object.values(result.data!).filter((value) => value !== null)).toHaveLength(1);
      },
    );

    it.each(['{ me refreshId }', '{ refreshId me }'])('%s with an access token: the refresh field fails', async (query) => {
      const token = await t.jwt.createAccessToken('alice');
      const result = await gql(t.url, query, { headers: bearer(token) });
      expect(result.errors).toHaveLength(1);
      expect(result.errors![0]).toMatchObject({
        message: 'Only refresh tokens are allowed',
        path: ['refreshId'],
        extensions: { status: 422 },
      });
      expect(result.data).toEqual({ me: 'alice', refreshId: null });
    });

    it('with a fresh token both fields run', async () => {
      const token = await t.jwt.createAccessToken('alice', { fresh: true });
      const result = await gql(t.url, '{ open fresh me }', { headers: bearer(token) });
      expect(result.errors).toBeUndefined();
      expect(result.data).toMatchObject({ fresh: 'alice', me: 'alice' });
    });
  });

  describe(`${driver}: cookies (with CSRF double submit) and the cookie helpers`, () => {
    async function loginCookies() {
      const result = await gql(t.url, 'mutation { login(id: "carol") }');
      expect(result.data).toEqual({ login: true });
      const cookies = result.setCookie.map((line) => line.split(';')[0]);
      const csrf = cookies.find((c) => c.startsWith('csrf_access_token='))!.split('=')[1];
      return { cookie: cookies.join('; '), csrf };
    }

    it('a resolver sets the token and CSRF cookies through the GraphQL HTTP response', async () => {
      const result = await gql(t.url, 'mutation { login(id: "carol") }');
      expect(result.setCookie).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^access_token_cookie=[^;]+; Path=\/; HttpOnly/),
          expect.stringMatching(/^csrf_access_token=/),
        ]),
      );
    });

    it('and unsets them', async () => {
      const result = await gql(t.url, 'mutation { logout }');
      expect(result.setCookie.map((line) => line.split('=')[0]).toSorted()).toEqual([
        'access_token_cookie',
        'csrf_access_token',
        'csrf_refresh_token',
        'refresh_token_cookie',
      ]);
    });

    it('the cookie token with its CSRF header runs the query', async () => {
      const { cookie, csrf } = await loginCookies();
      const result = await gql(t.url, '{ cookieId }', { headers: { Cookie: cookie, 'X-CSRF-TOKEN': csrf } });
      expect(result.data).toEqual({ cookieId: 'carol@cookies' });
    });

    it('without the CSRF header, or with another value, the POST fails', async () => {
      const { cookie } = await loginCookies();
      expectFailure(
        await gql(t.url, '{ cookieId }', { headers: { Cookie: cookie } }),
        'cookieId',
        'Missing CSRF token',
        401,
        'UNAUTHENTICATED',
      );
      const mismatch = await gql(t.url, '{ cookieId }', { headers: { Cookie: cookie, 'X-CSRF-TOKEN': 'other' } });
      expectFailure(mismatch, 'cookieId', 'CSRF double submit tokens do not match', 401, 'UNAUTHENTICATED');
    });

    it('without the cookie the query fails', async () => {
      expectFailure(await gql(t.url, '{ cookieId }'), 'cookieId', 'Missing cookie "access_token_cookie"', 401, 'UNAUTHENTICATED');
    });
  });

  describe(`${driver}: query string of the GraphQL URL`, () => {
    it('?jwt=<token> runs the query', async () => {
      const token = await t.jwt.createAccessToken('dave');
      expect((await gql(t.url, '{ queryId }', { search: `?jwt=${token}` })).data).toEqual({ queryId: 'dave@query_string' });
    });

    it('without the parameter the query fails', async () => {
      expectFailure(await gql(t.url, '{ queryId }'), 'queryId', "Missing 'jwt' query parameter", 401, 'UNAUTHENTICATED');
    });

    it('a GraphQL GET request carries it next to the query; such a request has no JSON-body token', async () => {
      const token = await t.jwt.createAccessToken('dave');
      // Apollo's CSRF prevention wants a non-simple header on GET.
      const get = async (query: string) =>
        (await request(t.url).get('/graphql').query({ query, jwt: token, access_token: token }).set('apollo-require-preflight', 'true'))
          .body as { data: Record<string, unknown>; errors?: { message: string }[] };
      expect((await get('{ queryId }')).data).toEqual({ queryId: 'dave@query_string' });
      const json = await get('{ jsonId }');
      expect(json.data).toEqual({ jsonId: null });
      // As on a route: a GET request (no JSON content type) reads no JSON-body token.
      expect(json.errors![0].message).toBe('Invalid content-type. Must be application/json.');
    });
  });

  describe(`${driver}: JSON body — a top-level key of the GraphQL POST body, next to query`, () => {
    it('{ query, access_token } runs the query', async () => {
      const token = await t.jwt.createAccessToken('erin');
      expect((await gql(t.url, '{ jsonId }', { body: { access_token: token } })).data).toEqual({ jsonId: 'erin@json' });
    });

    it('a token among the variables is not the JSON-body token', async () => {
      const token = await t.jwt.createAccessToken('erin');
      const result = await gql(t.url, '{ jsonId }', { body: { variables: { access_token: token } } });
      expectFailure(result, 'jsonId', 'Missing "access_token" key in json data.', 401, 'UNAUTHENTICATED');
    });
  });

  describe(`${driver}: verifyJwtInRequest with the context's request`, () => {
    it('verifies the token and publishes the state', async () => {
      const token = await t.jwt.createAccessToken('frank');
      expect((await gql(t.url, '{ viaService }', { headers: bearer(token) })).data).toEqual({ viaService: 'frank/frank' });
    });

    it('its failure carries the §6 message and status', async () => {
      expectFailure(await gql(t.url, '{ viaService }'), 'viaService', 'Missing Authorization Header', 401, 'UNAUTHENTICATED');
    });
  });

  describe(`${driver}: guards on field resolvers (fieldResolverEnhancers: ['guards'])`, () => {
    const fields = useTestApp(adapter, { imports: [graphqlModule(adapter, { fieldGuards: true })], providers: [ProfileResolver] });

    it.each(['{ profile { name email } }', '{ profile { email name } }'])(
      '%s: the fresh-only field of a public query fails with a non-fresh token',
      async (query) => {
        const token = await fields.jwt.createAccessToken('alice');
        const result = await gql(fields.url, query, { headers: bearer(token) });
        expect(result.errors).toHaveLength(1);
        expect(result.errors![0]).toMatchObject({
          message: 'Fresh token required',
          path: ['profile', 'email'],
          extensions: { status: 401 },
        });
        expect(result.data).toEqual({ profile: expect.objectContaining({ name: 'Alice', email: null }) });
      },
    );

    it('and runs with a fresh one', async () => {
      const token = await fields.jwt.createAccessToken('alice', { fresh: true });
      const result = await gql(fields.url, '{ profile { name email } }', { headers: bearer(token) });
      expect(result.data).toEqual({ profile: { name: 'Alice', email: 'alice+alice@example.com' } });
    });
  });

  describe(`${driver}: the driver's default context (no context option)`, () => {
    const plain = useTestApp(adapter, {
      imports: [graphqlModule(adapter, { defaultContext: true })],
      providers: [ProtectedResolver],
    });

    it('the request is still found: both outcomes', async () => {
      const token = await plain.jwt.createAccessToken('hank');
      expect((await gql(plain.url, '{ whoami }', { headers: bearer(token) })).data).toEqual({ whoami: 'hank' });
      expectFailure(await gql(plain.url, '{ whoami }'), 'whoami', 'Missing Authorization Header', 401, 'UNAUTHENTICATED');
    });
  });
});
