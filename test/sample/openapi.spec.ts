import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { OpenAPIObject, OperationObject } from '@nestjs/swagger';
import { createSampleApp } from '../../sample/create-app.js';
import { ADAPTERS, listenOnLoopback } from '../support/app.js';

const SECRET = 'sample-test-secret-of-32-bytes-or-more';

describe.each(ADAPTERS)("the sample's OpenAPI document (%s)", (adapter) => {
  let app: INestApplication;
  let base: string;
  let document: OpenAPIObject;
  beforeAll(async () => {
    app = await createSampleApp(adapter, { secret: SECRET }, false);
    base = await listenOnLoopback(app);
    const res = await fetch(`${base}/docs-json`);
    // A missing document fails every test below (no document to read), never silently.
    if (res.status !== 200) throw new Error(`GET /docs-json answered ${res.status}`);
    document = (await res.json()) as OpenAPIObject;
  });
  afterAll(() => app.close());

  const op = (method: string, path: string) => (document.paths[path] as Record<string, OperationObject>)[method];

  it('says what the global guard and each route ask for: header or cookie (with CSRF on writes), refresh tokens, optional and public routes', () => {
    const access = [{ jwt: [] }, { jwtCookie: [] }];
    expect(op('get', '/me').security).toEqual(access);
    expect(op('get', '/admin/stats').security).toEqual(access);
    expect(op('post', '/account/password').security).toEqual([{ jwt: [] }, { jwtCookie: [], jwtCsrf: [] }]);
    expect(op('delete', '/auth/logout').security).toEqual([{ jwt: [] }, { jwtCookie: [], jwtCsrf: [] }]);
    expect(op('post', '/auth/refresh').security).toEqual([{ jwtRefresh: [] }, { jwtRefreshCookie: [], jwtRefreshCsrf: [] }]);
    expect(op('post', '/cookie/refresh').security).toEqual([{ jwtRefreshCookie: [], jwtRefreshCsrf: [] }]);
    expect(op('post', '/cookie/notes').security).toEqual([{ jwtCookie: [], jwtCsrf: [] }]);
    expect(op('get', '/greeting').security).toEqual([...access, {}]);
    for (const [method, path] of [
      ['post', '/auth/login'],
      ['post', '/auth/fresh-login'],
      ['post', '/cookie/login'],
      ['delete', '/cookie/logout'],
      ['get', '/'],
    ]) {
      expect(op(method, path).security).toEqual([]);
      expect(op(method, path).responses).not.toHaveProperty('401');
    }
    expect(op('get', '/me').responses).toMatchObject({
      401: { description: expect.any(String) },
      422: { description: expect.any(String) },
    });
  });

  it('has the schemes of its configuration and the error body', () => {
    expect(document.components?.securitySchemes).toEqual({
      jwt: expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }),
      jwtCookie: expect.objectContaining({ type: 'apiKey', in: 'cookie', name: 'access_token_cookie' }),
      jwtCsrf: expect.objectContaining({ type: 'apiKey', in: 'header', name: 'X-CSRF-TOKEN' }),
      jwtRefresh: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      jwtRefreshCookie: expect.objectContaining({ type: 'apiKey', in: 'cookie', name: 'refresh_token_cookie' }),
      jwtRefreshCsrf: expect.objectContaining({ type: 'apiKey', in: 'header', name: 'X-CSRF-TOKEN' }),
    });
    expect(document.components?.schemas?.JwtError).toMatchObject({ properties: { msg: { type: 'string' } } });
  });

  it('agrees with the running app: a route that needs a token answers 401 without one, a public one does not', async () => {
    expect((await fetch(`${base}/me`)).status).toBe(401);
    expect((await fetch(`${base}/greeting`)).status).toBe(200);
    expect((await fetch(`${base}/`)).status).toBe(200);
  });

  it('serves Swagger UI at /docs on Express, only the JSON on Fastify (Swagger UI needs @fastify/static)', async () => {
    const res = await fetch(`${base}/docs`);
    if (adapter === 'express') {
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('swagger-ui');
    } else {
      expect(res.status).toBe(404);
    }
  });
});
