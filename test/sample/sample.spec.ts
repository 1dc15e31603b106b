import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createSampleApp } from '../../sample/create-app.js';
import { runSmoke } from '../../sample/smoke.js';
import { ADAPTERS, listenOnLoopback } from '../support/app.js';
import { RedisServer } from '../support/redis-server.js';

const SECRET = 'sample-test-secret-of-32-bytes-or-more';

describe.each(ADAPTERS)('sample app, in-memory revocations (%s)', (adapter) => {
  let app: INestApplication;
  let base: string;
  beforeAll(async () => {
    app = await createSampleApp(adapter, { secret: SECRET }, false);
    base = await listenOnLoopback(app);
  });
  afterAll(() => app.close());

  it('passes every step of the header and cookie flows, twice in a row', async () => {
    const first = await runSmoke(base);
    expect(first).toHaveLength(13);
    expect(await runSmoke(base)).toEqual(first);
  });
});

describe.each(ADAPTERS)('sample app, Redis revocations (%s)', (adapter) => {
  let redis: RedisServer;
  let app: INestApplication;
  let base: string;
  beforeAll(async () => {
    redis = await RedisServer.start();
    app = await createSampleApp(adapter, { secret: SECRET, redisUrl: redis.url }, false);
    base = await listenOnLoopback(app);
  });
  afterAll(async () => {
    await app.close();
    await redis.stop();
  });

  it('passes every step with revocations in Redis', async () => {
    expect(await runSmoke(base)).toHaveLength(13);
  });

  it('fails closed (503) while Redis is down', async () => {
    const login = await fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: 'wonderland' }),
    });
    const { access_token } = (await login.json()) as { access_token: string };
    await redis.stop();
    const res = await fetch(`${base}/me`, { headers: { Authorization: `Bearer ${access_token}` } });
    expect(res.status).toBe(503);
    await redis.restart();
  });
});
