import type { TokenLocation } from '../tokens/jwt.interfaces.js';

/** Options of `@JwtRequired()` and `verifyJwtInRequest()` (Flask `jwt_required` arguments). */
export interface JwtRequiredOptions {
  /** No token → the handler still runs, with an empty JWT and `null` identity/user. A bad token still fails. */
  optional?: boolean;
  /** Only fresh access tokens. */
  fresh?: boolean;
  /** Only refresh tokens (read from the refresh cookie / JSON key). */
  refresh?: boolean;
  /** Where to look, overriding `tokenLocation` for this route. */
  locations?: TokenLocation | TokenLocation[];
  /** `false` skips the access/refresh type check. Default `true`. */
  verifyType?: boolean;
  /** Skip the `blocklist` loader for this route. */
  skipRevocationCheck?: boolean;
}

/**
 * `JwtRequiredOptions` after `validateJwtRequiredOptions`: known keys with boolean flags, and
 * `locations` as a non-empty list. Frozen; what the guard and the verifier use. Internal.
 */
export interface ValidatedJwtRequiredOptions {
  readonly optional?: boolean;
  readonly fresh?: boolean;
  readonly refresh?: boolean;
  readonly locations?: readonly TokenLocation[];
  readonly verifyType?: boolean;
  readonly skipRevocationCheck?: boolean;
}
