import { Logger, type OnModuleDestroy } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
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
import { type RedisCommand, replicasOption, writeAndWait } from './replicated-write.js';
import { type RedisLocalCacheOptions, TrackedCache } from './tracked-cache.js';

export interface RedisBlocklistOptions extends RevocationStoreOptions {
  /** Prefix of every key this store writes, without `{` or `}` (the store sets the hash tags). Default `'jwt:revoked:'`. */
  keyPrefix?: string;
  /** Milliseconds a Redis call may take before the request fails closed with 503 (at most 2147483647). Default 1000. */
  timeout?: number;
  /**
   * Replicas that must acknowledge a revocation before it resolves (Redis `WAIT`, sent on the
   * connection that wrote, within half of `timeout`): a revocation is then not lost when its
   * master fails before replicating it. When fewer acknowledge, the call rejects with 503 (the
   * revocation may still be on the master: retry it). An integer from 0 (default: no wait) to 16.
   */
  waitForReplicas?: number;
  /**
   * Opt-in: answer checks from memory, kept exact by Redis client tracking: two extra
   * connections per store to the node of an ioredis `Redis` client (also behind Sentinel), or to
   * every node, masters and replicas, of a `Cluster` client.
   */
  localCache?: RedisLocalCacheOptions;
}

/**
 * What the store uses of an ioredis client (a `Redis` or a `Cluster` client): `mget` and `call`;
 * also `pipeline()` with `waitForReplicas` and `duplicate()` with `localCache`, checked at construction.
 */
