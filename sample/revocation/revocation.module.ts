import { Inject, Injectable, Module, type OnApplicationShutdown, type Type } from '@nestjs/common';
import { InMemoryBlocklist, type RevocationStore } from 'nestjs-jwt-extended';
import { RedisBlocklist } from 'nestjs-jwt-extended/redis';
import { Redis } from 'ioredis';

export const REDIS = Symbol('REDIS');
/** What controllers inject to revoke tokens, whichever store is in use. */
export const REVOCATIONS = Symbol('REVOCATIONS');

@Injectable()
export class RedisRevocations extends RedisBlocklist {
  constructor(@Inject(REDIS) redis: Redis) {
    super(redis, { keyPrefix: 'sample:revoked:' });
  }
}

@Injectable()
class RedisConnection implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis | null) {}
  onApplicationShutdown() {
    this.redis?.disconnect();
  }
}

/** The Redis client when REDIS_URL is set (otherwise the in-memory store needs none). */
export function redisModule(redisUrl: string | undefined): Type {
  @Module({
    providers: [
      // Offline queue off: while Redis is down, checks fail at once (503) instead of piling up.
      { provide: REDIS, useFactory: () => (redisUrl ? new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 }) : null) },
      RedisConnection,
    ],
    exports: [REDIS],
  })
  class RedisModule {}
  return RedisModule;
}

/** The library's in-memory store by default; Redis when REDIS_URL is set. */
export function revocationStore(redisUrl: string | undefined): Type<RevocationStore> {
  return redisUrl ? RedisRevocations : InMemoryBlocklist;
}
