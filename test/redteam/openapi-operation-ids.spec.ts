import { Controller, Get, type Type } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import { ApiOperation, DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import request from 'supertest';
import { JwtPublic, JwtRequired } from '../../lib/index.js';
import { type OperationIdFactory, applyJwtSecurity } from '../../lib/swagger/index.js';
import { ADAPTERS, type AdapterName, withTestApp } from '../support/app.js';

/*
 * Fourth pass: applyJwtSecurity finds a route's operation by the default operationId
 * (`<Controller>_<method>`). CONTRACT §14: "a security requirement on every route the guard
 * protects, `security: []` on @JwtPublic() routes". Two ordinary ways break the matching: an
 * explicit `@ApiOperation({ operationId })` (the operation is then never matched: a protected
 * route is documented without any requirement), and two controllers of one class name (common in
 * versioned APIs: both get one operationId, and one route's protection is written on both), and the
 * same with a method-name-only operationIdFactory (a common choice for generated clients), passed to
 * applyJwtSecurity as its documentation asks.
 */

/** Every GET of the document, requested without a token: documented as needing one exactly when the guard answers 401. */
async function expectDocumentMatchesGuard(adapter: AdapterName, controllers: Type[], operationIdFactory?: OperationIdFactory) {
  await withTestApp(adapter, { controllers }, async ({ app, url }) => {
    const created = SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('t').build(), { operationIdFactory });
    const document: OpenAPIObject = applyJwtSecurity(created, app, { operationIdFactory });
    const seen: Record<string, [string, unknown]> = {};
    const expected: Record<string, [string, unknown]> = {};
    for (const [path, item] of Object.entries(document.paths)) {
      const security = item.get?.security;
      const { status } = await request(url).get(path);
      seen[path] = [status === 401 ? 'protected' : 'open', security];
      expected[path] = status === 401 ? ['protected', [{ jwt: [] }]] : ['open', []];
    }
    expect(seen).toEqual(expected);
  });
}

@Controller('secrets')
class SecretsController {
  @Get()
  @JwtRequired()
  @ApiOperation({ operationId: 'listSecrets' })
  list() {
    return [];
  }
  @Get('status')
  @JwtPublic()
  @ApiOperation({ operationId: 'secretsStatus' })
  status() {
    return {};
  }
}

// Two versions of one API, each in its own file in a real app: one class name.
function publicUsers(): Type {
  @Controller('v1/users')
  @JwtPublic()
  class UsersController {
    @Get()
    list() {
      return [];
    }
  }
  return UsersController;
}
function protectedUsers(): Type {
  @Controller('v2/users')
  @JwtRequired()
  class UsersController {
    @Get()
    list() {
      return [];
    }
  }
  return UsersController;
}

@Controller('catalog')
@JwtPublic()
class CatalogController {
  @Get()
  findAll() {
    return [];
  }
}
@Controller('orders')
@JwtRequired()
class OrdersController {
  @Get()
  findAll() {
    return [];
  }
}

describe.each(ADAPTERS)('applyJwtSecurity and operationIds (%s)', (adapter) => {
  it('a protected route with an explicit @ApiOperation operationId carries its security requirement (and a public one security: [])', async () => {
    await expectDocumentMatchesGuard(adapter, [SecretsController]);
  });

  it('two controllers of one class name (v1 public, v2 protected): each documented as the guard treats it', async () => {
    await expectDocumentMatchesGuard(adapter, [publicUsers(), protectedUsers()]);
  });

  it('operationIdFactory (_controller, method) => method (clean client names), passed to both: findAll of a public and of a protected controller', async () => {
    await expectDocumentMatchesGuard(adapter, [CatalogController, OrdersController], (_controller, method) => method);
  });
});
