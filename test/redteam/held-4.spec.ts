import { Controller, Get, Injectable, type Type, UseGuards, VersioningType, applyDecorators } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import request from 'supertest';
import { JwtGuard, JwtPublic, JwtRequired } from '../../lib/index.js';
import { ADAPTERS, SECRET, type AdapterName, type TestAppSetup, useTestApp, withTestApp } from '../support/app.js';
import { getOperationsVersusGuard } from '../support/openapi.js';
import { forgeHmac, now } from '../support/forge.js';
import { bearer } from '../support/http.js';
import { useRedis } from '../support/redis-server.js';
import { RedisBlocklist } from '../../lib/blocklist/redis/index.js';
import { freshPrefix as blocklistPrefix, nowSeconds, payload } from '../blocklist/stores.js';
import {
  ADAPTER_STORE_PAIRS,
  REVOKED,
  RotationRoutes,
  type Rotated,
  claims,
  declareStore,
  freshPrefix,
  keyTtls,
  refresh,
} from '../rotation/rotation.js';

/*
 * Fourth pass (rotation, Redis fleet features, OpenAPI): probes that were expected to find a flaw
 * and did not. Kept as regression tests; they run on both adapters (and with TEST_TOKEN_CACHE_SIZE=0).
 */

let redis: Redis;
useRedis((started) => (redis = started.redis));

async function expectDocumentMatchesGuard(adapter: AdapterName, setup: TestAppSetup) {
  const seen: Record<string, [string, unknown]> = {};
  const expected: Record<string, [string, unknown]> = {};
  for (const [path, { status, security }] of Object.entries(await getOperationsVersusGuard(adapter, setup))) {
    seen[path] = [status === 401 ? 'protected' : 'open', security];
    expect(status).not.toBe(404);
    expected[path] = status === 401 ? ['protected', [{ jwt: [] }]] : ['open', security === undefined ? undefined : []];
  }
  expect(Object.keys(seen).length).toBeGreaterThan(0);
  expect(seen).toEqual(expected);
}

const Authenticated = () => applyDecorators(JwtRequired());
@Injectable()
class AppJwtGuard extends JwtGuard {}

@JwtRequired()
class BaseController {
  @Get('inherited')
  inherited() {
    return {};
  }
  @Get('base-public')
  @JwtPublic()
  basePublic() {
    return {};
  }
}
@Controller('sub')
class SubController extends BaseController {
  @Get('own')
  own() {
    return {};
  }
}
@Controller('custom')
class CustomController {
  @Get()
  @Authenticated()
  get() {
    return {};
  }
  @Get('sub-guard')
  @UseGuards(AppJwtGuard)
  subGuard() {
    return {};
  }
  @Get(':id')
  @JwtRequired()
  byId() {
    return {};
  }
}
@Controller({ path: 'things', version: ['1', '2'] })
class ThingsController {
  @Get()
  @JwtRequired()
  list() {
    return {};
  }
  @Get('open')
  @JwtPublic()
  open() {
    return {};
  }
}
@Controller('plain')
class PlainController {
  @Get()
  get() {
    return {};
  }
  @Get('get_v1')
  @JwtPublic()
  get_v1() {
    return {};
  }
}

const CONTROLLERS: Type[] = [SubController, CustomController, ThingsController, PlainController];

describe.each(ADAPTERS)('applyJwtSecurity probes (%s)', (adapter) => {
  it('inheritance, a custom decorator, a JwtGuard subclass, a path parameter, a global prefix and URI versioning', async () => {
    await expectDocumentMatchesGuard(adapter, {
      controllers: CONTROLLERS,
      providers: [AppJwtGuard],
      beforeInit: (app) => {
        app.setGlobalPrefix('api');
        app.enableVersioning({ type: VersioningType.URI });
      },
    });
  });
});

