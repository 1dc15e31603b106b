import { clonePayload } from './claim-values.js';
import { own } from './compact-token.js';
import type { JwtHeader, JwtPayload, VerifiedJwt } from './jwt.interfaces.js';

/** Whether the key a token was verified with is still trusted (a remote issuer's key may leave its set). */
export type KeyStillTrusted = () => boolean;

interface Entry {
  /** The whole token: an entry answers only for the very token it was verified from. */
  token: string;
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
 * Where a token's entry lives in the map: a number made from its last characters (the end of
 * its signature, as good as random for a verified token). A string key would cost V8 a hash of
 * the whole token on every request (the token is a fresh slice of the header each time: about
 * 0.4 µs for 250 characters); this reads seven. Two tokens on one slot only cost a miss: an
 * entry is returned for its own token alone.
 */
function slotOf(token: string): number {
  let hash = 0x811c9dc5;
  for (let i = Math.max(0, token.length - 7); i < token.length; i++) hash = Math.imul(hash ^ token.charCodeAt(i), 0x01000193);
  return hash & 0x3fffffff;
}

/**
 * Slots seen once lately, as bits (a slot may share its bit: then it passes early, which only
 * costs an entry). Forgets everything every `window` slots it is shown, so "seen again" means
 * within about as many new tokens as the cache holds: a token seen less often would have been
 * evicted before its next request anyway.
 */
class Doorkeeper {
  private readonly bits: Uint32Array;
  private readonly mask: number;
  private shown = 0;

  constructor(private readonly window: number) {
    // About eight bits per slot of the window (few shared bits), between 1 Ki and 16 Mi bits.
    const size = 2 ** Math.min(24, Math.max(10, Math.ceil(Math.log2(window * 8))));
    this.bits = new Uint32Array(size / 32);
    this.mask = size - 1;
  }

  /** Whether `slot` was shown since the last reset; it is remembered for the next time otherwise. */
  seenBefore(slot: number): boolean {
    const bit = slot & this.mask;
    const flag = 1 << (bit & 31);
    if ((this.bits[bit >>> 5] & flag) !== 0) return true;
    this.bits[bit >>> 5] |= flag;
    if (++this.shown >= this.window) {
      this.bits.fill(0);
      this.shown = 0;
    }
    return false;
  }
}

/**
 * Tokens whose signature and registered claims were verified, matched on the whole
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
 *
 * Once full, a token is let in on its second sight only (within the doorkeeper's window):
 * a stream of tokens used once each (many users, one request each) then evicts nothing and
 * costs no copies, where admitting each would push out the tokens in use for ones never asked
 * for again. Not with a claims schema, whose output is kept so that it runs once per token.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<number, Entry>();
  /**
   * Where the last eviction stopped: everything before it was evicted, so it yields the oldest
   * entry. A fresh `keys().next()` per eviction would skip every earlier eviction's hole at the
   * front of V8's table (thousands per miss in a full cache). An expired entry's deletion drops
   * it: V8 keeps every table a live iterator still points into, so it must not sit idle.
   */
  private oldest?: Iterator<number>;
  private readonly doorkeeper?: Doorkeeper;

  constructor(
    private readonly maxEntries: number,
    /** `decodeLeeway`, in seconds: an entry lives as long as the decoder would accept its token. */
    private readonly leeway: number,
    /** Let every token in at once, even when full: the entries hold claims schema output. */
    admitAtOnce = false,
  ) {
    if (!admitAtOnce) this.doorkeeper = new Doorkeeper(maxEntries);
  }

  get(token: string, nowSeconds: number): VerifiedJwt | undefined {
    const slot = slotOf(token);
    const entry = this.entries.get(slot);
    if (entry === undefined || entry.token !== token) return undefined;
    if (nowSeconds >= entry.expiresAt || (entry.stillTrusted && !entry.stillTrusted())) {
      this.entries.delete(slot);
      this.oldest = undefined;
      return undefined;
    }
    return { header: { ...entry.header }, payload: entry.cloned ? clonePayload(entry.payload) : { ...entry.payload } };
  }

  set(token: string, { header, payload }: VerifiedJwt, { stillTrusted, cloned = false }: CacheEntryOptions = {}): void {
    const slot = slotOf(token);
    // A token on an occupied slot takes it over: the map does not grow.
    const full = this.entries.size >= this.maxEntries && !this.entries.has(slot);
    if (full && this.doorkeeper && !this.doorkeeper.seenBefore(slot)) return;
    let stored: JwtPayload;
    try {
      stored = cloned ? clonePayload(payload) : { ...payload };
    } catch {
      // Nested too deep to clone: not cached, so each request verifies this token itself.
      return;
    }
    if (full) this.entries.delete((this.oldest ??= this.entries.keys()).next().value as number);
    const exp = own(payload, 'exp');
    const expiresAt = typeof exp === 'number' ? exp + this.leeway : Number.POSITIVE_INFINITY;
    this.entries.set(slot, { token, header: { ...header }, payload: stored, expiresAt, stillTrusted, cloned });
  }
}
