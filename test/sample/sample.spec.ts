import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createSampleApp } from '../../sample/create-app.js';
import { runSmoke } from '../../sample/smoke.js';
import { JwtTestKit } from '../../lib/testing/index.js';
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

  it('passes every step of the header, cookie and GraphQL flows, twice in a row', async () => {
    const first = await runSmoke(base);
    expect(first).toHaveLength(18);
    expect(await runSmoke(base)).toEqual(first);
  });
});

describe.each(ADAPTERS)('sample app routes with tokens from the testing kit (%s)', (adapter) => {
  let app: INestApplication;
  let base: string;
  let kit: JwtTestKit;
  beforeAll(async () => {
    app = await createSampleApp(adapter, { secret: SECRET }, false);
    base = await listenOnLoopback(app);
    kit = JwtTestKit.from(app);
  });
  afterAll(() => app.close());

  const get = async (path: string, headers: Record<string, string> = {}, method = 'GET') => {
    const res = await fetch(`${base}${path}`, { method, headers });
    return { status: res.status, body: (await res.json()) as unknown };
  };

  // The sample's identities are its users: its userIdentity loader turns one into the `sub` claim.
  const alice = { username: 'alice', role: 'admin' } as const;
  const bob = { username: 'bob', role: 'user' } as const;

  it('the global guard protects /me; the kit signs with the app’s own key and loaders', async () => {
    expect(await get('/me')).toEqual({
      status: 401,
      body: { msg: 'Missing JWT in headers or cookies (Missing Authorization Header; Missing cookie "access_token_cookie")' },
    });
    expect(await get('/me', await kit.bearer(bob))).toEqual({ status: 200, body: { username: 'bob', role: 'user' } });
    expect(await get('/me', { Authorization: `Bearer ${await kit.expiredAccessToken(bob)}` })).toEqual({
      status: 401,
      body: { msg: 'Token has expired' },
    });
  });

  it('the role claim comes from the app’s additionalClaims loader', async () => {
    expect((await get('/admin/stats', await kit.bearer(alice))).status).toBe(200);
    expect(await get('/admin/stats', await kit.bearer(bob))).toEqual({ status: 403, body: { msg: 'Admins only' } });
  });

  it('public and optional routes, and a cookie route that needs the CSRF header', async () => {
    expect(await get('/greeting')).toEqual({ status: 200, body: { msg: 'Hello, stranger!' } });
    expect(await get('/greeting', await kit.bearer(alice))).toEqual({ status: 200, body: { msg: 'Hello, alice!' } });
    const cookies = await kit.cookies(alice);
    expect((await get('/cookie/notes', cookies, 'POST')).status).toBe(201);
    expect(await get('/cookie/notes', { Cookie: cookies.Cookie }, 'POST')).toEqual({ status: 401, body: { msg: 'Missing CSRF token' } });
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
    expect(await runSmoke(base)).toHaveLength(18);
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
