import { Injectable } from '@nestjs/common';
import { Query, Resolver } from '@nestjs/graphql';
import { describe, expect, it } from '@jest/globals';
import { InMemoryBlocklist, JwtIdentity, JwtRequired, type JwtPayload, type UserLookupLoader } from '../../lib/index.js';
import { ADAPTERS, useTestApp } from '../support/app.js';
import { DRIVER, bearer, gql, graphqlModule } from '../graphql/graphql-app.js';

/*
 * One GraphQL request, one token, one protection: "verified once" (the guard's mark, now per
 * protection, jwt.guard.ts) is meant to make every later resolver of that protection a no-op. But
 * graphql-js starts all sibling fields before any guard has finished, so none of them sees a mark:
 * N aliases of one protected field verify the token N times — N blocklist reads and N userLookup
 * calls (each a database or Redis round trip in real apps) for one HTTP request. A client turns
 * one request into thousands of store queries (aliases cost nothing to send).
 */
let lookups = 0;
let blocklistReads = 0;

@Injectable()
class CountingUsers implements UserLookupLoader {
  lookupUser(_header: unknown, payload: JwtPayload) {
    lookups++;
    return { name: payload.sub };
  }
}

@Injectable()
class CountingBlocklist extends InMemoryBlocklist {
  override isTokenRevoked(...args: Parameters<InMemoryBlocklist['isTokenRevoked']>) {
    blocklistReads++;
    return super.isTokenRevoked(...args);
  }
}

@Resolver()
class MeResolver {
  @Query(() => String)
  @JwtRequired()
  me(@JwtIdentity() id: string) {
    return id;
  }
}

describe.each(ADAPTERS)('aliases of one protected field (%s)', (adapter) => {
  const t = useTestApp(adapter, {
    imports: [graphqlModule(adapter)],
    providers: [MeResolver],
    loaders: { userLookup: CountingUsers, blocklist: CountingBlocklist },
  });

  it(`${DRIVER[adapter]}: 200 aliases, one protection: the token is verified (and the user looked up) once`, async () => {
    const token = await t.jwt.createAccessToken('alice');
    const query = `{ ${Array.from({ length: 200 }, (_, i) => `a${i}: me`).join(' ')} }`;
    lookups = 0;
    blocklistReads = 0;
    const result = await gql(t.url, query, { headers: bearer(token) });
    expect(result.errors).toBeUndefined();
    expect(Object.keys(result.data!)).toHaveLength(200);
    expect({ lookups, blocklistReads }).toEqual({ lookups: 1, blocklistReads: 1 });
  });
});
