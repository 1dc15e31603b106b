import { Controller, Get, type INestApplication, Post, UseGuards } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import { DocumentBuilder, type OpenAPIObject, type OperationObject, SwaggerModule } from '@nestjs/swagger';
import request from 'supertest';
import { JwtGuard, type JwtExtendedOptions, JwtPublic, JwtRequired } from '../../lib/index.js';
import { JWT_ERROR_SCHEMA, JWT_SECURITY_SCHEMES, applyJwtSecurity } from '../../lib/swagger/index.js';
import { ADAPTERS, type AdapterName, type TestAppSetup, withTestApp } from '../support/app.js';

@Controller('items')
class ItemsController {
  @Get()
  @JwtRequired()
  list() {
    return [];
  }
  @Post()
  @JwtRequired()
  create() {
    return {};
  }
  @Post('refresh')
  @JwtRequired({ refresh: true })
  refresh() {
    return {};
  }
  @Get('maybe')
  @JwtRequired({ optional: true })
  maybe() {
    return {};
  }
  @Get('public')
  @JwtPublic()
  open() {
    return {};
  }
  @Get('plain')
  plain() {
    return {};
  }
  @Get('guarded')
  @UseGuards(JwtGuard)
  guarded() {
    return {};
  }
  @Get('query')
  @JwtRequired({ locations: 'query_string' })
  query() {
    return {};
  }
}

@Controller('admin')
@JwtRequired({ fresh: true })
class AdminController {
  @Get()
  stats() {
    return {};
  }
  @Get('health')
  @JwtPublic()
  health() {
    return {};
  }
}

@Controller('open')
@JwtPublic()
class OpenController {
  @Get()
  hello() {
    return {};
  }
  @Get('mine')
  @JwtRequired()
  mine() {
    return {};
  }
}

const CONTROLLERS = [ItemsController, AdminController, OpenController];

/** The document `SwaggerModule.createDocument` makes for the app, with `applyJwtSecurity` applied. */
async function documentFor(
  adapter: AdapterName,
  setup: TestAppSetup,
  check: (
    document: OpenAPIObject,
    op: (method: string, path: string) => OperationObject,
    app: INestApplication,
    url: string,
  ) => Promise<void>,
) {
  await withTestApp(adapter, { controllers: CONTROLLERS, ...setup }, async ({ app, url }) => {
    const document = applyJwtSecurity(SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('t').build()), app);
    const op = (method: string, path: string) => {
      const operation = (document.paths[path] as Record<string, OperationObject | undefined>)[method];
      if (!operation) throw new Error(`no ${method} ${path} in the document`);
      return operation;
    };
    await check(document, op, app, url);
  });
}

const errorResponses = {
  401: {
    description: expect.any(String),
    content: { 'application/json': { schema: { $ref: `#/components/schemas/${JWT_ERROR_SCHEMA}` } } },
  },
  422: {
    description: expect.any(String),
    content: { 'application/json': { schema: { $ref: `#/components/schemas/${JWT_ERROR_SCHEMA}` } } },
  },
};

/** Every GET of the document, requested without a token: 401 where it says a token is required, else 200. */
async function documentMatchesTheGuard(document: OpenAPIObject, url: string) {
  for (const [path, item] of Object.entries(document.paths)) {
    const security = item.get?.security;
    if (!item.get) continue;
    const required = security !== undefined && security.length > 0 && !security.some((r) => Object.keys(r).length === 0);
    await request(url)
      .get(path)
      .expect(required ? 401 : 200);
  }
}

