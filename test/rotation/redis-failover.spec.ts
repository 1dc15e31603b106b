import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Cluster } from 'ioredis';
import request from 'supertest';
import { createTestApp, type AdapterName, type TestApp } from '../support/app.js';
import { bearer } from '../support/http.js';
import { RedisCluster } from '../support/redis-cluster.js';
import { REVOKED, RotationRoutes, type Rotated, claims, declareStore, refresh } from './rotation.js';

// Both adapters share one 3-master, 3-replica cluster; each takes down (and brings back) a master of its own.
const ADAPTER_ORDER: AdapterName[] = ['fastify', 'express'];
const UNAVAILABLE = { msg: 'Refresh token store unavailable' };
const keyPrefix = 'rotfail:';

let cluster: RedisCluster;
let client: Cluster;
const apps = new Map<AdapterName, TestApp>();

beforeAll(async () => {
  cluster = await RedisCluster.start(3, { replicas: 1, nodeTimeout: 1000 });
  client = await cluster.client({ redisOptions: { maxRetriesPerRequest: 1 }, retryDelayOnFailover: 50, retryDelayOnClusterDown: 50 });
  for (const adapter of ADAPTER_ORDER) {
    const Store = declareStore('redis', () => client, { keyPrefix, waitForReplicas: 1, timeout: 2000 });
    apps.set(
      adapter,
      await createTestApp(adapter, {
        options: { refreshTokenRotation: { reuseInterval: 0 } },
        loaders: { refreshTokenStore: Store },
        controllers: [RotationRoutes],
      }),
    );
  }
}, 60_000);
afterAll(async () => {
  for (const app of apps.values()) await app.close();
  client?.disconnect();
  await cluster?.stop();
});

/** The master holding a family's keys (both share the `{fam}` hash tag). */
const masterOf = (token: string) => cluster.masterOf(`${keyPrefix}{${claims(token).fam as string}}:f`);

/** INFO replication of the master on `port`. */
const replication = (port: number) =>
  client
    .nodes('master')
    .find((node) => node.options.port === port)!
    .info('replication');

/** The port of the replica of the master on `port`. */
const replicaOf = async (port: number) => Number(/slave0:ip=[^,]+,port=(\d+)/.exec(await replication(port))![1]);

/** A new family (its first refresh token) whose keys live on the master `port`. */
async function familyOn(t: TestApp, port: number, user: string): Promise<string> {
  for (let attempt = 0; attempt < 60; attempt++) {
    const token = await t.jwt.createRefreshToken(user);
    if ((await masterOf(token)) === port) return token;
  }
  throw new Error(`no family landed on ${port}`);
}

