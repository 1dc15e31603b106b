import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { SECRET } from '../support/app.js';
import { bearer } from '../support/http.js';
import { RedisCluster } from '../support/redis-cluster.js';
import { RedisServer } from '../support/redis-server.js';
import type { FleetInstanceConfig } from './fleet-config.js';
import { type Fleet, startFleet } from './fleet.js';

// Refresh-token rotation across a fleet (CONTRACT §12): three app processes, both adapters among
// them, sharing one Redis or one 3-master Redis Cluster, each with its own RedisRefreshTokenStore.
const INSTANCES = ['fastify', 'express', 'fastify'] as const;
const REVOKED = { msg: 'Token has been revoked' };
const RACERS = 50;

interface Pair {
  access: string;
  refresh: string;
}
interface Rotated {
  accessToken: string;
  refreshToken: string;
}

const jti = (token: string) => (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { jti: string }).jti;

let server: RedisServer;
let cluster: RedisCluster;
const fleets = new Map<string, Fleet>();
const setups = [
  ['one Redis', 0],
  ['one Redis', 30],
  ['a 3-master Redis Cluster', 0],
  ['a 3-master Redis Cluster', 30],
] as const;
const fleetName = (where: string, reuseInterval: number) => `${where}, reuseInterval ${reuseInterval}`;

beforeAll(async () => {
  [server, cluster] = await Promise.all([RedisServer.start(), RedisCluster.start(3)]);
  // The four fleets start side by side: process start-up dominates this spec's time.
  await Promise.all(
    setups.map(async ([where, reuseInterval], n) => {
      const shared: Omit<FleetInstanceConfig, 'name' | 'adapter'> = {
        redis: where === 'one Redis' ? { url: server.url } : { cluster: cluster.nodes },
        keyPrefix: `rot${n}:`,
        secret: SECRET,
        rotation: { reuseInterval },
      };
      fleets.set(fleetName(where, reuseInterval), await startFleet(INSTANCES.map((adapter, i) => ({ ...shared, name: `i${i}`, adapter }))));
    }),
  );
}, 60_000);
afterAll(async () => {
  await Promise.all([...fleets.values()].map((fleet) => fleet.stop()));
  await server?.stop();
  await cluster?.stop();
});

describe.each(setups)('rotation across a fleet of 3 instances on %s, reuseInterval %d', (where, reuseInterval) => {
  const fleet = () => fleets.get(fleetName(where, reuseInterval))!;
  const login = async (url: string, user: string): Promise<Pair> => (await request(url).post(`/login/${user}`).expect(200)).body as Pair;
  const refresh = (url: string, token: string) => request(url).post('/refresh').set(bearer(token));
  const me = (url: string, token: string) => request(url).get('/me').set(bearer(token));

  it(`${RACERS} concurrent rotations of one refresh token spread over the instances never branch the family`, async () => {
    const { urls } = fleet();
    const { refresh: token } = await login(urls[0], `racer-${reuseInterval}`);
    const responses = await Promise.all(Array.from({ length: RACERS }, (_, i) => refresh(urls[i % urls.length], token)));
    const won = responses.filter((response) => response.status === 200).map((response) => response.body as Rotated);
    if (reuseInterval === 0) {
      // One consumes the token; every other is reuse, which revokes the family, the winner's tokens included.
      expect(won).toHaveLength(1);
      for (const response of responses.filter((r) => r.status !== 200)) expect([response.status, response.body]).toEqual([401, REVOKED]);
      for (const url of urls) {
        await me(url, won[0].accessToken).expect(401, REVOKED);
        await refresh(url, won[0].refreshToken).expect(401, REVOKED);
        await refresh(url, token).expect(401, REVOKED);
      }
    } else {
      // Within the interval every repeat gets the family's one current refresh token: no second branch.
      expect(won).toHaveLength(RACERS);
      const successors = new Set(won.map((rotated) => rotated.refreshToken));
      expect(successors.size).toBe(1);
      expect(jti(won[0].refreshToken)).not.toBe(jti(token));
      for (const [i, url] of urls.entries()) await me(url, won[i].accessToken).expect(200);
      // The chain goes on from that successor on another instance, and only from it.
      const next = (await refresh(urls[1], won[0].refreshToken).expect(200)).body as Rotated;
      for (const url of urls) await me(url, next.accessToken).expect(200);
    }
  });

  it('a logout (revokeRefreshFamily) on one instance is refused on every other one', async () => {
    const { urls } = fleet();
    for (const [i, revoker] of urls.entries()) {
      const user = `family-logout-${i}`;
      const first = await login(urls[(i + 1) % urls.length], user);
      const rotated = (await refresh(urls[(i + 2) % urls.length], first.refresh).expect(200)).body as Rotated;
      const other = (await refresh(revoker, (await login(revoker, user)).refresh).expect(200)).body as Rotated;
      for (const url of urls) await me(url, rotated.accessToken).expect(200);
      await request(revoker).delete('/logout-family').set(bearer(rotated.accessToken)).expect(200);
      // The family is read from Redis on every check: no window to wait for.
      for (const url of urls) {
        await me(url, rotated.accessToken).expect(401, REVOKED);
        await refresh(url, rotated.refreshToken).expect(401, REVOKED);
        // another family of the same user is untouched
        await me(url, other.accessToken).expect(200);
      }
    }
    const last = await login(urls[0], 'family-logout-after');
    await refresh(urls[2], last.refresh).expect(200);
  });
});