describe.each(ADAPTER_STORE_PAIRS)('rotation probes that held (%s, %s store)', (adapter, kind) => {
  describe('reuseInterval 30', () => {
    const t = useTestApp(adapter, {
      options: { refreshTokenRotation: { reuseInterval: 30 } },
      loaders: { refreshTokenStore: declareStore(kind, () => redis) },
      controllers: [RotationRoutes],
    });

    it('a repeat gets the current token (same jti); once that one rotated, the first token is reuse and kills the whole family', async () => {
      const a = await t.jwt.createRefreshToken('alice');
      const b = (await refresh(t.url, a).expect(200)).body as Rotated;
      const again = (await refresh(t.url, a).expect(200)).body as Rotated;
      expect(claims(again.refreshToken).jti).toBe(claims(b.refreshToken).jti);
      const c = (await refresh(t.url, b.refreshToken).expect(200)).body as Rotated;
      // The reissued copy of b, within its own interval, gets c again: no branch.
      const cAgain = (await refresh(t.url, again.refreshToken).expect(200)).body as Rotated;
      expect(claims(cAgain.refreshToken).jti).toBe(claims(c.refreshToken).jti);
      await refresh(t.url, a).expect(401, REVOKED);
      await refresh(t.url, c.refreshToken).expect(401, REVOKED);
      for (const access of [b.accessToken, again.accessToken, c.accessToken, cAgain.accessToken]) {
        await request(t.url).get('/me').set(bearer(access)).expect(401, REVOKED);
      }
    });

    it('within the interval, a repeat after the family was revoked gets nothing', async () => {
      const a = await t.jwt.createRefreshToken('bob');
      const b = (await refresh(t.url, a).expect(200)).body as Rotated;
      await t.jwt.revokeRefreshFamily(claims(a).fam as string);
      expect((await refresh(t.url, a)).body).toEqual(REVOKED);
      expect((await refresh(t.url, b.refreshToken)).body).toEqual(REVOKED);
    });

    it('20 concurrent rotations of one token: all succeed with one successor jti', async () => {
      const a = await t.jwt.createRefreshToken('carol');
      const answers = await Promise.all(Array.from({ length: 20 }, () => refresh(t.url, a)));
      expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(200));
      expect(new Set(answers.map((answer) => claims((answer.body as Rotated).refreshToken).jti)).size).toBe(1);
    });
  });

  describe('reuseInterval 0', () => {
    const t = useTestApp(adapter, {
      options: { refreshTokenRotation: {}, claimsSchema: z.looseObject({ fam: z.string().optional() }) },
      loaders: { refreshTokenStore: declareStore(kind, () => redis) },
      controllers: [RotationRoutes],
    });

    it('20 concurrent rotations of one token: exactly one succeeds, and the family ends revoked', async () => {
      const a = await t.jwt.createRefreshToken('dave');
      const answers = await Promise.all(Array.from({ length: 20 }, () => refresh(t.url, a)));
      const won = answers.filter((answer) => answer.status === 200);
      expect(won).toHaveLength(1);
      expect(answers.filter((answer) => answer.status === 401)).toHaveLength(19);
      await refresh(t.url, (won[0].body as Rotated).refreshToken).expect(401, REVOKED);
    });

    it('a refresh token of the right key without fam or with a non-string fam never rotates; a live fam with a wrong jti is reuse', async () => {
      const base = { sub: 'eve', type: 'refresh', fresh: false, iat: now(), exp: now() + 600, jti: 'j-1' };
      for (const fam of [undefined, 42, { id: 'x' }, ['x']]) {
        // 401 revoked without a string fam; 422 where the app's claimsSchema refuses a non-string one
        const { status } = await refresh(t.url, forgeHmac({ alg: 'HS256', typ: 'JWT' }, { ...base, fam }, SECRET));
        expect([fam, status]).toEqual([fam, fam === undefined ? 401 : 422]);
      }
      // A family id of a live family, with the jti of its current token but signed into a token the app made otherwise.
      const live = await t.jwt.createRefreshToken('eve');
      const forged = forgeHmac({ alg: 'HS256', typ: 'JWT' }, { ...base, fam: claims(live).fam, jti: 'other' }, SECRET);
      expect((await refresh(t.url, forged)).body).toEqual(REVOKED);
      expect((await refresh(t.url, live)).body).toEqual(REVOKED); // that attempt was reuse: the family is gone
    });
  });
});

describe('hostile family ids (Redis store)', () => {
  it('revokeRefreshFamily with {}, } , :f tails, lone surrogates and a 100 kB id writes no key without a TTL', async () => {
    const prefix = freshPrefix();
    const t = { prefix };
    await withTestApp(
      'express',
      {
        options: { refreshTokenRotation: {} },
        loaders: { refreshTokenStore: declareStore('redis', () => redis, { keyPrefix: t.prefix }) },
        controllers: [RotationRoutes],
      },
      async ({ jwt }) => {
        const live = await jwt.createRefreshToken('frank');
        const fam = claims(live).fam as string;
        for (const id of ['{}', '}', '{', `${fam}}:f`, `}${fam}`, 'a\ud800', '\udc00', 'x'.repeat(100_000)]) {
          await jwt.revokeRefreshFamily(id);
        }
        const ttls = await keyTtls(redis, prefix);
        for (const [key, ttl] of ttls) expect([key, ttl > 0]).toEqual([key, true]);
        expect(ttls.size).toBe(1); // only the live family
        expect(await redis.hget(`${prefix}{${fam}}:f`, 'rev')).toBeNull();
      },
    );
  });
});

describe('RedisBlocklist localCache with maxEntries far below the working set', () => {
  it('a revocation by another store is seen for every token, though entries are evicted all the time', async () => {
    const keyPrefix = blocklistPrefix();
    const store = new RedisBlocklist(redis, { keyPrefix, localCache: { maxEntries: 3 } });
    const other = new RedisBlocklist(redis, { keyPrefix });
    try {
      const tokens = Array.from({ length: 30 }, (_, i) =>
        payload({ jti: `e-${i}`, sub: `u${i % 4}`, iat: nowSeconds() - 5, exp: nowSeconds() + 600 }),
      );
      for (let round = 0; round < 3; round++) for (const token of tokens) expect(await store.isTokenRevoked({}, token)).toBe(false);
      for (const token of tokens.filter((_, i) => i % 3 === 0)) await other.revokeToken(token);
      await other.revokeAllForUser('u1');
      // Invalidations are on their way: within a generous bound, every revoked token is refused.
      const end = Date.now() + 5000;
      for (const [i, token] of tokens.entries()) {
        const expected = i % 3 === 0 || i % 4 === 1;
        while ((await store.isTokenRevoked({}, token)) !== expected && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
        expect([i, await store.isTokenRevoked({}, token)]).toEqual([i, expected]);
      }
    } finally {
      store.onModuleDestroy();
    }
  });
});