export type RedisBlocklistClient = Pick<Redis, 'mget' | 'call'>;

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
 * A key part as Redis holds it: ioredis writes UTF-8, which turns a lone surrogate into U+FFFD,
 * and invalidations name keys that way. The local cache must use the same name, or a revocation
 * of such a jti would never reach it. (ES2024's `toWellFormed`, in every Node this package supports.)
 */
const asStored = (value: string): string => (value as unknown as { toWellFormed(): string }).toWellFormed();

/** A node's `maxmemory-policy`: `CONFIG GET`, else `INFO memory` (managed services often disable CONFIG). */
async function evictionPolicy(node: RedisBlocklistClient): Promise<string> {
  const reply = await node.call('CONFIG', 'GET', 'maxmemory-policy').then(
    (pair) => (pair as string[])[1],
    () => undefined,
  );
  if (typeof reply === 'string') return reply;
  const info = String(await node.call('INFO', 'memory'));
  const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
  if (policy === undefined) throw new Error('maxmemory-policy not readable (CONFIG GET and INFO memory)');
  return policy;
}

/** What the token's two keys say: its own entry (a token without `jti` has none), or the user's cut-off. */
function revokedBy(payload: JwtPayload, [revoked, cutoff]: (string | null)[]): boolean {
  if (typeof payload.jti === 'string' && revoked !== null) return true;
  return cutoff !== null && issuedBefore(payload.iat, Number(cutoff));
}

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
export class RedisBlocklist implements RevocationStore, ConfigurableStore, OnModuleDestroy {
  private readonly prefix: string;
  private readonly timeout: number;
  private readonly settings: StoreSettings;
  private readonly replicas: number;
  private readonly cache?: TrackedCache;
  /**
   * With the local cache, a token's two keys by its jti (string identities only): a hit then looks
   * up two strings V8 has hashed already, instead of building and hashing two new ones per request
   * (half the cost of a hit). As many tokens as the cache can hold; starts over when full.
   */
  private readonly keysByJti?: Map<string, { identity: string; keys: [string, string] }>;
  /** Set once Redis said it never evicts keys; until then a "not revoked" answer needs that proof. */
  private noEviction = false;
  private evictionCheck?: Promise<string | undefined>;

  constructor(
    private readonly redis: RedisBlocklistClient,
    options: RedisBlocklistOptions = {},
  ) {
    const store = 'RedisBlocklist';
    if (!redis || typeof redis.mget !== 'function') throw new TypeError(`${store} needs an ioredis client (Redis or Cluster)`);
    this.settings = new StoreSettings(store, options);
    const prefix = options.keyPrefix ?? 'jwt:revoked:';
    if (typeof prefix !== 'string' || /[{}]/.test(prefix)) throw new TypeError(`${store}: keyPrefix must be a string without { or }`);
    this.prefix = asStored(prefix);
    this.timeout =
      numberOption(store, 'timeout', options.timeout, (n) => n > 0 && n <= MAX_TIMER_MS, `milliseconds > 0 and <= ${MAX_TIMER_MS}`) ?? 1000;
    this.replicas = replicasOption(store, options.waitForReplicas, redis);
    if (options.localCache !== undefined) {
      this.cache = this.localCache(redis, options.localCache);
      this.keysByJti = new Map();
    }
  }

  /** Closes the local cache's own connections (the client passed in stays the app's). */
  onModuleDestroy(): void {
    this.cache?.close();
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
    await this.write(key, ttl > MAX_TTL_SECONDS ? ['set', key, '1'] : ['set', key, '1', 'EX', ttl]);
  }

  async revokeAllForUser(identity: unknown): Promise<void> {
    if (identity === undefined) throw new TypeError('revokeAllForUser needs the identity');
    const key = `${this.identityPrefix(identity)}user`;
    const { cutoff, wait } = userCutoff(this.settings.leeway);
    const ttl = Math.ceil(this.settings.userRetention);
    await this.write(key, ['eval', KEEP_LATER_CUTOFF, 1, key, String(cutoff), ttl > MAX_TTL_SECONDS ? '' : String(ttl)]);
    await wait;
  }

  /** Synchronous when the local cache answers: no promise, so no loader deadline timer on that path. */
  isTokenRevoked(header: JwtHeader, payload: JwtPayload): boolean | Promise<boolean> {
    let keys: [string, string];
    try {
      keys = this.checkKeys(payload);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const cached = this.cache?.get(keys[0], keys[1]);
    if (cached) return revokedBy(payload, cached);
    return this.read(keys, header, payload);
  }

  /**
   * One MGET; with a local cache, its answer is mirrored unless an invalidation arrived meanwhile.
   * A revocation found is final; "not revoked" is answered only by a Redis known never to evict keys.
   */
  private async read(keys: [string, string], header: JwtHeader, payload: JwtPayload): Promise<boolean> {
    const epoch = this.cache?.readEpoch;
    const values = await this.call('check', () => this.redis.mget(keys[0], keys[1]), header, payload);
    const revoked = revokedBy(payload, values);
    if (!revoked && !this.noEviction) await this.checkEviction(header, payload);
    if (epoch !== undefined && this.noEviction) this.cache!.store(epoch, keys, values);
    return revoked;
  }

  /** Refuses (503) unless Redis says it never evicts keys; each caller gets the 503 with its own token. */
  private async checkEviction(header: JwtHeader, payload: JwtPayload): Promise<void> {
    const evicting = await (this.evictionCheck ??= this.evictingPolicy().finally(() => (this.evictionCheck = undefined))).catch(
      () => 'unknown',
    );
    if (evicting !== undefined) throw this.settings.unavailable(header, payload);
  }

  /**
   * The evicting policy Redis runs, if any: read once at a time by concurrent checks. Only
   * `noeviction` is kept, so a Redis reconfigured to it is accepted without a restart.
   */
  private async evictingPolicy(): Promise<string | undefined> {
    const evicting = (await this.call('check', () => this.evictionPolicies())).find((policy) => policy !== 'noeviction');
    if (evicting === undefined) this.noEviction = true;
    else logger.error(`Redis maxmemory-policy is ${evicting}: it may evict revocations, so tokens not found revoked are refused`);
    return evicting;
  }

  /** `maxmemory-policy` of the node, or of every master of a Cluster; from `INFO memory` where `CONFIG` is disabled. */
  private async evictionPolicies(): Promise<string[]> {
    const client = this.redis as Partial<Cluster> & { isCluster?: boolean };
    const masters = client.isCluster ? client.nodes!('master') : [];
    return Promise.all((masters.length > 0 ? masters : [this.redis]).map(evictionPolicy));
  }

  /** A revocation write of `key`; this process's local cache forgets the key at once. */
  private async write(key: string, command: RedisCommand): Promise<void> {
    try {
      await this.send(command);
    } finally {
      // Also after a failure: the write may have reached Redis.
      this.cache?.forget(key);
    }
  }

  /** With `waitForReplicas`, resolves only once the replicas have the write (`writeAndWait`). */
  private async send(command: RedisCommand): Promise<void> {
    await this.call('revoke', () =>
      this.replicas === 0
        ? this.redis.call(...command)
        : writeAndWait(this.redis as unknown as Redis, command, this.replicas, this.timeout),
    );
  }

  private localCache(redis: RedisBlocklistClient, options: RedisLocalCacheOptions): TrackedCache {
    const store = 'RedisBlocklist';
    if (typeof options !== 'object' || options === null) throw new TypeError(`${store}: localCache must be { maxEntries }`);
    const maxEntries = numberOption(
      store,
      'localCache.maxEntries',
      options.maxEntries,
      (n) => Number.isInteger(n) && n >= 1 && n <= 1e7,
      'an integer from 1 to 10000000',
    );
    if (maxEntries === undefined) throw new TypeError(`${store}: localCache needs maxEntries`);
    const timer = (name: 'probeInterval' | 'probeTimeout') =>
      numberOption(
        store,
        `localCache.${name}`,
        options[name],
        (n) => n > 0 && n <= MAX_TIMER_MS,
        `milliseconds > 0 and <= ${MAX_TIMER_MS}`,
      ) ?? 1000;
    const settings = { maxEntries, probeInterval: timer('probeInterval'), probeTimeout: timer('probeTimeout') };
    const client = redis as Partial<Redis> & { isCluster?: boolean };
    if (!client.isCluster && typeof client.duplicate !== 'function') {
      throw new TypeError(`${store}: localCache needs an ioredis Redis or Cluster client (duplicate())`);
    }
    return new TrackedCache(redis as Redis | Cluster, this.prefix, settings);
  }

  /** A check's two keys: the token's entry and its identity's cut-off, under the identity's hash tag. */
  private checkKeys(payload: JwtPayload): [string, string] {
    const claim = this.settings.identityClaim;
    const identity = Object.hasOwn(payload, claim) ? payload[claim] : undefined;
    const jti = typeof payload.jti === 'string' ? payload.jti : undefined;
    const memo = this.keysByJti;
    const known = memo && jti !== undefined ? memo.get(jti) : undefined;
    if (known !== undefined && known.identity === identity) return known.keys;
    const prefix = this.identityPrefix(identity);
    const keys: [string, string] = [`${prefix}jti:${jti === undefined ? '' : asStored(jti)}`, `${prefix}user`];
    if (memo && jti !== undefined && typeof identity === 'string') {
      if (memo.size >= this.cache!.capacity / 2) memo.clear();
      memo.set(jti, { identity, keys });
    }
    return keys;
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
