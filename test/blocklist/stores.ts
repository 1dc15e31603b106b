import { Controller, Delete, Get, HttpCode, Inject, Injectable, Post, type Type } from '@nestjs/common';
import { jest } from '@jest/globals';
import {
  InMemoryBlocklist,
  type InMemoryBlocklistOptions,
  Jwt,
  JwtIdentity,
  JwtRequired,
  type JwtPayload,
  type RevocationStore,
} from '../../lib/index.js';
import { RedisBlocklist, type RedisBlocklistClient, type RedisBlocklistOptions } from '../../lib/blocklist/redis/index.js';
import { ADAPTERS } from '../support/app.js';
import { ALL_BUT_DATE } from '../support/clock.js';

/** The two ready stores; the Redis one talks to a real redis-server (or Cluster). */
export type StoreKind = 'memory' | 'redis';
export const STORE_KINDS: StoreKind[] = ['memory', 'redis'];

/** Every adapter with every store, for `describe.each(...)('… (%s, %s store)')`. */
export const ADAPTER_STORE_PAIRS = ADAPTERS.flatMap((adapter) => STORE_KINDS.map((kind) => [adapter, kind] as const));

export const DAY = 86_400;
export const nowSeconds = () => Math.floor(Date.now() / 1000);
export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
/** A decoded payload as the guard hands it to a store. */
export const payload = (claims: Partial<JwtPayload>): JwtPayload => ({ type: 'access', fresh: false, jti: null, ...claims }) as JwtPayload;

let prefixes = 0;
/** A Redis key prefix no other test shares. */
export const freshPrefix = () => `t${++prefixes}:`;

export type StoreOptions = InMemoryBlocklistOptions & RedisBlocklistOptions;

/** A ready store built directly (outside any module). */
export function newStore(kind: StoreKind, options: StoreOptions = {}, redis?: RedisBlocklistClient): InMemoryBlocklist | RedisBlocklist {
  if (kind === 'memory') return new InMemoryBlocklist(options);
  return new RedisBlocklist(redis!, { keyPrefix: freshPrefix(), ...options });
}

/**
 * A ready store as an app declares one: an `@Injectable()` subclass whose constructor
 * calls `super()` with its options (and, for Redis, the client), the documented way.
 */
export function declareStore(
  kind: StoreKind,
  options: StoreOptions = {},
  redis?: RedisBlocklistClient,
): Type<InMemoryBlocklist | RedisBlocklist> {
  if (kind === 'memory') {
    @Injectable()
    class Revocations extends InMemoryBlocklist {
      constructor() {
        super(options);
      }
    }
    return Revocations;
  }
  const settings = { keyPrefix: freshPrefix(), ...options };
  @Injectable()
  class Revocations extends RedisBlocklist {
    constructor() {
      super(redis!, settings);
    }
  }
  return Revocations;
}

/** How many times a protected handler ran (a refused request must not run one). */
export const handlerRuns = { count: 0 };

/** Routes that check tokens and revoke them through the given store. */
export function revocationRoutes(Store: Type<RevocationStore>): Type {
  @Controller()
  class RevocationRoutes {
    constructor(@Inject(Store) private readonly store: RevocationStore) {}

    @Get('me')
    @JwtRequired()
    me(@JwtIdentity() identity: unknown) {
      handlerRuns.count++;
      return { identity };
    }

    @Post('refresh')
    @HttpCode(200)
    @JwtRequired({ refresh: true })
    refresh(@JwtIdentity() identity: unknown) {
      handlerRuns.count++;
      return { identity };
    }

    @Delete('logout')
    @JwtRequired({ verifyType: false })
    async logout(@Jwt() jwt: JwtPayload) {
      await this.store.revokeToken(jwt);
      return { ok: true };
    }

    @Delete('logout-everywhere')
    @JwtRequired({ verifyType: false })
    async logoutEverywhere(@JwtIdentity() identity: unknown) {
      await this.store.revokeAllForUser(identity);
      return { ok: true };
    }
  }
  return RevocationRoutes;
}

/**
 * Sets the wall clock (`Date`) to `seconds` and lets it run on from there; timers stay
 * real, so apps and Redis clients keep working. The store, the decoder and the token
 * signer all read this clock. `jest.useRealTimers()` puts it back.
 */
export function setWallClock(seconds: number): void {
  jest.useFakeTimers({ now: seconds * 1000, advanceTimers: true, doNotFake: [...ALL_BUT_DATE] });
}
