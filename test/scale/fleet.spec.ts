import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import request from 'supertest';
import { SECRET } from '../support/app.js';
import { RedisCluster } from '../support/redis-cluster.js';
import { RedisServer } from '../support/redis-server.js';
import type { FleetInstanceConfig } from './fleet-config.js';
import { type Fleet, startFleet } from './fleet.js';

// Three app processes per fleet, both adapters among them, sharing one Redis or one Redis Cluster.
const INSTANCES = ['fastify', 'express', 'fastify'] as const;

let server: RedisServer;
let cluster: RedisCluster;
/** A client of the single Redis and one of each Cluster node, to read their statistics. */
let redis: Redis;
let clusterNodes: Redis[];
beforeAll(async () => {
  [server, cluster] = await Promise.all([RedisServer.start(), RedisCluster.start(3)]);
  redis = new Redis(server.url);
  clusterNodes = cluster.nodes.map(({ host, port }) => new Redis(port, host));
}, 60_000);
afterAll(async () => {
  for (const client of [redis, ...(clusterNodes ?? [])]) client?.disconnect();
  await server?.stop();
  await cluster?.stop();
});

/** MGET calls the Redis (or all nodes of the Cluster) of a fleet ran so far (INFO commandstats). */
const mgets = async (clients: Redis[]) => {
  const counts = await Promise.all(
    clients.map(async (client) => Number(/cmdstat_mget:calls=(\d+)/.exec(await client.info('commandstats'))?.[1] ?? 0)),
  );
  return counts.reduce((sum, count) => sum + count, 0);
};

type Setup = [name: string, statsFrom: (() => Redis[]) | undefined, config: () => Omit<FleetInstanceConfig, 'name' | 'adapter' | 'secret'>];
const setups: Setup[] = [
  ['one Redis, no local cache', undefined, () => ({ redis: { url: server.url }, keyPrefix: 'plain:' })],
  ['one Redis, local cache', () => [redis], () => ({ redis: { url: server.url }, keyPrefix: 'cached:', localCache: 10_000 })],
  ['a 3-master Redis Cluster', undefined, () => ({ redis: { cluster: cluster.nodes }, keyPrefix: 'cluster:' })],
  [
    'a 3-master Redis Cluster, local cache',
    () => clusterNodes,
    () => ({ redis: { cluster: cluster.nodes }, keyPrefix: 'cluster-cached:', localCache: 10_000 }),
  ],
];

/** Polls until the instance refuses the token; a generous bound, not a timing assertion (bench measures the window). */
async function untilRefused(url: string, token: string): Promise<void> {
  const end = Date.now() + 10_000;
  for (;;) {
    const { status, body } = await request(url).get('/me').set('Authorization', `Bearer ${token}`);
    if (status === 401) return void expect(body).toEqual({ msg: 'Token has been revoked' });
    expect(status).toBe(200);
    if (Date.now() > end) throw new Error(`${url} still accepts the revoked token`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe.each(setups)('a fleet of %s', (_name, statsFrom, setup) => {
  let fleet: Fleet;
  beforeAll(async () => {
    const shared = setup();
    fleet = await startFleet(INSTANCES.map((adapter, i) => ({ ...shared, name: `i${i}`, adapter, secret: SECRET })));
  }, 60_000);
  afterAll(() => fleet?.stop());

  const login = async (url: string, user: string): Promise<string> => (await request(url).post(`/login/${user}`).expect(200)).body.access;
  const me = (url: string, token: string) => request(url).get('/me').set('Authorization', `Bearer ${token}`);
  /** The instance at `url` accepts the token of `user` (and is the process it claims to be). */
  const accepted = async (url: string, token: string, user: string) =>
    expect((await me(url, token).expect(200)).body).toEqual({ identity: user, instance: `i${fleet.urls.indexOf(url)}` });

  it('a logout on any instance is refused on every other one', async () => {
    for (const [i, revoker] of fleet.urls.entries()) {
      const user = `logout-${i}`;
      const token = await login(fleet.urls[(i + 1) % fleet.urls.length], user);
      const kept = await login(revoker, user);
      // every instance has seen the token (and a cached instance holds it in memory)
      for (const url of fleet.urls) for (let n = 0; n < 3; n++) await accepted(url, token, user);
      await request(revoker).delete('/logout').set('Authorization', `Bearer ${token}`).expect(200);
      for (const url of fleet.urls) await untilRefused(url, token);
      for (const url of fleet.urls) await accepted(url, kept, user);
    }
  });

  it('a logout everywhere on one instance refuses all earlier tokens of the user on every instance', async () => {
    const user = 'everywhere';
    const tokens = await Promise.all(fleet.urls.map((url) => login(url, user)));
    for (const url of fleet.urls) for (const token of tokens) await accepted(url, token, user);
    await request(fleet.urls[1]).delete('/logout-everywhere').set('Authorization', `Bearer ${tokens[0]}`).expect(200);
    for (const url of fleet.urls) for (const token of tokens) await untilRefused(url, token);
    // a token issued after the cut-off passes everywhere
    const fresh = await login(fleet.urls[2], user);
    for (const url of fleet.urls) await accepted(url, fresh, user);
  });

  if (statsFrom) {
    it('every instance answers a token it has seen from memory, without asking Redis', async () => {
      const token = await login(fleet.urls[0], 'from-memory');
      const end = Date.now() + 10_000;
      for (const url of fleet.urls) {
        // tracking is set up in the background after start-up: once it is, a seen token costs no MGET
        for (;;) {
          await accepted(url, token, 'from-memory');
          const before = await mgets(statsFrom());
          for (let n = 0; n < 5; n++) await accepted(url, token, 'from-memory');
          if ((await mgets(statsFrom())) === before) break;
          if (Date.now() > end) throw new Error(`${url} never answered from memory`);
        }
      }
    });
  }
});
