import 'reflect-metadata';
import { Inject, Injectable, Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { InMemoryRefreshTokenStore, JwtExtendedModule, JwtExtendedService, type RefreshTokenStore } from 'nestjs-jwt-extended';
import { RedisRefreshTokenStore } from 'nestjs-jwt-extended/redis';
import { startRedis } from './redis-servers.js';
import { compare, fmt, table } from './stats.js';

const SECRET = 'bench-secret-that-is-at-least-32-bytes-long';
const REDIS = Symbol('REDIS');

/** One rotation as a refresh route does it: verify the refresh token, then rotate it. Each call continues the chain. */
async function rotator(
  store: Type<RefreshTokenStore>,
  redis?: Redis,
): Promise<{ rotate: () => Promise<void>; close: () => Promise<void> }> {
  @Module({
    imports: [
      JwtExtendedModule.forRoot({
        secretKey: SECRET,
        refreshTokenRotation: {},
        loaders: { refreshTokenStore: store },
        imports: [RedisClientModule.with(redis)],
      }),
    ],
  })
  class RotationModule {}
  const ctx = await NestFactory.createApplicationContext(RotationModule, { logger: false });
  const jwt = ctx.get(JwtExtendedService);
  let current = await jwt.createRefreshToken('bench-user');
  return {
    rotate: async () => {
      const request = { method: 'POST', headers: { authorization: `Bearer ${current}` } };
      await jwt.verifyJwtInRequest(request, { refresh: true });
      current = (await jwt.rotateRefreshToken(request)).refreshToken;
    },
    close: () => ctx.close(),
  };
}

class RedisClientModule {
  static with(redis: Redis | undefined) {
    return { module: RedisClientModule, providers: [{ provide: REDIS, useValue: redis ?? null }], exports: [REDIS] };
  }
}

@Injectable()
class BenchFamilies extends RedisRefreshTokenStore {
  constructor(@Inject(REDIS) redis: Redis) {
    super(redis, { keyPrefix: 'bench:family:' });
  }
}

/**
 * Rotations per second (verify the refresh token, then `rotateRefreshToken`: two tokens signed,
 * one atomic store call) with `InMemoryRefreshTokenStore` and with `RedisRefreshTokenStore` on a
 * local redis-server, alternating round by round.
 */
export async function runRotation(rounds: number, ms: number): Promise<string> {
  // Without redis-server (not installed) only the in-memory store is measured.
  const server = await startRedis().catch(() => undefined);
  const redis = server ? new Redis(server.url) : undefined;
  const memory = await rotator(InMemoryRefreshTokenStore);
  const candidates = [{ name: 'InMemoryRefreshTokenStore', run: memory.rotate }];
  const inRedis = redis ? await rotator(BenchFamilies, redis) : undefined;
  if (inRedis) candidates.push({ name: 'RedisRefreshTokenStore (local redis-server)', run: inRedis.rotate });
  try {
    const results = await compare(candidates, { rounds, ms });
    const rows = [...results].map(([name, ops]) => [name, fmt(ops), `${fmt(1e6 / ops, 1)} µs`]);
    const note = server ? '' : '\n\n(redis-server is not installed: the Redis store was not measured)';
    return `${table(['store', 'rotations/s', 'latency'], rows)}${note}`;
  } finally {
    await memory.close();
    await inRedis?.close();
    redis?.disconnect();
    server?.stop();
  }
}
