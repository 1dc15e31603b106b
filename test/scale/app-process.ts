/**
 * One instance of a fleet: a real Nest app in its own process, on a loopback port, with a
 * `RedisBlocklist` on the Redis (or Redis Cluster) the whole fleet shares, and with `rotation` a
 * `RedisRefreshTokenStore` there too. Run by `fleet.ts`
 * (`node --import ./test/scale/register-ts.mjs test/scale/app-process.ts`), configured by
 * environment variables (see `FleetInstanceConfig`), it prints `READY <port>` once it listens.
 */
import 'reflect-metadata';
import { Controller, Delete, Get, HttpCode, Inject, Injectable, Module, Param, Post, Req } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Cluster, Redis } from 'ioredis';
import { Jwt, JwtExtendedModule, JwtExtendedService, JwtIdentity, JwtRequired, type JwtPayload } from '../../lib/index.js';
import { RedisBlocklist, RedisRefreshTokenStore } from '../../lib/blocklist/redis/index.js';
import { type FleetInstanceConfig, readFleetConfig } from './fleet-config.js';

const config: FleetInstanceConfig = readFleetConfig(process.env);

const redis =
  'cluster' in config.redis
    ? new Cluster(config.redis.cluster, { redisOptions: { maxRetriesPerRequest: 1 } })
    : new Redis(config.redis.url, { maxRetriesPerRequest: 1 });

@Injectable()
class Revocations extends RedisBlocklist {
  constructor() {
    super(redis, { keyPrefix: config.keyPrefix, ...(config.localCache ? { localCache: { maxEntries: config.localCache } } : {}) });
  }
}

@Injectable()
class Families extends RedisRefreshTokenStore {
  constructor() {
    super(redis, { keyPrefix: `${config.keyPrefix}family:` });
  }
}

@Controller()
class FleetRoutes {
  constructor(
    private readonly jwt: JwtExtendedService,
    @Inject(Revocations) private readonly revocations: Revocations,
  ) {}

  @Post('login/:user')
  @HttpCode(200)
  async login(@Param('user') user: string) {
    return { access: await this.jwt.createAccessToken(user), refresh: await this.jwt.createRefreshToken(user) };
  }

  /** With `rotation`: consumes the refresh token, answers the new pair. */
  @Post('refresh')
  @HttpCode(200)
  @JwtRequired({ refresh: true })
  refresh(@Req() req: object) {
    return this.jwt.rotateRefreshToken(req);
  }

  /** With `rotation`: logout of the token's family (access or refresh token). */
  @Delete('logout-family')
  @JwtRequired({ verifyType: false })
  async logoutFamily(@Jwt() jwt: JwtPayload) {
    await this.jwt.revokeRefreshFamily(jwt.fam!);
    return { ok: true };
  }

  @Get('me')
  @JwtRequired()
  me(@JwtIdentity() identity: unknown) {
    return { identity, instance: config.name };
  }

  @Delete('logout')
  @JwtRequired()
  async logout(@Jwt() jwt: JwtPayload) {
    await this.revocations.revokeToken(jwt);
    return { ok: true };
  }

  @Delete('logout-everywhere')
  @JwtRequired()
  async logoutEverywhere(@JwtIdentity() identity: unknown) {
    await this.revocations.revokeAllForUser(identity);
    return { ok: true };
  }
}

@Module({
  imports: [
    JwtExtendedModule.forRoot({
      secretKey: config.secret,
      ...(config.rotation
        ? { refreshTokenRotation: config.rotation, loaders: { blocklist: Revocations, refreshTokenStore: Families } }
        : { loaders: { blocklist: Revocations } }),
    }),
  ],
  controllers: [FleetRoutes],
})
class FleetInstanceModule {}

const app = await NestFactory.create(FleetInstanceModule, config.adapter === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(), {
  logger: ['error'],
});
await app.listen(0, '127.0.0.1');
console.log(`READY ${(app.getHttpServer().address() as { port: number }).port}`);
process.on('SIGTERM', () => {
  void app.close().then(() => {
    redis.disconnect();
    process.exit(0);
  });
});
