import { Logger, type OnModuleDestroy } from '@nestjs/common';
import { MAX_TIMER_MS } from '../loaders/deadline.js';
import type { JwtExtendedConfig } from '../config/jwt-extended-config.js';
import type { JwtHeader, JwtPayload } from '../tokens/jwt.interfaces.js';
import { IdentityMap } from './identity.js';
import type { RevocableToken, RevocationStore, RevocationStoreOptions } from './revocation-store.interface.js';
import {
  CONFIGURE_STORE,
  type ConfigurableStore,
  StoreSettings,
  issuedBefore,
  nowSeconds,
  numberOption,
  userCutoff,
} from './store-settings.js';

export interface InMemoryBlocklistOptions extends RevocationStoreOptions {
  /**
   * Most revoked tokens held at once. When full, the identity with the most entries
   * is collapsed into a user-wide cut-off; only when every entry belongs to a
   * different identity does revoking fail (503). Default 1 000 000.
   */
  maxEntries?: number;
  /**
   * Most revoked tokens of one identity held at once. Past it, that identity's
   * entries collapse into one user-wide cut-off covering all of them (which also ends
   * its other sessions issued before it), so one account cannot fill the store. Default 1000.
   */
  maxEntriesPerIdentity?: number;
  /** Seconds between sweeps of expired entries (at most 2147483). Default 60. The timer never keeps the process alive. */
  sweepInterval?: number;
}

// Entries keep their expiry as whole seconds since this epoch (2023-11-14), rounded up: V8 stores such
// small integers inside the entry, where absolute Unix seconds would each take a 12-byte heap number.
const EPOCH = 1_700_000_000;
// The largest such integer (year 2057) stands for "never": tokens without `exp`, or expiring later.
const NEVER = 2 ** 30 - 1;
const toExpires = (until: number) => Math.min(Math.ceil(until) - EPOCH, NEVER);
const toUnix = (expires: number) => (expires === NEVER ? Number.POSITIVE_INFINITY : expires + EPOCH);

// Expiry buckets of this many seconds: a sweep drops whole buckets, never scans live entries.
const BUCKET_SECONDS = 60;
const bucketOf = (expires: number) => Math.floor(expires / BUCKET_SECONDS);
const NEVER_BUCKET = bucketOf(NEVER);

/**
 * A jti or identity decoded by JSON.parse is usually a slice of the whole payload
 * text, which would stay alive as long as the entry: keep a copy of just that string.
 * Copied as UTF-16 code units, so a lone surrogate survives (UTF-8 would turn it into
 * U+FFFD and the copy would no longer equal the identity it was made from).
 */
const detach = (text: string) => Buffer.from(text, 'utf16le').toString('utf16le');

/**
 * One identity's revoked tokens: how many are held, their jtis (one string while
 * there is one; the list may hold dropped jtis until compacted), and the latest `iat`
 * among them, which a collapse must cover (kept per identity, not per entry).
 */
interface Owner {
  readonly identity: unknown;
  live: number;
  jtis: string | string[];
  latestIat: number;
}

/** A revoked token: whose, and when the decoder stops accepting it (`exp + leeway`, as `toExpires` says). */
interface Entry {
  readonly owner: Owner;
  expires: number;
}

/** A user-wide cut-off: tokens issued before `cutoff` are refused until `until` (Unix seconds). */
interface Cutoff {
  cutoff: number;
  until: number;
}

const logger = new Logger('InMemoryBlocklist');

/**
 * A blocklist in this process's memory: for a single instance, tests, and the
 * sample. Entries stay while the decoder would accept their token (`exp` plus
 * `decodeLeeway`); memory is bounded by `maxEntries`, and one identity holds at most
 * `maxEntriesPerIdentity` of them. A user-wide cut-off (`revokeAllForUser`, or a
 * collapse past the cap) is one small entry per identity, kept forever unless
 * `userRevocationTtl` bounds it. Lookups are synchronous (no promise on the
 * guard's hot path).
 *
 * Configure it by subclassing: `@Injectable() class Revocations extends InMemoryBlocklist
 * { constructor() { super({ maxEntries: 100_000 }) } }`.
 */
export class InMemoryBlocklist implements RevocationStore, ConfigurableStore, OnModuleDestroy {
  private readonly tokens = new Map<string, Entry>();
  private readonly buckets = new Map<number, string[]>();
  private readonly owners = new IdentityMap<Owner>();
  private readonly cutoffs = new IdentityMap<Cutoff>();
  private readonly settings: StoreSettings;
  private readonly maxEntries: number;
  private readonly maxPerIdentity: number;
  private readonly timer: NodeJS.Timeout;

