import type { BlocklistLoader } from '../loaders/verification-loaders.interface.js';

/** The claims a store needs to revoke one token: pass the decoded payload (`@Jwt()`). */
export interface RevocableToken {
  jti?: unknown;
  exp?: unknown;
}

/**
 * A ready blocklist: a `BlocklistLoader` that can also revoke. Name its class in
 * `loaders.blocklist`; the module exports it, so controllers can inject it.
 */
export interface RevocationStore extends BlocklistLoader {
  /** Revokes one token until it expires. A token without `jti` cannot be revoked alone (use `revokeAllForUser`). */
  revokeToken(token: RevocableToken): Promise<void>;
  /**
   * Revokes every token of `identity` issued before this call resolves (password
   * change, admin action). Resolves at the next whole second: `iat` has whole
   * seconds, so only then can later tokens be told apart from earlier ones.
   */
  revokeAllForUser(identity: unknown): Promise<void>;
}

/** Options shared by the ready stores. */
export interface RevocationStoreOptions {
  /** Claim holding the identity, as in the module options. Default `'sub'`. */
  identityClaim?: string;
  /**
   * How long a `revokeAllForUser` cut-off is kept, in seconds: the longest lifetime
   * of any token you issue. Default 30 days (the default refresh-token lifetime).
   */
  userRevocationTtl?: number;
}

/** The key a per-user cut-off is stored under. */
export function identityKey(identity: unknown): string {
  return typeof identity === 'string' ? identity : JSON.stringify(identity);
}

export const DEFAULT_USER_REVOCATION_TTL = 2592000;

/**
 * The `iat` from which a user's tokens are valid again: the next whole second. The
 * caller waits for it, so a token created after `revokeAllForUser` resolves is never
 * mistaken for one created before.
 */
export function userCutoff(): { cutoff: number; wait: Promise<void> } {
  const cutoff = Math.floor(Date.now() / 1000) + 1;
  return { cutoff, wait: untilWallClock(cutoff * 1000) };
}

/** Resolves once `Date.now()` reaches `ms`. Timers run on a monotonic clock and may fire a little early by the wall clock: check and wait again. */
async function untilWallClock(ms: number): Promise<void> {
  while (Date.now() < ms) {
    await new Promise<void>((resolve) => setTimeout(resolve, ms - Date.now() + 1));
  }
}

/** A token is cut off when it was issued before the cut-off, or carries no usable `iat`. */
export function issuedBefore(iat: unknown, cutoff: number): boolean {
  return !(typeof iat === 'number' && iat >= cutoff);
}
