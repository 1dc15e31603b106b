import type { Type } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Cluster } from 'ioredis';
import request from 'supertest';
import type { RedisBlocklist } from '../../lib/blocklist/redis/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { bearer } from '../support/http.js';
import { RedisCluster } from '../support/redis-cluster.js';
import { declareStore as declareBlocklist, revocationRoutes } from '../blocklist/stores.js';
import { REVOKED, RotationRoutes, type Rotated, claims, declareStore as declareFamilies, refresh } from '../rotation/rotation.js';

/*
 * With `waitForReplicas`, both Redis stores write through a pipeline (the write, then WAIT). After a
 * failover the client's slot map is stale until it refreshes it (ioredis: every 5 s by default, set
 * to ten minutes here so the window stays open): the old master answers MOVED. ioredis follows
 * MOVED for a single command but not for a pipeline whose WAIT answered otherwise, so every write to
 * the moved slots failed (503) until the next periodic refresh — a fleet unable to revoke or rotate
 * for seconds after every planned failover. Each case fails over the master of its keys
 * (`CLUSTER FAILOVER`, no node down) and makes the store's write the first command to reach the moved slot.
 */

let cluster: RedisCluster;
let client: Cluster;
let blocklistApp: TestApp;
let rotationApp: TestApp;
let Revocations: Type<RedisBlocklist>;

beforeAll(async () => {
  cluster = await RedisCluster.start(3, { replicas: 1 });
  client = await cluster.client({ slotsRefreshInterval: 600_000, redisOptions: { maxRetriesPerRequest: 1 } });
  Revocations = declareBlocklist('redis', { waitForReplicas: 1, timeout: 2000 }, client) as Type<RedisBlocklist>;
  blocklistApp = await createTestApp('fastify', { loaders: { blocklist: Revocations }, controllers: [revocationRoutes(Revocations)] });
  rotationApp = await createTestApp('express', {
    options: { refreshTokenRotation: {} },
    loaders: { refreshTokenStore: declareFamilies('redis', () => client, { waitForReplicas: 1, timeout: 2000 }) },
    controllers: [RotationRoutes],
  });
}, 90_000);
afterAll(async () => {
  await blocklistApp?.close();
  await rotationApp?.close();
  client?.disconnect();
  await cluster?.stop();
});

/** Fails over the master serving `key`, as the app's client last saw the cluster. */
const failOverMasterOf = async (key: string) => cluster.failover(await cluster.masterOf(key));
const familyKey = (token: string) => `{${claims(token).fam as string}}`;

describe('Redis stores with waitForReplicas, right after a failover their client has not heard of', () => {
  it('RedisBlocklist: a revocation is written to the new master, and then refuses the token', async () => {
    const user = 'revoked-after-failover';
    const token = await blocklistApp.jwt.createAccessToken(user);
    await failOverMasterOf(`{${JSON.stringify(user)}}`);
    await blocklistApp.app.get<RedisBlocklist>(Revocations).revokeToken(await blocklistApp.jwt.decodeToken(token));
    await request(blocklistApp.url).get('/me').set(bearer(token)).expect(401, REVOKED);
  });

  it('RedisBlocklist: a user-wide revocation is written to the new master, and then refuses every token of the user', async () => {
    const user = 'cut-off-after-failover';
    const token = await blocklistApp.jwt.createAccessToken(user);
    await failOverMasterOf(`{${JSON.stringify(user)}}`);
    await blocklistApp.app.get<RedisBlocklist>(Revocations).revokeAllForUser(user);
    await request(blocklistApp.url).get('/me').set(bearer(token)).expect(401, REVOKED);
  });

  it('RedisRefreshTokenStore: the first rotation after the failover succeeds, and its successor works', async () => {
    const token = await rotationApp.jwt.createRefreshToken('rotates-after-failover');
    await failOverMasterOf(familyKey(token));
    const { body } = await refresh(rotationApp.url, token).expect(200);
    await request(rotationApp.url)
      .get('/me')
      .set(bearer((body as Rotated).accessToken))
      .expect(200);
  });

  it("RedisRefreshTokenStore: the guard's family check after the failover answers, and a logout then revokes the family", async () => {
    const login = await rotationApp.jwt.createRefreshToken('logs-out-after-failover');
    const { accessToken } = (await refresh(rotationApp.url, login).expect(200)).body as Rotated;
    await failOverMasterOf(familyKey(login));
    await request(rotationApp.url).get('/me').set(bearer(accessToken)).expect(200);
    await failOverMasterOf(familyKey(login));
    await request(rotationApp.url).post('/logout').set(bearer(accessToken)).expect(200);
    await request(rotationApp.url).get('/me').set(bearer(accessToken)).expect(401, REVOKED);
  }, 45_000);

  it('RedisRefreshTokenStore: a family started on moved slots is recorded (its token is accepted once, then consumed)', async () => {
    // a family id is random: fail over a master, then start families until one lands on its slots
    const moved = await cluster.failover((await cluster.masters())[0]);
    let token: string | undefined;
    for (let attempt = 0; attempt < 100 && !token; attempt++) {
      const candidate = await rotationApp.jwt.createRefreshToken('starts-after-failover');
      if ((await cluster.masterOf(familyKey(candidate))) === moved) token = candidate;
    }
    expect(token).toBeDefined();
    await refresh(rotationApp.url, token!).expect(200);
    await refresh(rotationApp.url, token!).expect(401, REVOKED);
  });
});
