import { Injectable, type Type } from '@nestjs/common';
import type {
  BlocklistLoader,
  ExpiredTokenLoader,
  InvalidTokenLoader,
  JwtExtendedLoaders,
  JwtPayload,
  JwtProtectedHeader,
  NeedsFreshTokenLoader,
  RevokedTokenLoader,
  TokenVerificationFailedLoader,
  TokenVerificationLoader,
  UnauthorizedLoader,
  UserLookupErrorLoader,
  UserLookupLoader,
} from '../../lib/index.js';

/**
 * The three checking loaders, each failing for one subject: 'revoked' is revoked, 'unverified'
 * fails claims verification, 'ghost' has no user. Every other subject passes.
 */
@Injectable()
export class SubjectChecks implements BlocklistLoader, TokenVerificationLoader, UserLookupLoader {
  isTokenRevoked(_h: JwtProtectedHeader, payload: JwtPayload) {
    return payload.sub === 'revoked';
  }
  verifyToken(_h: JwtProtectedHeader, payload: JwtPayload) {
    return payload.sub !== 'unverified';
  }
  lookupUser(_h: JwtProtectedHeader, payload: JwtPayload) {
    return payload.sub === 'ghost' ? null : { id: payload.sub };
  }
}

/** SubjectChecks in its three roles. */
export const SUBJECT_CHECKS = {
  blocklist: SubjectChecks,
  tokenVerification: SubjectChecks,
  userLookup: SubjectChecks,
} satisfies JwtExtendedLoaders;

/** A class that can fill every error-loader role. */
export type EveryErrorLoader = ExpiredTokenLoader &
  InvalidTokenLoader &
  NeedsFreshTokenLoader &
  RevokedTokenLoader &
  TokenVerificationFailedLoader &
  UnauthorizedLoader &
  UserLookupErrorLoader;

/** The `loaders` entries that give every error-loader role to `loader`. */
export function inEveryErrorRole(loader: Type<EveryErrorLoader>) {
  return {
    expiredToken: loader,
    invalidToken: loader,
    needsFreshToken: loader,
    revokedToken: loader,
    tokenVerificationFailed: loader,
    unauthorized: loader,
    userLookupError: loader,
  } satisfies JwtExtendedLoaders;
}

/** A blocklist loader that never answers: only loaderTimeout ends the wait. */
@Injectable()
export class HangingBlocklist implements BlocklistLoader {
  isTokenRevoked(): Promise<boolean> {
    return new Promise(() => {});
  }
}

/** The users Alice and Bob, looked up by subject; anyone else is unknown (null). */
const USERS: Record<string, { name: string }> = { alice: { name: 'Alice' }, bob: { name: 'Bob' } };

@Injectable()
export class Users implements UserLookupLoader {
  lookupUser(_header: JwtProtectedHeader, payload: JwtPayload) {
    return USERS[String(payload.sub)] ?? null;
  }
}
