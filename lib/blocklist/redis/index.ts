// Sub-path export `nestjs-jwt-extended/redis`: needs the optional peer dependency ioredis.
export { RedisBlocklist } from './redis-blocklist.js';
export type { RedisBlocklistClient, RedisBlocklistOptions } from './redis-blocklist.js';
export { RedisRefreshTokenStore } from '../../rotation/redis/redis-refresh-token-store.js';
export type { RedisRefreshTokenStoreClient, RedisRefreshTokenStoreOptions } from '../../rotation/redis/redis-refresh-token-store.js';
export type { RedisLocalCacheOptions } from './tracked-cache.js';
