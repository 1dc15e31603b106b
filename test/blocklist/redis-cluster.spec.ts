import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Cluster } from 'ioredis';
import request from 'supertest';
import { RedisBlocklist } from '../../lib/blocklist/redis/index.js';
import { ADAPTERS, createTestApp, type TestApp } from '../support/app.js';
import { useRedisCluster } from '../support/redis-cluster.js';
import { bearer, declareStore, freshPrefix, nowSeconds, payload, revocationRoutes } from './stores.js';

let client: Cluster;
useRedisCluster((started) => ({ client } = started));

/** Every key under `prefix`, from every master. */
async function keysOnMasters(prefix: string): Promise<string[][]> {
  return Promise.all(client.nodes('master').map((node) => node.keys(`${prefix}*`)));
}

describe('RedisBlocklist on a real Redis Cluster (3 masters)', () => {
  it('checks, revokes one token and revokes every earlier token of a user', async () => {
    const store = new RedisBlocklist(client, { keyPrefix: freshPrefix() });
    const exp = nowSeconds() + 600;
    const token = payload({ jti: 'c-1', sub: 'alice', iat: nowSeconds() - 5, exp });
    expect(await store.isTokenRevoked({}, token)).toBe(false);
    await store.revokeToken(token);
    expect(await store.isTokenRevoked({}, token)).toBe(true);
    expect(await store.isTokenRevoked({}, { ...token, jti: 'c-2' })).toBe(false);
    await store.revokeAllForUser('alice');
    expect(await store.isTokenRevoked({}, { ...token, jti: 'c-2' })).toBe(true);
    expect(await store.isTokenRevoked({}, { ...token, jti: 'c-3', iat: nowSeconds() })).toBe(false);
    expect(await store.isTokenRevoked({}, { ...token, jti: 'c-2', sub: 'bob' })).toBe(false);
  });

  it('the keys of one identity share a hash slot, while different identities spread over the masters', async () => {
    const keyPrefix = freshPrefix();
    const store = new RedisBlocklist(client, { keyPrefix });
    await store.revokeAllForUser('carol');
    for (let i = 0; i < 30; i++) await store.revokeToken({ jti: `j-${i}`, sub: `user-${i % 15}`, exp: nowSeconds() + 600 });
    await store.revokeToken({ jti: 'carol-1', sub: 'carol', exp: nowSeconds() + 600 });
    const perMaster = await keysOnMasters(keyPrefix);
    const carolKeys = perMaster.flat().filter((key) => key.includes('"carol"'));
    expect(carolKeys).toHaveLength(2);
    const slots = await Promise.all(carolKeys.map((key) => client.cluster('KEYSLOT', key)));
    expect(slots[0]).toBe(slots[1]);
    expect(perMaster.filter((keys) => keys.length > 0).length).toBeGreaterThan(1);
  });

  it('identities holding braces (object identities, odd names) stay in one slot', async () => {
    const store = new RedisBlocklist(client, { keyPrefix: freshPrefix() });
    for (const sub of [{ 'a}': '{b' }, '}{', '{x}', '', { nested: { list: [1, '}'] } }]) {
      const token = payload({ jti: `brace-${JSON.stringify(sub)}`, sub, iat: nowSeconds() - 5, exp: nowSeconds() + 600 });
      await store.revokeToken(token);
      expect(await store.isTokenRevoked({}, token)).toBe(true);
    }
  });
});

describe.each(ADAPTERS)('RedisBlocklist with an ioredis Cluster client, through a real app (%s)', (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    const Store = declareStore('redis', {}, client);
    t = await createTestApp(adapter, { loaders: { blocklist: Store }, controllers: [revocationRoutes(Store)] });
  });
  afterAll(() => t.close());

  it('checks every request in one slot: tokens pass, revoked ones are refused', async () => {
    const users = ['ann', 'ben', 'cid', 'dot', 'eve'].map((u) => `${adapter}-${u}`);
    for (const user of users) {
      const token = await t.jwt.createAccessToken(user);
      const other = await t.jwt.createAccessToken(user);
      await request(t.url).get('/me').set(bearer(token)).expect(200, { identity: user });
      await request(t.url).delete('/logout').set(bearer(token)).expect(200);
      await request(t.url).get('/me').set(bearer(token)).expect(401, { msg: 'Token has been revoked' });
      await request(t.url).get('/me').set(bearer(other)).expect(200, { identity: user });
    }
  });

  it('revokeAllForUser refuses every earlier token of the user, not later ones nor other users', async () => {
    const user = `${adapter}-frank`;
    const access = await t.jwt.createAccessToken(user);
    const refresh = await t.jwt.createRefreshToken(user);
    const someoneElse = await t.jwt.createAccessToken(`${adapter}-gina`);
    await request(t.url).delete('/logout-everywhere').set(bearer(access)).expect(200);
    await request(t.url).get('/me').set(bearer(access)).expect(401, { msg: 'Token has been revoked' });
    await request(t.url).post('/refresh').set(bearer(refresh)).expect(401, { msg: 'Token has been revoked' });
    await request(t.url).get('/me').set(bearer(someoneElse)).expect(200);
    await request(t.url)
      .get('/me')
      .set(bearer(await t.jwt.createAccessToken(user)))
      .expect(200, { identity: user });
  });
});
