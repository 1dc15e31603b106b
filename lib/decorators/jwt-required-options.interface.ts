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
