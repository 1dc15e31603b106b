import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import request from 'supertest';
import { createTestApp, type TestApp } from '../support/app.js';
import { useRedis } from '../support/redis-server.js';
import { bearer, declareStore, freshPrefix, revocationRoutes, ADAPTER_STORE_PAIRS } from '../blocklist/stores.js';

/*
 * Finding: a user-wide cut-off (revokeAllForUser) is kept for max(accessTokenExpires,
 * refreshTokenExpires) + decodeLeeway. A token created with a longer `expiresDelta` (or
 * `expiresDelta: false`) outlives the cut-off, and the revoked token is accepted again while
 * the decoder still accepts it. §7: "A revoked token stays refused for as long as the decoder
 * would accept it".
 */

let redis: Redis;
useRedis((started) => ({ redis } = started));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(ADAPTER_STORE_PAIRS)('revokeAllForUser and tokens with their own lifetime (%s, %s store)', (adapter, kind) => {
  let t: TestApp;
  beforeAll(async () => {
    const Store = declareStore(kind, { keyPrefix: freshPrefix() }, redis);
    t = await createTestApp(adapter, {
      // Short default lifetimes: the cut-off is kept 1 s (+ leeway 0).
      options: { accessTokenExpires: 1, refreshTokenExpires: 1 },
      loaders: { blocklist: Store },
      controllers: [revocationRoutes(Store)],
    });
  });
  afterAll(() => t.close());

  it.each([
    ['one day', '1d' as const],
    ['no exp', false as const],
  ])('a token with expiresDelta %s stays refused after revokeAllForUser', async (_label, expiresDelta) => {
    const identity = `long-lived-${kind}-${String(expiresDelta)}`;
    const token = await t.jwt.createAccessToken(identity, { expiresDelta });
    await request(t.url).get('/me').set(bearer(token)).expect(200);
    await request(t.url).delete('/logout-everywhere').set(bearer(token)).expect(200);
    await request(t.url).get('/me').set(bearer(token)).expect(401, { msg: 'Token has been revoked' });
    // The default lifetimes (1 s) are over; this token is still accepted by the decoder.
    await sleep(2500);
    const res = await request(t.url).get('/me').set(bearer(token));
    expect({ status: res.status, body: res.body }).toEqual({ status: 401, body: { msg: 'Token has been revoked' } });
  });
});
