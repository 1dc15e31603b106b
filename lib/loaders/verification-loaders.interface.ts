import type { JwtHeader, JwtPayload } from '../tokens/jwt.interfaces.js';
import type { MaybePromise } from './maybe-promise.js';

/** Says whether a token was revoked (Flask `token_in_blocklist_loader`). */
export interface BlocklistLoader {
  isTokenRevoked(header: JwtHeader, payload: JwtPayload): MaybePromise<boolean>;
}

/** Extra verification of a decoded token; `false` rejects it with 400 (Flask `token_verification_loader`). */
export interface TokenVerificationLoader {
  verifyToken(header: JwtHeader, payload: JwtPayload): MaybePromise<boolean>;
}

/**
 * Loads the user a token belongs to (Flask `user_lookup_loader`). `null` or `undefined`
 * rejects the request with 401; the user is then `@CurrentUser()` and `request.user`.
 */
export interface UserLookupLoader<User = unknown> {
  lookupUser(header: JwtHeader, payload: JwtPayload): MaybePromise<User | null | undefined>;
}
