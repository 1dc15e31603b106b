import { Inject, Injectable, type OnModuleDestroy, Optional, ServiceUnavailableException } from '@nestjs/common';
import type { JwtHeader, JwtPayload } from '../tokens/jwt.interfaces.js';
import {
  DEFAULT_USER_REVOCATION_TTL,
  type RevocableToken,
  type RevocationStore,
  type RevocationStoreOptions,
  identityKey,
  issuedBefore,
  userCutoff,
} from './revocation-store.interface.js';

export interface InMemoryBlocklistOptions extends RevocationStoreOptions {
  /** Most revoked tokens held at once. When full (after dropping expired ones) revoking fails loudly. Default 1 000 000. */
  maxEntries?: number;
  /** Seconds between sweeps of expired entries. Default 60. The timer never keeps the process alive. */
  sweepInterval?: number;
}

/** Injection token for `InMemoryBlocklist` options (or pass them to `super()` in a subclass). */
export const IN_MEMORY_BLOCKLIST_OPTIONS = Symbol('IN_MEMORY_BLOCKLIST_OPTIONS');

const NEVER = Number.POSITIVE_INFINITY;
// Expiry buckets of this many seconds: a sweep drops whole buckets, never scans live entries.
const BUCKET_SECONDS = 60;

const nowSeconds = () => Date.now() / 1000;

/**
 * A jti decoded by JSON.parse is usually a slice of the whole payload text, which
 * would stay alive as long as the entry: keep a copy of just the 36 characters.
 */
const detach = (jti: string) => Buffer.from(jti, 'utf8').toString('utf8');

/**
 * A blocklist in this process's memory: for a single instance, tests, and the
 * sample. Entries leave when their token expires; memory is bounded by `maxEntries`.
 * Lookups are synchronous (no promise on the guard's hot path).
 */
@Injectable()
export class InMemoryBlocklist implements RevocationStore, OnModuleDestroy {
  private readonly tokens = new Map<string, number>();
  private readonly buckets = new Map<number, string[]>();
  private readonly userCutoffs = new Map<string, { cutoff: number; until: number }>();
  private readonly identityClaim: string;
  private readonly userTtl: number;
  private readonly maxEntries: number;
  private readonly timer: NodeJS.Timeout;

  constructor(@Optional() @Inject(IN_MEMORY_BLOCKLIST_OPTIONS) options: InMemoryBlocklistOptions = {}) {
    this.identityClaim = options.identityClaim ?? 'sub';
    this.userTtl = options.userRevocationTtl ?? DEFAULT_USER_REVOCATION_TTL;
    this.maxEntries = options.maxEntries ?? 1_000_000;
    const sweepSeconds = options.sweepInterval ?? 60;
    if (!(this.maxEntries >= 1) || !(sweepSeconds > 0) || !(this.userTtl > 0)) {
      throw new TypeError('InMemoryBlocklist: maxEntries, sweepInterval and userRevocationTtl must be positive');
    }
    this.timer = setInterval(() => this.sweep(), sweepSeconds * 1000);
    this.timer.unref();
  }

  /** Number of revoked tokens currently held. */
  get size(): number {
    return this.tokens.size;
  }

  async revokeToken(token: RevocableToken): Promise<void> {
    if (typeof token?.jti !== 'string') throw new TypeError('revokeToken needs the token payload, with its jti');
    const exp = typeof token.exp === 'number' && Number.isFinite(token.exp) ? token.exp : NEVER;
    if (exp <= nowSeconds()) return; // already unusable
    const jti = detach(token.jti);
    if (!this.tokens.has(jti) && this.tokens.size >= this.maxEntries) {
      this.sweep();
      // Dropping a live entry would silently un-revoke a token: refuse instead.
      if (this.tokens.size >= this.maxEntries) {
        throw new ServiceUnavailableException('The in-memory blocklist is full');
      }
    }
    this.tokens.set(jti, exp);
    if (exp !== NEVER) {
      const bucket = Math.floor(exp / BUCKET_SECONDS);
      const list = this.buckets.get(bucket);
      if (list) list.push(jti);
      else this.buckets.set(bucket, [jti]);
    }
  }

  async revokeAllForUser(identity: unknown): Promise<void> {
    const { cutoff, wait } = userCutoff();
    this.userCutoffs.set(identityKey(identity), { cutoff, until: cutoff + this.userTtl });
    await wait;
  }

  isTokenRevoked(_header: JwtHeader, payload: JwtPayload): boolean {
    const now = nowSeconds();
    if (typeof payload.jti === 'string') {
      const exp = this.tokens.get(payload.jti);
      if (exp !== undefined && exp > now) return true;
    }
    if (this.userCutoffs.size > 0) {
      const cutoff = this.userCutoffs.get(identityKey(payload[this.identityClaim]));
      if (cutoff && cutoff.until > now && issuedBefore(payload.iat, cutoff.cutoff)) return true;
    }
    return false;
  }

  /** Drops entries whose token has expired. Runs on a timer; callable by hand. */
  sweep(): void {
    const current = Math.floor(nowSeconds() / BUCKET_SECONDS);
    for (const [bucket, jtis] of this.buckets) {
      if (bucket >= current) continue;
      for (const jti of jtis) {
        const exp = this.tokens.get(jti);
        if (exp !== undefined && Math.floor(exp / BUCKET_SECONDS) === bucket) this.tokens.delete(jti);
      }
      this.buckets.delete(bucket);
    }
    const now = nowSeconds();
    for (const [key, cutoff] of this.userCutoffs) if (cutoff.until <= now) this.userCutoffs.delete(key);
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }
}