describe.each(ADAPTERS)('applyJwtSecurity (%s)', (adapter) => {
  it('per-route protection: requirements on guarded routes, security: [] on public ones, the 401/422 responses, nothing on unguarded ones', async () => {
    await documentFor(adapter, {}, async (document, op, _app, url) => {
      const bearer = [{ [JWT_SECURITY_SCHEMES.access.headers]: [] }];
      for (const [method, path] of [
        ['get', '/items'],
        ['post', '/items'],
        ['get', '/items/guarded'],
        ['get', '/admin'],
        ['get', '/open/mine'],
      ]) {
        expect(op(method, path).security).toEqual(bearer);
        expect(op(method, path).responses).toMatchObject(errorResponses);
      }
      expect(op('post', '/items/refresh').security).toEqual([{ jwtRefresh: [] }]);
      expect(op('get', '/items/maybe').security).toEqual([{ jwt: [] }, {}]);
      expect(op('get', '/items/query').security).toEqual([{ jwtQuery: [] }]);
      for (const path of ['/items/public', '/admin/health', '/open']) {
        expect(op('get', path).security).toEqual([]);
        expect(op('get', path).responses).not.toHaveProperty('401');
      }
      expect(op('get', '/items/plain')).not.toHaveProperty('security');
      expect(op('get', '/items/plain').responses).not.toHaveProperty('401');

      expect(document.components?.securitySchemes).toEqual({
        jwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: expect.stringContaining('access token') },
        jwtRefresh: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: expect.stringContaining('refresh token') },
        jwtQuery: { type: 'apiKey', in: 'query', name: 'jwt', description: expect.any(String) },
      });
      expect(document.components?.schemas?.[JWT_ERROR_SCHEMA]).toEqual({
        type: 'object',
        properties: { msg: { type: 'string', example: expect.any(String) } },
        required: ['msg'],
      });
      await documentMatchesTheGuard(document, url);
    });
  });

  it('the global guard: every route not declared public requires a token', async () => {
    await documentFor(adapter, { globalGuard: true }, async (document, op, _app, url) => {
      expect(op('get', '/items/plain').security).toEqual([{ jwt: [] }]);
      expect(op('get', '/items/plain').responses).toMatchObject(errorResponses);
      expect(op('get', '/items/public').security).toEqual([]);
      expect(op('get', '/open').security).toEqual([]);
      await documentMatchesTheGuard(document, url);
    });
  });

  it('useGlobalGuards(JwtGuard) counts as the global guard', async () => {
    await documentFor(adapter, { beforeInit: (app) => void app.useGlobalGuards(app.get(JwtGuard)) }, async (_document, op) => {
      expect(op('get', '/items/plain').security).toEqual([{ jwt: [] }]);
    });
  });

  it('each token location: a custom header as an API key, cookies with the CSRF header on CSRF methods, the query, never the JSON body', async () => {
    const options: JwtExtendedOptions = {
      tokenLocation: ['headers', 'cookies', 'query_string', 'json'],
      headerName: 'X-Api-Token',
      headerType: '',
      queryStringName: 'token',
      accessCookieName: 'at',
      refreshCookieName: 'rt',
      refreshCsrfHeaderName: 'X-Refresh-CSRF',
    };
    await documentFor(adapter, { options }, async (document, op) => {
      expect(op('get', '/items').security).toEqual([{ jwt: [] }, { jwtCookie: [] }, { jwtQuery: [] }]);
      expect(op('post', '/items').security).toEqual([{ jwt: [] }, { jwtCookie: [], jwtCsrf: [] }, { jwtQuery: [] }]);
      expect(op('post', '/items/refresh').security).toEqual([
        { jwtRefresh: [] },
        { jwtRefreshCookie: [], jwtRefreshCsrf: [] },
        { jwtRefreshQuery: [] },
      ]);
      expect(document.components?.securitySchemes).toMatchObject({
        jwt: { type: 'apiKey', in: 'header', name: 'X-Api-Token' },
        jwtCookie: { type: 'apiKey', in: 'cookie', name: 'at' },
        jwtCsrf: { type: 'apiKey', in: 'header', name: 'X-CSRF-TOKEN' },
        jwtQuery: { type: 'apiKey', in: 'query', name: 'token' },
        jwtRefresh: { type: 'apiKey', in: 'header', name: 'X-Api-Token' },
        jwtRefreshCookie: { type: 'apiKey', in: 'cookie', name: 'rt' },
        jwtRefreshCsrf: { type: 'apiKey', in: 'header', name: 'X-Refresh-CSRF' },
      });
    });
  });

  it('a header type other than Bearer is an API-key header; without CSRF protection cookies need no CSRF header', async () => {
    await documentFor(
      adapter,
      { options: { tokenLocation: ['headers', 'cookies'], headerType: 'JWT', cookieCsrfProtect: false } },
      async (document, op) => {
        expect(op('post', '/items').security).toEqual([{ jwt: [] }, { jwtCookie: [] }]);
        expect(document.components?.securitySchemes?.jwt).toEqual({
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: expect.stringContaining("'JWT <JWT>'"),
        });
      },
    );
  });

  it('the error body follows errorMessageKey and errorFormat', async () => {
    await documentFor(adapter, { options: { errorMessageKey: 'error' } }, async (document) => {
      expect(document.components?.schemas?.[JWT_ERROR_SCHEMA]).toMatchObject({
        properties: { error: { type: 'string' } },
        required: ['error'],
      });
    });
    await documentFor(adapter, { options: { errorFormat: 'nest' } }, async (document) => {
      expect(document.components?.schemas?.[JWT_ERROR_SCHEMA]).toMatchObject({
        properties: { statusCode: { type: 'integer' }, message: { type: 'string' }, error: { type: 'string' }, code: { type: 'string' } },
        required: ['statusCode', 'message', 'error', 'code'],
      });
    });
  });

  it('keeps responses the app documented itself and matches routes through a custom operationIdFactory', async () => {
    await withTestApp(adapter, { controllers: CONTROLLERS }, async ({ app }) => {
      const operationIdFactory = (controller: string, method: string) => `${controller}.${method}`;
      const created = SwaggerModule.createDocument(app, new DocumentBuilder().build(), { operationIdFactory });
      (created.paths['/items'].get as OperationObject).responses['401'] = { description: 'mine' };
      const document = applyJwtSecurity(created, app, { operationIdFactory });
      expect((document.paths['/items'].get as OperationObject).responses['401']).toEqual({ description: 'mine' });
      expect((document.paths['/items'].get as OperationObject).security).toEqual([{ jwt: [] }]);
      expect((document.paths['/items/public'].get as OperationObject).security).toEqual([]);
    });
  });
});
