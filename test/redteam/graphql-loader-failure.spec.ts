import { Controller, Get, Injectable } from '@nestjs/common';
import { Query, Resolver } from '@nestjs/graphql';
import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { JwtIdentity, JwtRequired, type UserLookupLoader } from '../../lib/index.js';
import { ADAPTERS, useTestApp } from '../support/app.js';
import { DRIVER, bearer, gql, graphqlModule } from '../graphql/graphql-app.js';

/*
 * §7: when a loader throws, the request fails closed with a 500 (unless it threw an
 * HttpException). Over HTTP the client then sees Nest's "Internal server error"; the loader's
 * own message (a connection string, a query, a host name) stays in the logs. §10: in GraphQL a
 * guard failure carries its status in errors[0].extensions. A resolver behind the same guard
 * must not hand the loader's internal message to the client either.
 */
const INTERNAL = 'connect ECONNREFUSED 10.1.2.3:5432 (user=app password=hunter2)';

@Injectable()
class BrokenUsers implements UserLookupLoader {
  lookupUser(): never {
    throw new Error(INTERNAL);
  }
}

@Resolver()
class MeResolver {
  @Query(() => String, { nullable: true })
  @JwtRequired()
  me(@JwtIdentity() id: string) {
    return id;
  }
}

@Controller()
class MeController {
  @Get('me')
  @JwtRequired()
  me(@JwtIdentity() id: string) {
    return id;
  }
}

describe.each(ADAPTERS)('a loader that throws, on %s', (adapter) => {
  const t = useTestApp(adapter, {
    imports: [graphqlModule(adapter)],
    providers: [MeResolver],
    controllers: [MeController],
    loaders: { userLookup: BrokenUsers },
  });

  it('HTTP: 500 Internal server error, the loader message is not sent (reference)', async () => {
    const token = await t.jwt.createAccessToken('alice');
    const res = await request(t.url).get('/me').set(bearer(token));
    expect(res.status).toBe(500);
    expect(JSON.stringify(res.body)).not.toContain('hunter2');
  });

  it(`${DRIVER[adapter]}: the field fails with status 500, without the loader's internal message`, async () => {
    const token = await t.jwt.createAccessToken('alice');
    const result = await gql(t.url, '{ me }', { headers: bearer(token) });
    expect(result.data?.me ?? null).toBeNull();
    expect(result.errors).toHaveLength(1);
    expect(JSON.stringify(result.errors)).not.toContain('hunter2');
    expect(result.errors![0].extensions).toMatchObject({ status: 500 });
  });
});
