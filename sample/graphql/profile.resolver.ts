import { Field, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { CurrentUser, JwtPublic } from 'nestjs-jwt-extended';
import type { User } from '../users/users.service.js';

@ObjectType('User')
class UserType {
  @Field()
  username!: string;

  @Field()
  role!: string;
}

/** The same tokens as the REST routes: a header token, or the cookie token with its CSRF header. */
@Resolver(() => UserType)
export class ProfileResolver {
  /** Protected by the app's global guard, like every undeclared route. */
  @Query(() => UserType)
  me(@CurrentUser() user: User): User {
    return user;
  }

  @Query(() => String)
  @JwtPublic()
  hello(): string {
    return 'Hello from GraphQL';
  }
}