describe.each(ADAPTER_ORDER)('RedisRefreshTokenStore on a Redis Cluster with replicas, waitForReplicas: 1 (%s)', (adapter) => {
  it('a start, rotation or logout its replica does not acknowledge fails with 503, not as done', async () => {
    const t = apps.get(adapter)!;
    const token = await t.jwt.createRefreshToken(`${adapter}-unreplicated`);
    const master = await masterOf(token);
    const rotated = (await refresh(t.url, token).expect(200)).body as Rotated;
    const replica = await replicaOf(master);
    cluster.pause(replica);
    try {
      await refresh(t.url, rotated.refreshToken).expect(503, UNAVAILABLE);
      await request(t.url).post('/logout').set(bearer(rotated.accessToken)).expect(503, UNAVAILABLE);
      // a new family on that master: creating its first token rejects with the same 503
      let started: unknown;
      for (let attempt = 0; attempt < 60 && started === undefined; attempt++) {
        const error = await t.jwt.createRefreshToken(`${adapter}-unreplicated`).then(
          () => undefined,
          (e: unknown) => e,
        );
        if (error) started = error;
      }
      expect((started as { getStatus(): number }).getStatus()).toBe(503);
    } finally {
      cluster.resume(replica);
    }
    // the writes reached the master: the logout took effect there, only it was not known to be replicated
    await request(t.url).get('/me').set(bearer(rotated.accessToken)).expect(401, REVOKED);
  });

  it('killing the master of the families mid-traffic: fail closed (401/503), never a revoked family accepted or a second branch', async () => {
    const t = apps.get(adapter)!;
    // a master with its replica online (each test restarts the master it killed, as a replica)
    let target = 0;
    for (const port of await cluster.masters()) if ((await replication(port)).includes('connected_slaves:1')) target = port;

    const user = `${adapter}-failover`;
    // revoked: rotated once, then logged out
    const revoked = (await refresh(t.url, await familyOn(t, target, user)).expect(200)).body as Rotated;
    await request(t.url).post('/logout').set(bearer(revoked.accessToken)).expect(200);
    // consumed: its first token was rotated (acknowledged by a replica)
    const consumedFirst = await familyOn(t, target, user);
    const consumed = (await refresh(t.url, consumedFirst).expect(200)).body as Rotated;
    // live: rotated once before the failover, and again once the cluster has re-formed
    const liveFirst = await familyOn(t, target, user);
    const live = (await refresh(t.url, liveFirst).expect(200)).body as Rotated;
    // racing: rotations of one token in flight while its master dies
    const racing = await familyOn(t, target, user);

    const inFlight = Promise.all(Array.from({ length: 10 }, () => refresh(t.url, racing)));
    await cluster.kill(target);
    const raced = await inFlight;
    for (const { status } of raced) expect([200, 401, 503]).toContain(status);
    // never two successors of one token (reuseInterval 0)
    expect(raced.filter(({ status }) => status === 200).length).toBeLessThanOrEqual(1);

    // Through the failover: the revoked family is refused (401) or the check fails closed (503),
    // until the promoted replica answers the guard's check of the live family.
    const seen = new Set<number>();
    const end = Date.now() + 30_000;
    for (;;) {
      const revokedCheck = await request(t.url).get('/me').set(bearer(revoked.accessToken));
      const revokedRotation = await refresh(t.url, revoked.refreshToken);
      for (const { status } of [revokedCheck, revokedRotation]) {
        seen.add(status);
        expect([401, 503]).toContain(status);
      }
      if ((await request(t.url).get('/me').set(bearer(live.accessToken))).status === 200) break;
      if (Date.now() > end) throw new Error(`the cluster never answered again (statuses seen: ${[...seen].join(', ')})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await cluster.waitForOk();

    // The promoted replica has every acknowledged write: the revocation, and the consumed token,
    // whose replay is reuse (the promoted master has no replica yet, so the write answers 503, but it
    // is on the master: the family is revoked).
    await request(t.url).get('/me').set(bearer(revoked.accessToken)).expect(401, REVOKED);
    await request(t.url).get('/me').set(bearer(consumed.accessToken)).expect(200);
    expect([401, 503]).toContain((await refresh(t.url, consumedFirst)).status);
    await request(t.url).get('/me').set(bearer(consumed.accessToken)).expect(401, REVOKED);

    // Re-formed (the old master back as a replica of the promoted one): writes are acknowledged again.
    await cluster.restart(target);
    const next = (await refresh(t.url, live.refreshToken).expect(200)).body as Rotated;
    await request(t.url).get('/me').set(bearer(next.accessToken)).expect(200);
    // the token consumed before the failover is still consumed: reuse revokes the family, never a branch
    await refresh(t.url, liveFirst).expect(401, REVOKED);
    await request(t.url).get('/me').set(bearer(next.accessToken)).expect(401, REVOKED);
    // a new family on the re-formed slots works from login to logout
    const fresh = (await refresh(t.url, await familyOn(t, await masterOf(liveFirst), user)).expect(200)).body as Rotated;
    await request(t.url).post('/logout').set(bearer(fresh.accessToken)).expect(200);
    await request(t.url).get('/me').set(bearer(fresh.accessToken)).expect(401, REVOKED);
  }, 45_000);
});