  constructor(options: InMemoryBlocklistOptions = {}) {
    const store = 'InMemoryBlocklist';
    this.settings = new StoreSettings(store, options);
    const count = (n: number) => Number.isInteger(n) && n >= 1;
    this.maxEntries = numberOption(store, 'maxEntries', options.maxEntries, count, 'an integer >= 1') ?? 1_000_000;
    this.maxPerIdentity = numberOption(store, 'maxEntriesPerIdentity', options.maxEntriesPerIdentity, count, 'an integer >= 1') ?? 1000;
    const maxSweep = MAX_TIMER_MS / 1000;
    const sweepSeconds =
      numberOption(store, 'sweepInterval', options.sweepInterval, (n) => n > 0 && n <= maxSweep, `seconds > 0 and <= ${maxSweep}`) ?? 60;
    this.timer = setInterval(() => this.sweep(), sweepSeconds * 1000);
    this.timer.unref();
  }

  /** Number of revoked tokens currently held. */
  get size(): number {
    return this.tokens.size;
  }

  /** @internal Called by `JwtExtendedModule` while it starts. */
  [CONFIGURE_STORE](config: JwtExtendedConfig): void {
    this.settings.apply(config);
  }

  async revokeToken(token: RevocableToken): Promise<void> {
    await this.revoke(token);
  }

  async revokeAllForUser(identity: unknown): Promise<void> {
    if (identity === undefined) throw new TypeError('revokeAllForUser needs the identity');
    const { cutoff, wait } = userCutoff(this.settings.leeway);
    this.cutOff(identity, cutoff, nowSeconds() + this.settings.userRetention);
    await wait;
  }

  isTokenRevoked(_header: JwtHeader, payload: JwtPayload): boolean {
    const entry = typeof payload.jti === 'string' ? this.tokens.get(payload.jti) : undefined;
    if (entry === undefined && this.cutoffs.size === 0) return false;
    const now = nowSeconds();
    if (entry !== undefined && toUnix(entry.expires) > now) return true;
    const identity = Object.hasOwn(payload, this.settings.identityClaim) ? payload[this.settings.identityClaim] : undefined;
    const cut = this.cutoffs.get(identity);
    return cut !== undefined && cut.until > now && issuedBefore(payload.iat, cut.cutoff);
  }

