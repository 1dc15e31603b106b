import { Inject, Injectable, Logger, type Type } from '@nestjs/common';
import { InMemoryRefreshTokenStore, type JwtPayload, type RefreshTokenReuseLoader, type RefreshTokenStore } from 'nestjs-jwt-extended';
import { RedisRefreshTokenStore } from 'nestjs-jwt-extended/redis';
import type { Redis } from 'ioredis';
import { REDIS } from '../revocation/revocation.module.js';

/** Refresh-token families in Redis, shared by every instance (the same client as the revocations). */
@Injectable()
export class RedisRefreshFamilies extends RedisRefreshTokenStore {
  constructor(@Inject(REDIS) redis: Redis) {
    super(redis, { keyPrefix: 'sample:family:' });
  }
}

/** The in-memory store by default (one instance); Redis when REDIS_URL is set. */
export function refreshFamilies(redisUrl: string | undefined): Type<RefreshTokenStore> {
  return redisUrl ? RedisRefreshFamilies : InMemoryRefreshTokenStore;
}

/** A consumed refresh token came back: stolen, or a client that refreshed twice. The family is revoked already; log it. */
@Injectable()
export class ReuseAlarm implements RefreshTokenReuseLoader {
  private readonly logger = new Logger('RefreshTokenReuse');

  onRefreshTokenReuse(payload: JwtPayload): void {
    this.logger.warn(`refresh token reused: family ${String(payload.fam)} of ${String(payload.sub)} revoked`);
  }
}
