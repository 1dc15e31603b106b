import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import request from 'supertest';
import { JwtUnavailableException, type RevocationStore } from '../../lib/index.js';
import { ADAPTERS, RecordingLogger, createTestApp, type TestApp } from '../support/app.js';
import { RedisServer } from '../support/redis-server.js';
import { bearer, declareStore, handlerRuns, revocationRoutes } from './stores.js';

// Every 503 the library sends has one shape: { [errorMessageKey]: message }.
const UNAVAILABLE = { error: 'Token revocation store unavailable' };

describe.each(ADAPTERS)('RedisBlocklist unavailable, through a real app (%s)', (adapter) => {
  let server: RedisServer;
  let redis: Redis;
  let t: TestApp;
  let store: RevocationStore;
  const logger = new RecordingLogger();

  beforeAll(async () => {
    server = await RedisServer.start();
    redis = new Redis(server.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
    await new Promise((resolve) => redis.once('ready', resolve));
    const Store = declareStore('redis', { timeout: 200 }, redis);
    t = await createTestApp(adapter, {
      options: { errorMessageKey: 'error' },
      loaders: { blocklist: Store },
      controllers: [revocationRoutes(Store)],
      logger,
    });
    store = t.app.get(Store);
  });
  afterAll(async () => {
    await t.close();
    redis.disconnect();
    await server.stop();
  });

  it('while Redis is slow, checks fail closed with the configured message key', async () => {
    const token = await t.jwt.createAccessToken('slow-user');
    const blocker = new Redis(server.url);
    try {
      // DEBUG SLEEP blocks the (single-threaded) server for a second: longer than the store's 200 ms.
      const sleeping = blocker.call('DEBUG', 'SLEEP', '1');
      await new Promise((r) => setTimeout(r, 50));
      const before = handlerRuns.count;
      await request(t.url).get('/me').set(bearer(token)).expect(503, UNAVAILABLE);
      expect(handlerRuns.count).toBe(before);
      await sleeping;
    } finally {
      blocker.disconnect();
    }
  });

  it('while Redis is down, checks and revocations answer 503 with the configured key, and nothing logged holds token data', async () => {
    const token = await t.jwt.createAccessToken('down-user');
    const claims = await t.jwt.decodeToken(token);
    await request(t.url).get('/me').set(bearer(token)).expect(200);
    logger.lines.length = 0;
    await server.stop();
    const before = handlerRuns.count;
    await request(t.url).get('/me').set(bearer(token)).expect(503, UNAVAILABLE);
    await request(t.url)
      .post('/refresh')
      .set(bearer(await t.jwt.createRefreshToken('down-user')))
      .expect(503, UNAVAILABLE);
    expect(handlerRuns.count).toBe(before);
    await request(t.url).delete('/logout').set(bearer(token)).expect(503, UNAVAILABLE);
    for (const revoking of [store.revokeToken(claims), store.revokeAllForUser('down-user')]) {
      const error = await revoking.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JwtUnavailableException);
      expect((error as JwtUnavailableException).getStatus()).toBe(503);
      expect((error as JwtUnavailableException).getResponse()).toEqual(UNAVAILABLE);
    }
    const logged = logger.lines.join('\n');
    expect(logged).toMatch(/Redis (check|revoke) failed/);
    for (const secret of [token, token.split('.')[1], token.split('.')[2], String(claims.jti), 'down-user']) {
      expect(logged).not.toContain(secret);
    }
    await server.restart();
    await waitFor(async () => (await request(t.url).get('/me').set(bearer(token))).status === 200);
  });
});

async function waitFor(check: () => Promise<boolean>, attempts = 50): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not met');
}
