import { Controller, Get, HttpCode, Injectable, Post, Req, type Type } from '@nestjs/common';
import type { Redis, Cluster } from 'ioredis';
import request from 'supertest';
import {
  InMemoryRefreshTokenStore,
  Jwt,
  JwtExtendedService,
  JwtIdentity,
  JwtRequired,
  type JwtPayload,
  type RefreshTokenReuseLoader,
  type RefreshTokenStore,
} from '../../lib/index.js';
import { RedisRefreshTokenStore, type RedisRefreshTokenStoreOptions } from '../../lib/blocklist/redis/index.js';
import { ADAPTERS } from '../support/app.js';
import { bearer } from '../support/http.js';

export type StoreKind = 'memory' | 'redis';
export const ADAPTER_STORE_PAIRS = ADAPTERS.flatMap((adapter) => (['memory', 'redis'] as const).map((kind) => [adapter, kind] as const));
export const REVOKED = { msg: 'Token has been revoked' };

let prefixes = 0;
/** A Redis key prefix no other test shares. */
export const freshPrefix = () => `rt${++prefixes}:`;

/**
 * A ready store as an app declares one: an `@Injectable()` subclass calling `super()` (with the
 * ioredis client for Redis), the documented way.
 */
export function declareStore(
  kind: StoreKind,
  redis?: () => Redis | Cluster,
  options: RedisRefreshTokenStoreOptions = {},
): Type<RefreshTokenStore> {
  if (kind === 'memory') {
    @Injectable()
    class Families extends InMemoryRefreshTokenStore {}
    return Families;
  }
  const settings = { keyPrefix: freshPrefix(), ...options };
  @Injectable()
  class Families extends RedisRefreshTokenStore {
    constructor() {
      super(redis!(), settings);
    }
  }
  return Families;
}

/** Records what the `refreshTokenReuse` loader was told. */
@Injectable()
export class ReuseRecorder implements RefreshTokenReuseLoader {
  static readonly told: JwtPayload[] = [];
  onRefreshTokenReuse(payload: JwtPayload): void {
    ReuseRecorder.told.push(payload);
  }
}

/** The routes of an app that rotates: refresh (rotates), a protected route, logout of the family. */
@Controller()
export class RotationRoutes {
  constructor(private readonly jwt: JwtExtendedService) {}

  @Post('refresh')
  @HttpCode(200)
  @JwtRequired({ refresh: true })
  refresh(@Req() req: object) {
    return this.jwt.rotateRefreshToken(req);
  }

  @Get('me')
  @JwtRequired()
  me(@JwtIdentity() id: unknown, @Jwt() jwt: JwtPayload) {
    return { id, fam: jwt.fam ?? null };
  }

  @Post('logout')
  @HttpCode(200)
  @JwtRequired({ verifyType: false })
  async logout(@Jwt() jwt: JwtPayload<{ role?: string }>) {
    // Typed: `fam` is a registered claim, readable even with explicit claims (no index signature).
    await this.jwt.revokeRefreshFamily(jwt.fam!);
    return { ok: true };
  }
}

export interface Rotated {
  accessToken: string;
  refreshToken: string;
}

/** POST /refresh with this refresh token. */
export const refresh = (url: string, token: string) => request(url).post('/refresh').set(bearer(token));

/** The claims of a token (not verified: the tests read what the app issued). */
export const claims = (token: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;

/** Every key under `prefix` and its PTTL (ms; -1 = no expiry), on one node. */
export async function keyTtls(redis: Pick<Redis, 'keys' | 'pttl'>, prefix: string): Promise<Map<string, number>> {
  const keys = await redis.keys(`${prefix}*`);
  return new Map(await Promise.all(keys.map(async (key) => [key, await redis.pttl(key)] as const)));
}
