import { Field, ObjectType, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { describe, expect, it } from '@jest/globals';
import { JwtPublic, JwtRequired } from '../../lib/index.js';
import { ADAPTERS, startupError, withTestApp } from '../support/app.js';
import { DRIVER, gql, graphqlModule } from '../graphql/graphql-app.js';

/*
 * README (GraphQL): "Resolvers are protected like routes: @JwtRequired(...) on a resolver class or
 * a query, mutation or field method". Nest runs guards on @ResolveField() methods only with
 * `fieldResolverEnhancers: ['guards']`; without it, @JwtRequired() on a field method is silently
 * ignored and the field resolves for anyone. A protection that silently does nothing is a fail-open:
 * either the field is refused without a token, or the app refuses to start (naming the option).
 */
@ObjectType()
class Account {
  @Field()
  name!: string;
}

@Resolver(() => Account)
class AccountResolver {
  @Query(() => Account)
  @JwtPublic()
  account(): Account {
    return { name: 'public part' };
  }

  @ResolveField(() => String, { nullable: true })
  @JwtRequired()
  iban(): string {
    return 'DE89 3704 0044 0532 0130 00';
  }
}

describe.each(ADAPTERS)('@JwtRequired() on a @ResolveField() without fieldResolverEnhancers (%s)', (adapter) => {
  const setup = { imports: [graphqlModule(adapter)], providers: [AccountResolver] };

  it(`${DRIVER[adapter]}: the protected field never resolves without a token (or the app refuses to start)`, async () => {
    // Refusing to start is an acceptable answer too.
    if ((await startupError(adapter, setup)) !== undefined) return;
    await withTestApp(adapter, setup, async (t) => {
      const result = await gql(t.url, '{ account { name iban } }');
      expect(result.data?.account).toEqual({ name: 'public part', iban: null });
      expect(result.errors?.[0]).toMatchObject({ message: 'Missing Authorization Header', path: ['account', 'iban'] });
    });
  });
});
