import { ForbiddenException, HttpException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Args, Query, Resolver } from '@nestjs/graphql';
import { describe, expect, it } from '@jest/globals';
import {
  type BlocklistLoader,
  CurrentUser,
  type ExpiredTokenLoader,
  type JwtPayload,
  JwtExtendedService,
  JwtIdentity,
  JwtPublic,
  type RevokedTokenLoader,
  type UnauthorizedLoader,
} from '../../lib/index.js';
import { ADAPTERS, RecordingLogger, createTestApp, useTestApp } from '../support/app.js';
import { DRIVER, bearer, gql, graphqlModule } from './graphql-app.js';

/** No declarations: the global guard's defaults, unless @JwtPublic(). */
@Resolver()
class PlainResolver {
  constructor(private readonly jwt: JwtExtendedService) {}

  @Query(() => String, { nullable: true })
  plain(@JwtIdentity() id: string) {
    return id;
  }

  @Query(() => String)
  @JwtPublic()
  hello() {
    return 'hello';
  }

  /** decodeToken in a resolver: its failure is shaped by the error loaders too. */
  @Query(() => String, { nullable: true })
  @JwtPublic()
  async decoded(@Args('token') token: string) {
    return String((await this.jwt.decodeToken(token)).sub);
  }
}

@Resolver()
class UserResolver {
  @Query(() => String, { nullable: true })
  profile(@CurrentUser() user: { name: string }) {
    return user.name;
  }
}

@Injectable()
class Expired implements ExpiredTokenLoader {
  onExpiredToken() {
    return new UnauthorizedException('Session over');
  }
}

@Injectable()
class Unauthorized implements UnauthorizedLoader {
  onUnauthorized(reason: string) {
    return new ForbiddenException(`No entry: ${reason}`);
  }
}

@Injectable()
class Revoked implements BlocklistLoader, RevokedTokenLoader {
  isTokenRevoked(_: unknown, payload: JwtPayload) {
    return payload.revoked === true;
  }
  onRevokedToken() {
    return new HttpException({ msg: 'foobar' }, 418);
  }
}

describe.each(ADAPTERS)('GraphQL errors on %s', (adapter) => {
  const driver = DRIVER[adapter];

  describe(`${driver}: globalGuard applies to resolvers`, () => {
    const t = useTestApp(adapter, { imports: [graphqlModule(adapter)], providers: [PlainResolver], globalGuard: true });

    it('an undeclared query requires a token', async () => {
      const failed = await gql(t.url, '{ plain }');
      expect(failed.errors![0]).toMatchObject({ message: 'Missing Authorization Header', extensions: { status: 401 } });
      const token = await t.jwt.createAccessToken('gina');
      expect((await gql(t.url, '{ plain }', { headers: bearer(token) })).data).toEqual({ plain: 'gina' });
    });

    it('@JwtPublic() opens a query, also next to a protected one in the same operation', async () => {
      expect((await gql(t.url, '{ hello }')).data).toEqual({ hello: 'hello' });
      for (const query of ['{ hello plain }', '{ plain hello }']) {
        const result = await gql(t.url, query);
        expect(result.data).toEqual({ hello: 'hello', plain: null });
        expect(result.errors).toHaveLength(1);
        expect(result.errors![0].path).toEqual(['plain']);
      }
    });
  });

  describe(`${driver}: error loaders and errorMessageKey`, () => {
    const t = useTestApp(adapter, {
      imports: [graphqlModule(adapter)],
      providers: [PlainResolver],
      globalGuard: true,
      options: { errorMessageKey: 'error' },
      loaders: { expiredToken: Expired, unauthorized: Unauthorized, revokedToken: Revoked, blocklist: Revoked },
    });

    it("the loader's HttpException is the field's error: its message, status and body", async () => {
      const token = await t.jwt.createAccessToken('gina', { expiresDelta: -60 });
      const result = await gql(t.url, '{ plain }', { headers: bearer(token) });
      expect(result.errors).toHaveLength(1);
      expect(result.errors![0]).toMatchObject({
        message: 'Session over',
        path: ['plain'],
        extensions: {
          code: 'UNAUTHENTICATED',
          status: 401,
          originalError: { statusCode: 401, message: 'Session over', error: 'Unauthorized' },
        },
      });
    });

    it('a loader may change the status (403: FORBIDDEN)', async () => {
      const result = await gql(t.url, '{ plain }');
      expect(result.errors![0]).toMatchObject({
        message: 'No entry: Missing Authorization Header',
        extensions: { code: 'FORBIDDEN', status: 403 },
      });
    });

    it("any status: the loader's body and status are in the extensions", async () => {
      const token = await t.jwt.createAccessToken('gina', { additionalClaims: { revoked: true } });
      const result = await gql(t.url, '{ plain }', { headers: bearer(token) });
      expect(result.errors![0].extensions).toMatchObject({ status: 418, originalError: { msg: 'foobar' } });
      expect(result.data).toEqual({ plain: null });
    });

    it('a failure no loader shapes has the module errorMessageKey in its body', async () => {
      const result = await gql(t.url, '{ plain }', { headers: bearer('not.a.jwt') });
      expect(result.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', status: 422 });
      expect(Object.keys(result.errors![0].extensions!.originalError as object)).toEqual(['error']);
    });

    it('decodeToken failing in a resolver is shaped by the loader too', async () => {
      const token = await t.jwt.createAccessToken('gina', { expiresDelta: -60 });
      const result = await gql(t.url, 'query ($t: String!) { decoded(token: $t) }', { body: { variables: { t: token } } });
      expect(result.errors![0]).toMatchObject({ message: 'Session over', path: ['decoded'], extensions: { status: 401 } });
    });
  });

  describe(`${driver}: errorFormat 'nest'`, () => {
    const t = useTestApp(adapter, {
      imports: [graphqlModule(adapter)],
      providers: [PlainResolver],
      globalGuard: true,
      options: { errorFormat: 'nest' },
    });

    it("the extensions carry Nest's body with the library's code", async () => {
      const token = await t.jwt.createAccessToken('gina', { expiresDelta: -60 });
      const result = await gql(t.url, '{ plain }', { headers: bearer(token) });
      expect(result.errors![0]).toMatchObject({
        message: 'Token has expired',
        extensions: {
          code: 'UNAUTHENTICATED',
          status: 401,
          originalError: { statusCode: 401, message: 'Token has expired', error: 'Unauthorized', code: 'EXPIRED' },
        },
      });
    });
  });

  it(`${driver}: a resolver taking @CurrentUser() without a userLookup loader is named at start-up`, async () => {
    const logger = new RecordingLogger();
    const t = await createTestApp(adapter, { imports: [graphqlModule(adapter)], providers: [UserResolver], globalGuard: true, logger });
    try {
      const warnings = logger.lines.filter((line) => line.includes('@CurrentUser()'));
      expect(warnings).toEqual([
        expect.stringContaining('UserResolver.profile uses @CurrentUser() but no userLookup loader is configured'),
      ]);
      const result = await gql(t.url, '{ profile }', { headers: bearer(await t.jwt.createAccessToken('gina')) });
      expect(result.errors).toHaveLength(1);
      expect(result.data).toEqual({ profile: null });
    } finally {
      await t.close();
    }
  });
});
