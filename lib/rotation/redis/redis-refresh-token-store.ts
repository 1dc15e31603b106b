import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { MAX_TIMER_MS, withDeadline } from '../../loaders/deadline.js';
import type { JwtExtendedConfig } from '../../config/jwt-extended-config.js';
import type {
  FamilyRotation,
  FamilyToken,
  FamilyTokenStatus,
  RefreshTokenStore,
  RotationOutcome,
} from '../../loaders/rotation-loaders.interface.js';
import { CONFIGURE_STORE, type ConfigurableStore, numberOption } from '../../blocklist/store-settings.js';
import { replicasOption, writeAndWait } from '../../blocklist/redis/replicated-write.js';
import { FamilySettings, checkExpiry, checkIds, checkRotation, storeUnavailable } from '../family-settings.js';

export interface RedisRefreshTokenStoreOptions {
  /** Prefix of every key this store writes, without `{` or `}` (the store sets the hash tags). Default `'jwt:family:'`. */
  keyPrefix?: string;
  /** Milliseconds a Redis call may take before the request fails closed with 503 (at most 2147483647). Default 1000. */
  timeout?: number;
  /**
   * Replicas that must acknowledge each write (a family started, a token consumed, a family
   * revoked) before it resolves, as `RedisBlocklist`'s option: Redis `WAIT` on the connection that
   * wrote, within half of `timeout`. A consumed token or a revoked family acknowledged to the
   * client is then not undone when its master fails before replicating it. When fewer acknowledge,
   * the request fails with 503 (the write may still be on the master). An integer from 0 (default:
   * no wait) to 16; needs a replica behind every master.
   */
  waitForReplicas?: number;
}

/** The few ioredis commands the store uses (and `pipeline()` with `waitForReplicas`): a `Redis` client or a `Cluster` client. */
export type RedisRefreshTokenStoreClient = Pick<Redis, 'eval' | 'hmget'>;

const logger = new Logger('RedisRefreshTokenStore');

/*
 * A family is two keys sharing the hash tag {family}, so every script stays in one Cluster slot:
 * KEYS[1] `…{fam}:f`, a hash: `cur` (current jti), `prev` (jti consumed last), `rev` (revoked);
 * KEYS[2] `…{fam}:r`, the current refresh token, kept only for reuseInterval after a rotation.
 * Each script runs atomically in Redis: no other instance sees a family half-rotated, and a
 * connection lost mid-call either ran the whole script or none of it.
 * Every write sets or keeps an expiry: the hash lives as long as the family's latest token
 * (never shortened), the reissue key for reuseInterval.
 */

/**
 * Refuses a number of milliseconds Redis cannot take as an expiry (or one it would take as a
 * different number) before a script writes anything: a Lua script is not rolled back, so a
 * PEXPIRE failing after an HSET would leave a key without TTL or a family half-rotated.
 */
const CHECK_MS = `
local function ms(value)
  local n = tonumber(value)
  if not n or n < 0 or n > 9007199254740991 or n ~= math.floor(n) then
    return redis.error_reply('ERR refresh-token store: invalid milliseconds ' .. tostring(value))
  end
end
`;

/** ARGV: jti, milliseconds to keep the family. */
const START = `${CHECK_MS}
local invalid = ms(ARGV[2])
if invalid then return invalid end
redis.call('HSET', KEYS[1], 'cur', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

/** ARGV: presented jti, next jti, next token, reuse interval (ms), milliseconds to keep the family. */
const ROTATE = `${CHECK_MS}
local invalid = ms(ARGV[4]) or ms(ARGV[5])
if invalid then return invalid end
local fam = KEYS[1]
local function extend()
  if redis.call('PTTL', fam) < tonumber(ARGV[5]) then redis.call('PEXPIRE', fam, ARGV[5]) end
end
local state = redis.call('HMGET', fam, 'cur', 'prev', 'rev')
if not state[1] or state[3] then return {'revoked'} end
if state[1] == ARGV[1] then
  redis.call('HSET', fam, 'cur', ARGV[2], 'prev', ARGV[1])
  if tonumber(ARGV[4]) > 0 then
    redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
  else
    redis.call('DEL', KEYS[2])
  end
  extend()
  return {'rotated'}
end
if state[2] == ARGV[1] then
  local current = redis.call('GET', KEYS[2])
  if current then
    extend()
    return {'reissued', current}
  end
