import { clonePayload } from './claim-values.js';
import { own } from './compact-token.js';
import type { JwtHeader, JwtPayload, VerifiedJwt } from './jwt.interfaces.js';

/** Whether the key a token was verified with is still trusted (a remote issuer's key may leave its set). */
export type KeyStillTrusted = () => boolean;

interface Entry {
  header: JwtHeader;
  payload: JwtPayload;
  /** Seconds since the epoch from which the token counts as expired (`exp` + leeway). */
  expiresAt: number;
  stillTrusted?: KeyStillTrusted;
  /** The payload holds values freezing cannot protect: every request gets a clone. */
  cloned: boolean;
}

/** What `set` needs to know beyond the token itself. */
export interface CacheEntryOptions {
  stillTrusted?: KeyStillTrusted;
  /** The payload is `cloned` (see `freezeValues`): clone it for every request instead of sharing its values. */
  cloned?: boolean;
}

/**
 * Tokens whose signature and registered claims were verified, keyed by the whole
 * token string, so a client sending the same token again skips parsing and the
 * signature check. An entry is never returned at or after its expiry, nor once its
 * remote key has left the issuer's set (or the set is past its cache age). Only what is
 * true of the token itself is cached: type, freshness, CSRF, revocation, claims
 * verification and user lookup are checked on every request.
 *
 * Entries never leave the cache: `set` stores copies and `get` hands out copies, so
 * nothing a caller does to a header or payload reaches a later request. Nested claim
 * values are shared, so the caller must have frozen them, unless the entry is `cloned`
 * (schema output with a Date, Set, …): then `set` and every `get` clone the payload.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();
  /**
   * Where the last eviction stopped: everything before it was evicted, so it yields the oldest
   * entry. A fresh `keys().next()` per eviction would skip every earlier eviction's hole at the
   * front of V8's table (thousands per miss in a full cache). An expired entry's deletion drops
   * it: V8 keeps every table a live iterator still points into, so it must not sit idle.
   */
  private oldest?: Iterator<string>;

  constructor(
    private readonly maxEntries: number,
    /** `decodeLeeway`, in seconds: an entry lives as long as the decoder would accept its token. */
    private readonly leeway: number,
  ) {}

  get(token: string, nowSeconds: number): VerifiedJwt | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    if (nowSeconds >= entry.expiresAt || (entry.stillTrusted && !entry.stillTrusted())) {
      this.entries.delete(token);
      this.oldest = undefined;
      return undefined;
    }
    return { header: { ...entry.header }, payload: entry.cloned ? clonePayload(entry.payload) : { ...entry.payload } };
  }

  set(token: string, { header, payload }: VerifiedJwt, { stillTrusted, cloned = false }: CacheEntryOptions = {}): void {
    let stored: JwtPayload;
    try {
      stored = cloned ? clonePayload(payload) : { ...payload };
    } catch {
      // Nested too deep to clone: not cached, so each request verifies this token itself.
      return;
    }
    if (this.entries.size >= this.maxEntries) {
      this.entries.delete((this.oldest ??= this.entries.keys()).next().value as string);
    }
    const exp = own(payload, 'exp');
    const expiresAt = typeof exp === 'number' ? exp + this.leeway : Number.POSITIVE_INFINITY;
    this.entries.set(token, { header: { ...header }, payload: stored, expiresAt, stillTrusted, cloned });
  }
}
