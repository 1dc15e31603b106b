import { Injectable } from '@nestjs/common';
import type {
  AdditionalClaimsLoader,
  JwtPayload,
  JwtProtectedHeader,
  TokenVerificationLoader,
  UserIdentityLoader,
  UserLookupLoader,
} from 'nestjs-jwt-extended';
import { type User, UsersService } from './users.service.js';

/**
 * The sample's loaders: tokens carry the username as `sub` and the role as a claim;
 * every request re-checks the role against the store (a demoted admin's old tokens
 * stop working) and loads the user.
 */
@Injectable()
export class UserLoaders
  implements UserIdentityLoader<User>, AdditionalClaimsLoader<User>, TokenVerificationLoader, UserLookupLoader<User>
{
  constructor(private readonly users: UsersService) {}

  userIdentity(user: User): string {
    return user.username;
  }

  additionalClaims(user: User) {
    return { role: user.role };
  }

  async verifyToken(_header: JwtProtectedHeader, payload: JwtPayload): Promise<boolean> {
    const user = await this.users.find(payload.sub);
    return user !== undefined && user.role === payload.role;
  }

  lookupUser(_header: JwtProtectedHeader, payload: JwtPayload): Promise<User | undefined> {
    return this.users.find(payload.sub);
  }
}
