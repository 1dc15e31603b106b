import { Injectable } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Cluster, Redis } from 'ioredis';
import request from 'supertest';
import { RedisRefreshTokenStore } from '../../lib/blocklist/redis/index.js';
import { type TestApp, createTestApp } from '../support/app.js';
import { bearer } from '../support/http.js';
import { RedisCluster } from '../support/redis-cluster.js';
import { RotationRoutes, type Rotated, claims, refresh } from '../rotation/rotation.js';

/*
 * Fourth pass: issue 16 asks of RedisBlocklist *and* RedisRefreshTokenStore that they "survive a
 * failover without accepting a revoked token". RedisBlocklist has `waitForReplicas` for it;
 * RedisRefreshTokenStore has nothing: revokeRefreshFamily (logout, or the revocation a reuse makes)
 * resolves once the master has it, and when that master dies before its replica has it, the
 * promoted replica has never heard of the revocation: the family's tokens are accepted again.
 * Here the replica is frozen and its master drops the link to it; the revocation is written, the
 * master killed, and the replica thawed: it takes over without the revocation. Either the revocation must not
 * resolve (fail closed, 503) or it must survive — with `waitForReplicas: 1`, the option added for
 * it (without it, Redis's asynchronous replication can lose an acknowledged write). One adapter: a failover costs seconds, and the
 * store, not the adapter, is under test.
 */

let cluster: RedisCluster;
let client: Cluster;
let t: TestApp;
const keyPrefix = 'ffo:';

beforeAll(async () => {
  cluster = await RedisCluster.start(3, { replicas: 1, nodeTimeout: 1000 });
  client = await cluster.client({ redisOptions: { maxRetriesPerRequest: 1 }, retryDelayOnFailover: 50, retryDelayOnClusterDown: 50 });
  @Injectable()
  class Families extends RedisRefreshTokenStore {
    constructor() {
      // What the store offers for a failover since this finding: a write resolves only once a replica has it.
      super(client, { keyPrefix, timeout: 2000, waitForReplicas: 1 });
    }
  }
  t = await createTestApp('express', {
    options: { refreshTokenRotation: {} },
    loaders: { refreshTokenStore: Families },
    controllers: [RotationRoutes],
  });
}, 60_000);
afterAll(async () => {
  await t?.close();
  client?.disconnect();
  await cluster?.stop();
});

describe('RedisRefreshTokenStore on a Redis Cluster with replicas, through a failover', () => {
  it('a family revocation that resolved is never undone by the failover (or it does not resolve)', async () => {
    const login = await t.jwt.createRefreshToken('alice');
    const fam = claims(login).fam as string;
    const { body } = await refresh(t.url, login).expect(200);
    const { accessToken } = body as Rotated;
    await request(t.url).get('/me').set(bearer(accessToken)).expect(200);

    const master = await cluster.masterOf(`${keyPrefix}{${fam}}:f`);
    const direct = new Redis(master, '127.0.0.1');
    const replicaPort = Number(/slave0:ip=[^,]+,port=(\d+)/.exec(await direct.info('replication'))![1]);
    // The replica is frozen, and its master drops the link to it: the revocation below is never sent to it.
    cluster.pause(replicaPort);
    await direct.client('KILL', 'TYPE', 'replica');
    direct.disconnect();
    const resolved = await t.jwt.revokeRefreshFamily(fam).then(
      () => true,
      () => false,
    );
    await cluster.kill(master);
    cluster.resume(replicaPort);

    // Through the failover: 401 or 503 only, until the promoted replica answers.
    const end = Date.now() + 30_000;
    let status = 503;
    while (status === 503) {
      ({ status } = await request(t.url).get('/me').set(bearer(accessToken)));
      if (Date.now() > end) throw new Error('the cluster never answered again');
      if (status === 503) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await cluster.waitForOk();
    ({ status } = await request(t.url).get('/me').set(bearer(accessToken)));
    expect({ resolved, status }).toEqual(resolved ? { resolved, status: 401 } : { resolved, status });
  }, 60_000);
});
