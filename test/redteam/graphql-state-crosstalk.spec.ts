import { Query, Resolver } from '@nestjs/graphql';
import { describe, expect, it } from '@jest/globals';
import { Jwt, JwtIdentity, JwtPublic, JwtRequired, type JwtPayload } from '../../lib/index.js';
import { ADAPTERS, useTestApp } from '../support/app.js';
import { DRIVER, bearer, gql, graphqlModule } from '../graphql/graphql-app.js';

/*
 * One GraphQL request runs several resolvers with different protections, which may read different
 * tokens (an access token in the header, a refresh token in the JSON body). Each resolver's
 * handler must see the token its own guard verified (§10: param decorators work in every
 * context), never the one a sibling field's guard verified at the same time.
 */
@Resolver()
class TwoTokensResolver {
  @Query(() => String)
  @JwtRequired({ refresh: true, locations: ['json'] })
  refreshSide(@Jwt() jwt: JwtPayload, @JwtIdentity() id: string) {
    return `${jwt.type}:${id}`;
  }

  @Query(() => String)
  @JwtRequired({ locations: ['headers'] })
  accessSide(@Jwt() jwt: JwtPayload, @JwtIdentity() id: string) {
    return `${jwt.type}:${id}`;
  }

  /** Public: reads no token, so its params see the "no token" state (§5, §10). */
  @Query(() => String)
  @JwtPublic()
  publicSide(@JwtIdentity() id: string | null) {
    return `public:${id ?? 'none'}`;
  }
}

describe.each(ADAPTERS)('GraphQL on %s: sibling resolvers keep their own verified token', (adapter) => {
  const t = useTestApp(adapter, {
    imports: [graphqlModule(adapter)],
    providers: [TwoTokensResolver],
  });

  it.each(['{ refreshSide accessSide }', '{ accessSide refreshSide }'])(
    `${DRIVER[adapter]}: %s — each field sees the token its guard verified`,
    async (query) => {
      const access = await t.jwt.createAccessToken('alice');
      const refresh = await t.jwt.createRefreshToken('mallory');
      const result = await gql(t.url, query, { headers: bearer(access), body: { refresh_token: refresh } });
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual({ refreshSide: 'refresh:mallory', accessSide: 'access:alice' });
    },
  );

  it.each(['{ publicSide accessSide }', '{ accessSide publicSide }'])(
    `${DRIVER[adapter]}: %s — the public field sees no token`,
    async (query) => {
      const access = await t.jwt.createAccessToken('alice');
      const result = await gql(t.url, query, { headers: bearer(access) });
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual({ publicSide: 'public:none', accessSide: 'access:alice' });
    },
  );
});
