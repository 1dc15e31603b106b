import type { Type } from '@nestjs/common';
import type * as E from './error-loaders.interface.js';
import type * as R from './rotation-loaders.interface.js';
import type * as T from './token-loaders.interface.js';
import type * as V from './verification-loaders.interface.js';

/**
 * Loader classes, by role. Each class is registered as a provider of the module,
 * so it can inject whatever the module's `imports` provide. One class may fill
 * several roles.
 */
export interface JwtExtendedLoaders {
  additionalClaims?: Type<T.AdditionalClaimsLoader>;
  additionalHeaders?: Type<T.AdditionalHeadersLoader>;
  decodeKey?: Type<T.DecodeKeyLoader>;
  encodeKey?: Type<T.EncodeKeyLoader>;
  userIdentity?: Type<T.UserIdentityLoader>;
  userLookup?: Type<V.UserLookupLoader>;
  blocklist?: Type<V.BlocklistLoader>;
  tokenVerification?: Type<V.TokenVerificationLoader>;
  expiredToken?: Type<E.ExpiredTokenLoader>;
  invalidToken?: Type<E.InvalidTokenLoader>;
  needsFreshToken?: Type<E.NeedsFreshTokenLoader>;
  revokedToken?: Type<E.RevokedTokenLoader>;
  tokenVerificationFailed?: Type<E.TokenVerificationFailedLoader>;
  unauthorized?: Type<E.UnauthorizedLoader>;
  userLookupError?: Type<E.UserLookupErrorLoader>;
  refreshTokenStore?: Type<R.RefreshTokenStore>;
  refreshTokenReuse?: Type<R.RefreshTokenReuseLoader>;
}

/** Loader instances, resolved by the module. */
export type ResolvedLoaders = {
  [K in keyof JwtExtendedLoaders]?: InstanceType<NonNullable<JwtExtendedLoaders[K]>>;
};
