import { describe, expect, it } from '@jest/globals';
import type { Cluster } from 'ioredis';
import request from 'supertest';
import { ADAPTERS, useTestApp } from '../support/app.js';
import { bearer } from '../support/http.js';
import { useRedisCluster } from '../support/redis-cluster.js';
import { REVOKED, ReuseRecorder, RotationRoutes, type Rotated, claims, declareStore, freshPrefix, keyTtls, refresh } from './rotation.js';

let client: Cluster;
useRedisCluster((started) => ({ client } = started));

describe.each(ADAPTERS)('RedisRefreshTokenStore with an ioredis Cluster client (3 masters), through a real app (%s)', (adapter) => {
  for (const reuseInterval of [0, 60]) {
    describe(`reuseInterval ${reuseInterval}`, () => {
      const keyPrefix = freshPrefix();
      const t = useTestApp(adapter, {
        options: { refreshTokenRotation: { reuseInterval } },
        loaders: { refreshTokenStore: declareStore('redis', () => client, { keyPrefix }), refreshTokenReuse: ReuseRecorder },
        controllers: [RotationRoutes],
      });

      it('rotation chains of many families, 50 concurrent rotations, reuse revoking a family: every script in one slot', async () => {
        const last: Rotated[] = [];
        for (let user = 0; user < 12; user++) {
          let current = await t.jwt.createRefreshToken(`user-${user}`);
          for (let i = 0; i < 5; i++) {
            const rotated = (await refresh(t.url, current).expect(200)).body as Rotated;
            current = rotated.refreshToken;
            if (i === 4) last.push(rotated);
          }
        }
        await request(t.url).get('/me').set(bearer(last[0].accessToken)).expect(200);

        const token = await t.jwt.createRefreshToken('racer');
        const responses = await Promise.all(Array.from({ length: 50 }, () => refresh(t.url, token)));
        const won = responses.filter((response) => response.status === 200);
        if (reuseInterval === 0) {
          expect(won).toHaveLength(1);
          expect(ReuseRecorder.told.filter((payload) => payload.fam === claims(token).fam)).toHaveLength(1);
          await request(t.url)
            .get('/me')
            .set(bearer((won[0].body as Rotated).accessToken))
            .expect(401, REVOKED);
        } else {
          expect(new Set(won.map((response) => (response.body as Rotated).refreshToken)).size).toBe(1);
          expect(won).toHaveLength(50);
        }

        // Logout of one family reaches its access token; the others keep working.
        await request(t.url).post('/logout').set(bearer(last[1].accessToken)).expect(200);
        await request(t.url).get('/me').set(bearer(last[1].accessToken)).expect(401, REVOKED);
        await request(t.url).get('/me').set(bearer(last[2].accessToken)).expect(200);

        const perMaster = await Promise.all(client.nodes('master').map((node) => keyTtls(node, keyPrefix)));
        expect(perMaster.filter((keys) => keys.size > 0).length).toBeGreaterThan(1);
        const all = new Map(perMaster.flatMap((keys) => [...keys]));
        expect(all.size).toBeGreaterThanOrEqual(13);
        for (const [key, ttl] of all) {
          expect([key, ttl > 0]).toEqual([key, true]);
          if (key.endsWith(':r')) {
            const sibling = key.replace(/:r$/, ':f');
            expect(await client.cluster('KEYSLOT', key)).toBe(await client.cluster('KEYSLOT', sibling));
          }
        }
      });
    });
  }
});
