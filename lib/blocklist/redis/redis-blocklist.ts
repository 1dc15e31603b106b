import { Logger, ServiceUnavailableException } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { withDeadline } from '../../loaders/deadline.js';
import type { JwtHeader, JwtPayload } from '../../tokens/jwt.interfaces.js';
import {
  DEFAULT_USER_REVOCATION_TTL,
  type RevocableToken,
  type RevocationStore,
  type RevocationStoreOptions,
  identityKey,
  issuedBefore,
  userCutoff,
} from '../revocation-store.interface.js';

export interface RedisBlocklistOptions extends RevocationStoreOptions {
  /** Prefix of every key this store writes. Default `'jwt:revoked:'`. */
  keyPrefix?: string;
  /** Milliseconds a Redis call may take before the request fails closed with 503. Default 1000. */
  timeout?: number;
}

/** The few ioredis commands the store uses (so a Cluster client fits too). */
export type RedisBlocklistClient = Pick<Redis, 'mget' | 'set'>;

const logger = new Logger('RedisBlocklist');

/**
 * A blocklist in Redis, shared by every instance of the app. Keys expire with the
 * token (TTL = its remaining lifetime); a check is one MGET round trip. When Redis
 * fails or is slow, requests fail closed with 503: nothing is silently allowed.
 *
 * ```ts
 * @Injectable()
 * class Revocations extends RedisBlocklist {
 *   constructor(@Inject(REDIS) redis: Redis) { super(redis, { keyPrefix: 'app:revoked:' }); }
 * }
 * JwtExtendedModule.forRoot({ ..., loaders: { blocklist: Revocations } })
 * ```
 */
export class RedisBlocklist implements RevocationStore {
  private readonly prefix: string;
  private readonly timeout: number;
  private readonly identityClaim: string;
  private readonly userTtl: number;

  constructor(
    private readonly redis: RedisBlocklistClient,
    options: RedisBlocklistOptions = {},
  ) {
    if (!redis || typeof redis.mget !== 'function') throw new TypeError('RedisBlocklist needs an ioredis client');
    this.prefix = options.keyPrefix ?? 'jwt:revoked:';
    this.timeout = options.timeout ?? 1000;
    this.identityClaim = options.identityClaim ?? 'sub';
    this.userTtl = Math.ceil(options.userRevocationTtl ?? DEFAULT_USER_REVOCATION_TTL);
    if (!(this.timeout > 0) || !(this.userTtl > 0)) throw new TypeError('RedisBlocklist: timeout and userRevocationTtl must be positive');
  }

  async revokeToken(token: RevocableToken): Promise<void> {
    if (typeof token?.jti !== 'string') throw new TypeError('revokeToken needs the token payload, with its jti');
    const key = `${this.prefix}jti:${token.jti}`;
    if (typeof token.exp === 'number' && Number.isFinite(token.exp)) {
      const ttl = Math.ceil(token.exp - Date.now() / 1000);
      if (ttl <= 0) return; // already unusable
      await this.call('revoke', this.redis.set(key, '1', 'EX', ttl));
    } else {
      await this.call('revoke', this.redis.set(key, '1'));
    }
  }

  async revokeAllForUser(identity: unknown): Promise<void> {
    const key = `${this.prefix}user:${identityKey(identity)}`;
    const { cutoff, wait } = userCutoff();
    await this.call('revoke', this.redis.set(key, String(cutoff), 'EX', this.userTtl));
    await wait;
  }

  async isTokenRevoked(_header: JwtHeader, payload: JwtPayload): Promise<boolean> {
    const jtiKey = `${this.prefix}jti:${typeof payload.jti === 'string' ? payload.jti : ''}`;
    const userKey = `${this.prefix}user:${identityKey(payload[this.identityClaim])}`;
    const [revoked, cutoff] = await this.call('check', this.redis.mget(jtiKey, userKey));
    if (typeof payload.jti === 'string' && revoked !== null) return true;
    return cutoff !== null && issuedBefore(payload.iat, Number(cutoff));
  }

  /** Bounds a Redis call in time and turns any failure into a 503 (logged without token data). */
  private async call<T>(what: 'check' | 'revoke', command: Promise<T>): Promise<T> {
    try {
      return await withDeadline(command, this.timeout, () => new Error(`no answer within ${this.timeout} ms`));
    } catch (error) {
      logger.error(`Redis ${what} failed: ${(error as Error).message}`);
      throw new ServiceUnavailableException({ msg: 'Token revocation store unavailable' });
    }
  }
}
