import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Cluster } from 'ioredis';
import request from 'supertest';
import { createTestApp, type AdapterName, type TestApp } from '../support/app.js';
import { RedisCluster } from '../support/redis-cluster.js';
import { bearer, declareStore, revocationRoutes } from './stores.js';

// Both adapters share one cluster: a failover costs seconds, so each adapter takes down a different master.
const ADAPTER_ORDER: AdapterName[] = ['fastify', 'express'];

let cluster: RedisCluster;
let client: Cluster;
const apps = new Map<AdapterName, TestApp>();
const keyPrefix = 'failover:';

beforeAll(async () => {
  cluster = await RedisCluster.start(3, { replicas: 1, nodeTimeout: 1000 });
  client = await cluster.client({ redisOptions: { maxRetriesPerRequest: 1 }, retryDelayOnFailover: 50, retryDelayOnClusterDown: 50 });
  for (const adapter of ADAPTER_ORDER) {
    const Store = declareStore('redis', { keyPrefix, waitForReplicas: 1, timeout: 2000 }, client);
    apps.set(adapter, await createTestApp(adapter, { loaders: { blocklist: Store }, controllers: [revocationRoutes(Store)] }));
  }
}, 60_000);
afterAll(async () => {
  for (const app of apps.values()) await app.close();
  client?.disconnect();
  await cluster?.stop();
});

/** The master holding an identity's keys (they share one hash tag). */
const masterOf = (identity: string) => cluster.masterOf(`${keyPrefix}{${JSON.stringify(identity)}}:user`);

describe.each(ADAPTER_ORDER)('RedisBlocklist on a Redis Cluster with replicas, waitForReplicas: 1 (%s)', (adapter) => {
  it('a revocation its replica does not acknowledge is reported as failed (503), not as done', async () => {
    const t = apps.get(adapter)!;
    const user = `${adapter}-unreplicated`;
    const token = await t.jwt.createAccessToken(user);
    const master = await masterOf(user);
    const replicaInfo = await client
      .nodes('master')
      .find((node) => node.options.port === master)!
      .info('replication');
    const replica = Number(/slave0:ip=[^,]+,port=(\d+)/.exec(replicaInfo)![1]);
    cluster.pause(replica);
    try {
      await request(t.url).delete('/logout').set(bearer(token)).expect(503, { msg: 'Token revocation store unavailable' });
    } finally {
      cluster.resume(replica);
    }
  });

  it('a revoked token is never accepted while its master fails and its replica takes over', async () => {
    const t = apps.get(adapter)!;
    const user = `${adapter}-failover`;
    const revoked = await t.jwt.createAccessToken(user);
    const kept = await t.jwt.createAccessToken(user);
    await request(t.url).get('/me').set(bearer(revoked)).expect(200);
    await request(t.url).delete('/logout').set(bearer(revoked)).expect(200);
    await cluster.kill(await masterOf(user));

    // Poll through the failover: the revoked token is refused (401) or the check fails closed (503),
    // until the promoted replica answers and the other token passes again.
    const seen = new Set<number>();
    const end = Date.now() + 30_000;
    for (;;) {
      const { status } = await request(t.url).get('/me').set(bearer(revoked));
      seen.add(status);
      expect([401, 503]).toContain(status);
      if ((await request(t.url).get('/me').set(bearer(kept))).status === 200) break;
      if (Date.now() > end) throw new Error(`the cluster never answered again (statuses seen: ${[...seen].join(', ')})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await cluster.waitForOk();
    await request(t.url).get('/me').set(bearer(revoked)).expect(401, { msg: 'Token has been revoked' });
    await request(t.url).get('/me').set(bearer(kept)).expect(200, { identity: user });
  }, 40_000);
});