  /** Drops entries and cut-offs whose tokens the decoder refuses by now. Runs on a timer; callable by hand. */
  sweep(): void {
    const now = nowSeconds();
    for (const [bucket, jtis] of this.buckets) {
      if (bucket === NEVER_BUCKET || toUnix((bucket + 1) * BUCKET_SECONDS) > now) continue;
      for (const jti of jtis) {
        const entry = this.tokens.get(jti);
        if (entry !== undefined && bucketOf(entry.expires) === bucket) this.drop(jti, entry.owner);
      }
      this.buckets.delete(bucket);
    }
    // Without userRevocationTtl every cut-off is kept forever: nothing to scan for.
    if (Number.isFinite(this.settings.userRetention)) this.cutoffs.deleteWhere((cut) => cut.until <= now);
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** All state changes happen synchronously here; the promise is the wait of a collapse, if one happened. */
  private revoke(token: RevocableToken): Promise<void> | undefined {
    const { jti, identity, until } = this.settings.revocable(token);
    if (until <= nowSeconds() || this.covered(identity, token.iat, until)) return undefined;
    const entry = this.tokens.get(jti);
    if (entry) {
      this.extend(jti, entry, toExpires(until));
      return undefined;
    }
    let wait: Promise<void> | undefined;
    const owner = this.owners.get(identity);
    if (owner && owner.live >= this.maxPerIdentity) {
      wait = this.collapse(owner, until);
    } else if (this.tokens.size >= this.maxEntries) {
      wait = this.makeRoom(owner, until);
    }
    // A collapse of this identity covers the token, unless its iat lies past the cut-off.
    if (!this.covered(identity, token.iat, until)) this.add(detach(jti), identity, toExpires(until), token.iat);
    return wait;
  }

  /** A user-wide cut-off already refuses this token for as long as the decoder accepts it. */
  private covered(identity: unknown, iat: unknown, until: number): boolean {
    const cut = this.cutoffs.get(identity);
    return cut !== undefined && cut.until >= until && issuedBefore(iat, cut.cutoff);
  }

  private add(jti: string, identity: unknown, expires: number, iat: unknown): void {
    // A missing or unusable iat is before any cut-off (issuedBefore): nothing to cover.
    const stamped = typeof iat === 'number' && Number.isFinite(iat) ? iat : Number.NEGATIVE_INFINITY;
    const owner = this.owners.get(identity);
    if (!owner) {
      const first: Owner = { identity: typeof identity === 'string' ? detach(identity) : identity, live: 1, jtis: jti, latestIat: stamped };
      this.owners.set(first.identity, first);
      this.store(jti, first, expires);
      return;
    }
    if (typeof owner.jtis === 'string') {
      owner.jtis = [owner.jtis, jti];
    } else {
      // Dropped jtis linger in the list until compacted: keep it within twice the live count.
      if (owner.jtis.length >= 2 * owner.live + 8) owner.jtis = owner.jtis.filter((j) => this.tokens.get(j)?.owner === owner);
      owner.jtis.push(jti);
    }
    owner.live++;
    owner.latestIat = Math.max(owner.latestIat, stamped);
    this.store(jti, owner, expires);
  }

  private store(jti: string, owner: Owner, expires: number): void {
    this.tokens.set(jti, { owner, expires });
    this.pushToBucket(bucketOf(expires), jti);
  }

  /** The same jti revoked again with a later expiry (tokens minted with a chosen jti): keep it until the later one. */
  private extend(jti: string, entry: Entry, expires: number): void {
    if (expires <= entry.expires) return;
    const moved = bucketOf(expires) !== bucketOf(entry.expires);
    entry.expires = expires;
    if (moved) this.pushToBucket(bucketOf(expires), detach(jti));
  }

  private pushToBucket(bucket: number, jti: string): void {
    const list = this.buckets.get(bucket);
    if (list) list.push(jti);
    else this.buckets.set(bucket, [jti]);
  }

  private drop(jti: string, owner: Owner): void {
    this.tokens.delete(jti);
    if (--owner.live === 0) this.owners.delete(owner.identity);
  }

  /**
   * Replaces an identity's entries with one user-wide cut-off that refuses all of
   * them (and whatever else it was issued before now) for as long as any of them,
   * or the token being revoked (`until`), would be accepted. The cut-off is raised
   * past their latest `iat`: one revoked before the wall clock stepped back, or passed
   * to revokeToken without going through the decoder, may lie beyond now + leeway.
   */
  private collapse(owner: Owner, until: number): Promise<void> {
    let last = until;
    for (const jti of typeof owner.jtis === 'string' ? [owner.jtis] : owner.jtis) {
      const entry = this.tokens.get(jti);
      if (entry?.owner !== owner) continue;
      last = Math.max(last, toUnix(entry.expires));
      this.tokens.delete(jti);
    }
    owner.live = 0;
    this.owners.delete(owner.identity);
    const { cutoff, wait } = userCutoff(this.settings.leeway);
    this.cutOff(
      owner.identity,
      Math.max(cutoff, Math.floor(owner.latestIat) + 1),
      Math.max(last, nowSeconds() + this.settings.userRetention),
    );
    return wait;
  }

  /**
   * The store is full: drop what has expired, else collapse the revoking identity,
   * else the identity with the most entries. When every entry belongs to a different
   * identity nothing can go without un-revoking a token: refuse (fail closed).
   */
  private makeRoom(owner: Owner | undefined, until: number): Promise<void> | undefined {
    this.sweep();
    if (this.tokens.size < this.maxEntries) return undefined;
    if (owner && owner.live > 0) return this.collapse(owner, until);
    let largest: Owner | undefined;
    for (const candidate of this.owners.values()) if (!largest || candidate.live > largest.live) largest = candidate;
    if (largest && largest.live >= 2) return this.collapse(largest, 0);
    logger.error(`Full: ${this.maxEntries} revoked tokens of as many identities; revoking fails until some expire (raise maxEntries)`);
    throw this.settings.unavailable();
  }

  /** Sets or strengthens a user-wide cut-off: never earlier, never kept for less time. */
  private cutOff(identity: unknown, cutoff: number, until: number): void {
    const existing = this.cutoffs.get(identity);
    if (existing) {
      existing.cutoff = Math.max(existing.cutoff, cutoff);
      existing.until = Math.max(existing.until, until);
    } else {
      this.cutoffs.set(typeof identity === 'string' ? detach(identity) : identity, { cutoff, until });
    }
  }
}
