import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { MAX_TIMER_MS, withDeadline } from '../../loaders/deadline.js';
import type { JwtExtendedConfig } from '../../config/jwt-extended-config.js';
import type { JwtHeader, JwtPayload } from '../../tokens/jwt.interfaces.js';
import { identityKey } from '../identity.js';
import type { RevocableToken, RevocationStore, RevocationStoreOptions } from '../revocation-store.interface.js';
import {
  CONFIGURE_STORE,
  type ConfigurableStore,
  StoreSettings,
  issuedBefore,
  nowSeconds,
  numberOption,
  userCutoff,
} from '../store-settings.js';

export interface RedisBlocklistOptions extends RevocationStoreOptions {
  /** Prefix of every key this store writes, without `{` or `}` (the store sets the hash tags). Default `'jwt:revoked:'`. */
  keyPrefix?: string;
  /** Milliseconds a Redis call may take before the request fails closed with 503 (at most 2147483647). Default 1000. */
  timeout?: number;
}

/** The few ioredis commands the store uses: a `Redis` client or a `Cluster` client. */
export type RedisBlocklistClient = Pick<Redis, 'mget' | 'set' | 'eval'>;

// Longer than this (about 31 700 years) a key is kept without expiry: Redis refuses expiry times that overflow.
const MAX_TTL_SECONDS = 1e12;

const logger = new Logger('RedisBlocklist');

/**
 * Stores a user cut-off, keeping the one in Redis when it is later: a call from an
 * instance whose clock is behind must not shorten an earlier revocation. One key, so
 * one Cluster slot. ARGV: the cut-off, then the TTL in seconds ('' for none).
 */
const KEEP_LATER_CUTOFF = `
local stored = redis.call('GET', KEYS[1])
local cutoff = ARGV[1]
if stored and tonumber(stored) and tonumber(stored) > tonumber(cutoff) then cutoff = stored end
if ARGV[2] == '' then return redis.call('SET', KEYS[1], cutoff) end
return redis.call('SET', KEYS[1], cutoff, 'EX', ARGV[2])
`;

/**
 * A blocklist in Redis, shared by every instance of the app. A revoked token's key
 * expires when the decoder stops accepting the token (`exp` plus `decodeLeeway`); a
 * user-wide cut-off is one key per identity, without expiry unless `userRevocationTtl`
 * bounds it. A check is one MGET round trip. The keys of one identity share a hash tag, so the
 * MGET stays in one slot and a Redis Cluster client works like a single node. When
 * Redis fails or is slow, requests fail closed with 503: nothing is silently allowed.
 *
 * ```ts
 * @Injectable()
 * class Revocations extends RedisBlocklist {
 *   constructor(@Inject(REDIS) redis: Redis) { super(redis, { keyPrefix: 'app:revoked:' }); }
 * }
 * JwtExtendedModule.forRoot({ ..., loaders: { blocklist: Revocations } })
 * ```
 */
export class RedisBlocklist implements RevocationStore, ConfigurableStore {
  private readonly prefix: string;
  private readonly timeout: number;
  private readonly settings: StoreSettings;

  constructor(
    private readonly redis: RedisBlocklistClient,
    options: RedisBlocklistOptions = {},
  ) {
    const store = 'RedisBlocklist';
    if (!redis || typeof redis.mget !== 'function') throw new TypeError(`${store} needs an ioredis client (Redis or Cluster)`);
    this.settings = new StoreSettings(store, options);
    const prefix = options.keyPrefix ?? 'jwt:revoked:';
    if (typeof prefix !== 'string' || /[{}]/.test(prefix)) throw new TypeError(`${store}: keyPrefix must be a string without { or }`);
    this.prefix = prefix;
    this.timeout =
      numberOption(store, 'timeout', options.timeout, (n) => n > 0 && n <= MAX_TIMER_MS, `milliseconds > 0 and <= ${MAX_TIMER_MS}`) ?? 1000;
  }

  /** @internal Called by `JwtExtendedModule` while it starts. */
  [CONFIGURE_STORE](config: JwtExtendedConfig): void {
    this.settings.apply(config);
  }

  async revokeToken(token: RevocableToken): Promise<void> {
    const { jti, identity, until } = this.settings.revocable(token);
    const ttl = Math.ceil(until - nowSeconds());
    if (ttl <= 0) return; // the decoder refuses this token already
    const key = `${this.identityPrefix(identity)}jti:${jti}`;
    await this.call('revoke', () => (ttl > MAX_TTL_SECONDS ? this.redis.set(key, '1') : this.redis.set(key, '1', 'EX', ttl)));
  }

  async revokeAllForUser(identity: unknown): Promise<void> {
    if (identity === undefined) throw new TypeError('revokeAllForUser needs the identity');
    const key = `${this.identityPrefix(identity)}user`;
    const { cutoff, wait } = userCutoff(this.settings.leeway);
    const ttl = Math.ceil(this.settings.userRetention);
    await this.call('revoke', () => this.redis.eval(KEEP_LATER_CUTOFF, 1, key, String(cutoff), ttl > MAX_TTL_SECONDS ? '' : String(ttl)));
    await wait;
  }

  async isTokenRevoked(header: JwtHeader, payload: JwtPayload): Promise<boolean> {
    const claim = this.settings.identityClaim;
    const prefix = this.identityPrefix(Object.hasOwn(payload, claim) ? payload[claim] : undefined);
    const jti = typeof payload.jti === 'string' ? payload.jti : undefined;
    const [revoked, cutoff] = await this.call(
      'check',
      () => this.redis.mget(`${prefix}jti:${jti ?? ''}`, `${prefix}user`),
      header,
      payload,
    );
    if (jti !== undefined && revoked !== null) return true;
    return cutoff !== null && issuedBefore(payload.iat, Number(cutoff));
  }

  /** `prefix{identity}:`: one hash tag for all keys of an identity, so a check never crosses Cluster slots. */
  private identityPrefix(identity: unknown): string {
    return `${this.prefix}{${identityKey(identity)}}:`;
  }

  /** Bounds a Redis call in time and turns any failure into a 503 (logged without token data). */
  private async call<T>(what: 'check' | 'revoke', command: () => Promise<T>, jwtHeader?: JwtHeader, jwtPayload?: JwtPayload): Promise<T> {
    try {
      return await withDeadline(command(), this.timeout, () => new Error(`no answer within ${this.timeout} ms`));
    } catch (error) {
      logger.error(`Redis ${what} failed: ${(error as Error).message}`);
      throw this.settings.unavailable(jwtHeader, jwtPayload);
    }
  }
}
