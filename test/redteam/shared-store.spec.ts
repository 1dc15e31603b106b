import { Controller, Delete, Get, Inject, Module, type Type } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import request from 'supertest';
import { JwtExtendedModule, JwtExtendedService, JwtIdentity, JwtPublic, JwtRequired, type RevocationStore } from '../../lib/index.js';
import { ADAPTERS, SECRET, TOKEN_CACHE, createTestApp, type TestApp } from '../support/app.js';
import { useRedis } from '../support/redis-server.js';
import { STORE_KINDS, bearer, declareStore, freshPrefix, ADAPTER_STORE_PAIRS } from '../blocklist/stores.js';

/*
 * Finding (high): one ready store instance used by two JwtExtendedModules. Since forRoot({ imports })
 * reuses a loader that an imported module exports, the app's module and a feature module can (and,
 * to share revocations, should) both take the blocklist from one StoreModule. Each module then hands
 * the same instance its configuration (configureStore → StoreSettings.apply), and the last one wins:
 * the store reads the identity from the other module's identityClaim (and uses its leeway and
 * retention). The module whose configuration lost never finds its users' cut-offs:
 * revokeAllForUser is silently a no-op there and the revoked token keeps working.
 * §17 "Stores read the module's configuration" (each module's), §7 "A revoked token stays refused
 * for as long as the decoder would accept it".
 * Fixed: modules that share a store must agree on the identity claim (start-up refuses otherwise);
 * the store keeps entries for the longest leeway among them.
 */

const FEATURE_SECRET = 'feature-secret-that-is-32-bytes-long!';

let redis: Redis;
useRedis((started) => ({ redis } = started));

/** Routes under `prefix` that read the identity and revoke every token of it through `Store`. */
function routes(prefix: string, Store: Type<RevocationStore>): Type {
  @Controller(prefix)
  class Routes {
    constructor(
      @Inject(Store) private readonly store: RevocationStore,
      private readonly jwt: JwtExtendedService,
    ) {}

    @Get('login')
    @JwtPublic()
    login() {
      return this.jwt.createAccessToken(`${prefix}-user`);
    }

    @Get('me')
    @JwtRequired()
    me(@JwtIdentity() identity: unknown) {
      return { identity };
    }

    @Delete('logout-everywhere')
    @JwtRequired()
    async logoutEverywhere(@JwtIdentity() identity: unknown) {
      await this.store.revokeAllForUser(identity);
      return { ok: true };
    }
  }
  return Routes;
}

/** The app's module and a feature module's, both taking the blocklist from one StoreModule. */
async function bootSharing(adapter: (typeof ADAPTERS)[number], kind: (typeof STORE_KINDS)[number], featureClaim: string): Promise<TestApp> {
  const Store = declareStore(kind, { keyPrefix: freshPrefix() }, redis);
  @Module({ providers: [Store], exports: [Store] })
  class StoreModule {}

  @Module({
    imports: [
      JwtExtendedModule.forRoot({
        secretKey: FEATURE_SECRET,
        identityClaim: featureClaim,
        decodeLeeway: 30,
        isGlobal: false,
        imports: [StoreModule],
        loaders: { blocklist: Store },
        ...TOKEN_CACHE,
      }),
      StoreModule,
    ],
    controllers: [routes('feature', Store)],
  })
  class FeatureModule {}

  return createTestApp(adapter, {
    imports: [FeatureModule, StoreModule],
    module: JwtExtendedModule.forRoot({ secretKey: SECRET, imports: [StoreModule], loaders: { blocklist: Store }, ...TOKEN_CACHE }),
    controllers: [routes('app', Store)],
  });
}

describe.each(ADAPTER_STORE_PAIRS)('one store shared by two JwtExtendedModules (%s, %s store)', (adapter, kind) => {
  it('with different identity claims, start-up is refused naming identityClaim', async () => {
    await expect(bootSharing(adapter, kind, 'uid')).rejects.toThrow(/option "identityClaim" .* is shared with another JwtExtendedModule/);
  });

  describe('with one identity claim', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await bootSharing(adapter, kind, 'sub');
    });
    afterAll(() => t.close());

    it.each(['app', 'feature'])('revokeAllForUser through the %s module refuses that user’s token afterwards', async (prefix) => {
      const token = (await request(t.url).get(`/${prefix}/login`).expect(200)).text;
      await request(t.url)
        .get(`/${prefix}/me`)
        .set(bearer(token))
        .expect(200, { identity: `${prefix}-user` });
      await request(t.url).delete(`/${prefix}/logout-everywhere`).set(bearer(token)).expect(200);
      const res = await request(t.url).get(`/${prefix}/me`).set(bearer(token));
      expect({ status: res.status, body: res.body }).toEqual({ status: 401, body: { msg: 'Token has been revoked' } });
    });
  });
});