end
redis.call('HSET', fam, 'rev', '1')
redis.call('DEL', KEYS[2])
return {'reuse'}
`;

/**
 * ARGV: jti of a refresh token. Active when it is the current jti, or the one consumed last while
 * its reissue key lives (the reuseInterval grace window); any other is reuse: the family is revoked.
 */
const CHECK_REFRESH = `
local state = redis.call('HMGET', KEYS[1], 'cur', 'prev', 'rev')
if not state[1] or state[3] then return 'revoked' end
if state[1] == ARGV[1] then return 'active' end
if state[2] == ARGV[1] and redis.call('EXISTS', KEYS[2]) == 1 then return 'active' end
redis.call('HSET', KEYS[1], 'rev', '1')
redis.call('DEL', KEYS[2])
return 'reuse'
`;

/** Marks a known family revoked; an unknown one is refused anyway (and HSET would create a key without expiry). */
const REVOKE = `
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'rev', '1') end
redis.call('DEL', KEYS[2])
return 1
`;

/**
 * Refresh-token families in Redis, shared by every instance of the app: one rotation is one Lua
 * script, so two instances rotating one token at once never both consume it. A check on the
 * guard's path is one call: an HMGET for an access token, a script for a refresh token (a consumed one
 * revokes its family). Works with a Redis Cluster client (each family in one slot). When
 * Redis fails or is slow, requests fail closed with 503. Without persistence, a Redis restart
 * forgets every family: their tokens are then refused and users log in again.
 *
 * ```ts
 * @Injectable()
 * class Families extends RedisRefreshTokenStore {
 *   constructor(@Inject(REDIS) redis: Redis) { super(redis, { keyPrefix: 'app:family:' }); }
 * }
 * JwtExtendedModule.forRoot({ ..., refreshTokenRotation: { reuseInterval: 10 }, loaders: { refreshTokenStore: Families } })
 * ```
 */
export class RedisRefreshTokenStore implements RefreshTokenStore, ConfigurableStore {
  private readonly prefix: string;
  private readonly timeout: number;
  private readonly replicas: number;
  private readonly settings = new FamilySettings();

  constructor(
    private readonly redis: RedisRefreshTokenStoreClient,
    options: RedisRefreshTokenStoreOptions = {},
  ) {
    const store = 'RedisRefreshTokenStore';
    if (!redis || typeof redis.eval !== 'function') throw new TypeError(`${store} needs an ioredis client (Redis or Cluster)`);
    const prefix = options.keyPrefix ?? 'jwt:family:';
    if (typeof prefix !== 'string' || /[{}]/.test(prefix)) throw new TypeError(`${store}: keyPrefix must be a string without { or }`);
    this.prefix = prefix;
    this.timeout =
      numberOption(store, 'timeout', options.timeout, (n) => n > 0 && n <= MAX_TIMER_MS, `milliseconds > 0 and <= ${MAX_TIMER_MS}`) ?? 1000;
    this.replicas = replicasOption(store, options.waitForReplicas, redis);
  }

  /** @internal Called by `JwtExtendedModule` while it starts. */
  [CONFIGURE_STORE](config: JwtExtendedConfig): void {
    this.settings.apply(config);
  }

  async startFamily(family: string, jti: string, expiresAt: number): Promise<void> {
    checkIds(family, jti);
    checkExpiry(expiresAt);
    const keep = this.settings.keepMs(expiresAt);
    await this.write('start', [START, 1, this.familyKey(family), jti, String(keep)]);
  }

  async rotate(rotation: FamilyRotation): Promise<RotationOutcome> {
    checkRotation(rotation);
    const { family, presented, next } = rotation;
    const reuseMs = String(Math.ceil(rotation.reuseInterval * 1000));
    const keep = String(this.settings.keepMs(rotation.expiresAt));
    const [outcome, token] = (await this.write('rotate', [
      ROTATE,
      2,
      this.familyKey(family),
      this.reissueKey(family),
      presented,
      next.jti,
      next.token,
      reuseMs,
      keep,
    ])) as [RotationOutcome['outcome'], string?];
    return outcome === 'reissued' ? { outcome, token: token! } : ({ outcome } as RotationOutcome);
  }

  async revokeFamily(family: string): Promise<void> {
    checkIds(family);
    await this.write('revoke', [REVOKE, 2, this.familyKey(family), this.reissueKey(family)]);
  }

  async checkFamilyToken({ family, jti, type }: FamilyToken): Promise<FamilyTokenStatus> {
    if (type === 'refresh') {
      // It revokes the family on reuse: a write, kept through a failover like the others.
      return (await this.write('check', [CHECK_REFRESH, 2, this.familyKey(family), this.reissueKey(family), jti])) as FamilyTokenStatus;
    }
    // An access token only needs its family live: one read.
    const [current, revoked] = await this.call('check', () => this.redis.hmget(this.familyKey(family), 'cur', 'rev'));
    return current !== null && revoked === null ? 'active' : 'revoked';
  }

  private familyKey(family: string): string {
    return `${this.prefix}{${family}}:f`;
  }

  private reissueKey(family: string): string {
    return `${this.prefix}{${family}}:r`;
  }

  /**
   * One script (its keys in one slot); with `waitForReplicas`, resolved only once the replicas
   * have its effect (`writeAndWait`), so a state the client was told of survives a failover.
   */
  private write(what: string, [script, ...args]: [string, number, ...string[]]): Promise<unknown> {
    return this.call(what, () =>
      this.replicas === 0
        ? this.redis.eval(script, ...args)
        : writeAndWait(this.redis as unknown as Redis, ['eval', script, ...args], this.replicas, this.timeout),
    );
  }

  /** Bounds a Redis call in time and turns any failure into a 503 (logged without token data). */
  private async call<T>(what: string, command: () => Promise<T>): Promise<T> {
    try {
      return await withDeadline(command(), this.timeout, () => new Error(`no answer within ${this.timeout} ms`));
    } catch (error) {
      logger.error(`Redis ${what} failed: ${(error as Error).message}`);
      throw storeUnavailable();
    }
  }
}
