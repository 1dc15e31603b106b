import type { BlocklistLoader } from '../loaders/verification-loaders.interface.js';

/**
 * The claims a store needs to revoke one token: pass the decoded payload (`@Jwt()`).
 * Besides `jti` it must hold the identity claim (`identityClaim`, `sub` by default).
 */
export interface RevocableToken {
  jti?: unknown;
  exp?: unknown;
  iat?: unknown;
  [claim: string]: unknown;
}

/**
 * A ready blocklist: a `BlocklistLoader` that can also revoke. Name its class in
 * `loaders.blocklist`; the module exports it, so controllers can inject it.
 */
export interface RevocationStore extends BlocklistLoader {
  /**
   * Revokes one token until `exp + decodeLeeway` (as long as the decoder accepts it).
   * A token without `jti` cannot be revoked alone (use `revokeAllForUser`).
   */
  revokeToken(token: RevocableToken): Promise<void>;
  /**
   * Revokes every token of `identity` issued before this call (password change,
   * admin action), also one whose `iat` is up to `decodeLeeway` ahead of the clock;
   * tokens issued within `decodeLeeway` seconds after it are refused too, since their
   * `iat` cannot tell them apart. Resolves at the next whole second (`iat` has whole
   * seconds). A later call never shortens an earlier one.
   */
  revokeAllForUser(identity: unknown): Promise<void>;
}

/**
 * Options shared by the ready stores. Inside `JwtExtendedModule` a store follows the
 * module's configuration (identity claim, leeway, token lifetimes); these options
 * may lengthen what it keeps, never shorten it.
 */
export interface RevocationStoreOptions {
  /**
   * Claim holding the identity, for a store used outside the module (e.g. a script
   * revoking tokens in the app's Redis). Inside the module its `identityClaim` applies,
   * and a different value here stops start-up. Default `'sub'`.
   */
  identityClaim?: string;
  /**
   * Seconds a revoked token stays refused after its `exp`. Inside the module: its
   * `decodeLeeway`, or this when longer. Outside: this. Default 0.
   */
  decodeLeeway?: number;
  /**
   * Seconds a user-wide cut-off (`revokeAllForUser`, or a collapse of the in-memory
   * store) is kept. Default: forever, since `expiresDelta` may create tokens of any
   * lifetime. Set it only when the app never creates longer tokens: tokens created
   * with a longer `expiresDelta` (or an `exp` in `additionalClaims`) outlive it.
   * Inside the module, a value shorter than the longest of `accessTokenExpires` and
   * `refreshTokenExpires` plus `decodeLeeway` (or any value when one is `false`)
   * stops start-up.
   */
  userRevocationTtl?: number;
}
