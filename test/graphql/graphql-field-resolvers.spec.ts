import { Field, ObjectType, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { describe, expect, it } from '@jest/globals';
import { JwtPublic, JwtRequired } from '../../lib/index.js';
import { ADAPTERS, startupError, useTestApp } from '../support/app.js';
import { DRIVER, bearer, gql, graphqlModule } from './graphql-app.js';

/*
 * Nest runs guards on @ResolveField() methods only with `fieldResolverEnhancers: ['guards']`.
 * A protection declared there without it would do nothing: the app refuses to start, naming the
 * option and the resolver.
 */
@ObjectType()
class Card {
  @Field()
  holder!: string;
}

@Resolver(() => Card)
class RequiredFieldResolver {
  @Query(() => Card)
  card(): Card {
    return { holder: 'Alice' };
  }

  @ResolveField(() => String, { nullable: true })
  @JwtRequired()
  pan(): string {
    return '4111';
  }
}

@Resolver(() => Card)
class PublicFieldResolver {
  @Query(() => Card)
  card(): Card {
    return { holder: 'Alice' };
  }

  @ResolveField(() => String)
  @JwtPublic()
  brand(): string {
    return 'visa';
  }
}

/** The class asks for a token: its field resolvers would escape it. */
@Resolver(() => Card)
@JwtRequired()
class RequiredClassResolver {
  @Query(() => Card)
  card(): Card {
    return { holder: 'Alice' };
  }

  @ResolveField(() => String)
  cvv(): string {
    return '123';
  }
}

/** A public class's field resolvers are public with or without field guards: nothing to refuse. */
@Resolver(() => Card)
@JwtPublic()
class PublicClassResolver {
  @Query(() => Card)
  card(): Card {
    return { holder: 'Alice' };
  }

  @ResolveField(() => String)
  brand(): string {
    return 'visa';
  }
}

describe.each(ADAPTERS)('%s: a protection on a @ResolveField() needs field guards', (adapter) => {
  it.each([
    ['RequiredFieldResolver.pan', RequiredFieldResolver],
    ['PublicFieldResolver.brand', PublicFieldResolver],
    ['RequiredClassResolver.cvv', RequiredClassResolver],
  ])(`${DRIVER[adapter]}: without fieldResolverEnhancers: ['guards'] the app refuses to start (%s)`, async (name, resolver) => {
    const error = (await startupError(adapter, { imports: [graphqlModule(adapter)], providers: [resolver] })) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toContain(name);
    expect(error.message).toContain("fieldResolverEnhancers: ['guards']");
  });

  it('without a GraphQL module (its options cannot be read) the app refuses to start too', async () => {
    const error = (await startupError(adapter, { providers: [RequiredFieldResolver] })) as Error;
    expect(error.message).toContain('RequiredFieldResolver.pan is a @ResolveField() with a JWT protection, but Nest runs no guard');
  });

  it(`${DRIVER[adapter]}: a @JwtPublic() resolver class with plain field resolvers starts without field guards`, async () => {
    expect(await startupError(adapter, { imports: [graphqlModule(adapter)], providers: [PublicClassResolver] })).toBeUndefined();
  });

  describe('with field guards', () => {
    const t = useTestApp(adapter, { imports: [graphqlModule(adapter, { fieldGuards: true })], providers: [RequiredFieldResolver] });

    it(`${DRIVER[adapter]}: the app starts and the field is protected`, async () => {
      const anonymous = await gql(t.url, '{ card { holder pan } }');
      expect(anonymous.data).toEqual({ card: { holder: 'Alice', pan: null } });
      expect(anonymous.errors?.[0]).toMatchObject({ message: 'Missing Authorization Header', path: ['card', 'pan'] });
      const token = await t.jwt.createAccessToken('alice');
      expect((await gql(t.url, '{ card { holder pan } }', { headers: bearer(token) })).data).toEqual({
        card: { holder: 'Alice', pan: '4111' },
      });
    });
  });
});
