import {
  All,
  Controller,
  Get,
  Injectable,
  Module,
  Post,
  RequestMethod,
  Scope,
  Version,
  VersioningType,
  type INestApplication,
  type Type,
} from '@nestjs/common';
import { APP_GUARD, RouterModule } from '@nestjs/core';
import { describe, expect, it } from '@jest/globals';
import { ApiExcludeEndpoint, ApiOperation, DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import request from 'supertest';
import { JwtGuard, JwtPublic, JwtRequired } from '../../lib/index.js';
import { applyJwtSecurity } from '../../lib/swagger/index.js';
import { ADAPTERS, type AdapterName, type TestAppSetup, withTestApp } from '../support/app.js';

// Routes are matched to operations by HTTP method and path, built as Nest routes them: every
// operation of the document is requested without a token, and is documented as protected exactly
// when the guard answers 401.

// What @nestjs/swagger documents of an @All() route under OpenAPI 3.0 (QUERY needs 3.2).
const OPERATIONS = ['get', 'post', 'put', 'delete', 'patch', 'options', 'head'] as const;

/** Each operation's security, keyed `GET /path`, after checking each against the running guard. */
async function documentedSecurity(url: string, document: OpenAPIObject): Promise<Record<string, unknown>> {
  const seen: Record<string, unknown> = {};
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of ['get', 'post'] as const) {
      const operation = item[method];
      if (!operation) continue;
      const { status } = await request(url)[method](path.replace(/\{[^}]+\}/g, 'x'));
      // Protected in the document exactly when the guard refuses a request without a token.
      expect([`${method} ${path}`, status === 401]).toEqual([`${method} ${path}`, operation.security?.length === 1]);
      seen[`${method.toUpperCase()} ${path}`] = operation.security;
    }
  }
  return seen;
}

const create = (app: INestApplication, options?: Parameters<typeof SwaggerModule.createDocument>[2]) =>
  SwaggerModule.createDocument(app, new DocumentBuilder().build(), options);

@Controller('users')
@JwtRequired()
class UsersController {
  // Before ':id', which would otherwise take GET /users/health.
  @Get('health')
  @JwtPublic()
  health() {
    return {};
  }
  @Get(':id')
  get() {
    return {};
  }
}

@Controller(['files', 'documents'])
class FilesController {
  @Get(':name')
  @JwtRequired()
  read() {
    return {};
  }
  @Post(['upload', 'put'])
  upload() {
    return {};
  }
}

@Controller('hooks')
class HooksController {
  @All('ping')
  @JwtRequired()
  ping() {
    return {};
  }
}

@Controller({ path: 'reports', version: '1' })
@JwtPublic()
class ReportsV1Controller {
  @Get()
  list() {
    return [];
  }
}

@Controller({ path: 'reports', version: '2' })
@JwtRequired()
class ReportsV2Controller {
  @Get()
  list() {
    return [];
  }
  @Get('beta')
  @Version('3')
  @JwtPublic()
  beta() {
    return [];
  }
}

@Controller('stock')
class StockController {
  @Get()
  @JwtRequired()
  count() {
    return 0;
  }
}
@Module({ controllers: [StockController] })
class StockModule {}

describe.each(ADAPTERS)('applyJwtSecurity matches routes by method and path (%s)', (adapter: AdapterName) => {
  it('path parameters, several controller and method paths, @All()', async () => {
    await withTestApp(adapter, { controllers: [UsersController, FilesController, HooksController] }, async ({ app, url }) => {
      const document = applyJwtSecurity(create(app), app);
      expect(await documentedSecurity(url, document)).toEqual({
        'GET /users/{id}': [{ jwt: [] }],
        'GET /users/health': [],
        'GET /files/{name}': [{ jwt: [] }],
        'GET /documents/{name}': [{ jwt: [] }],
        'POST /files/upload': undefined,
        'POST /files/put': undefined,
        'POST /documents/upload': undefined,
        'POST /documents/put': undefined,
        'GET /hooks/ping': [{ jwt: [] }],
        'POST /hooks/ping': [{ jwt: [] }],
      });
      for (const method of OPERATIONS) expect([method, document.paths['/hooks/ping'][method]?.security]).toEqual([method, [{ jwt: [] }]]);
    });
  });

  it('a global prefix with an exclusion, and a RouterModule path', async () => {
    const setup: TestAppSetup = {
      controllers: [UsersController],
      imports: [StockModule, RouterModule.register([{ path: 'shop', module: StockModule }])],
      beforeInit: (app) => void app.setGlobalPrefix('api', { exclude: [{ path: 'users/health', method: RequestMethod.GET }] }),
    };
    await withTestApp(adapter, setup, async ({ app, url }) => {
      expect(await documentedSecurity(url, applyJwtSecurity(create(app), app))).toEqual({
        'GET /api/users/{id}': [{ jwt: [] }],
        'GET /users/health': [],
        'GET /api/shop/stock': [{ jwt: [] }],
      });
    });
  });

  it('URI versions: one path per version, controller and method versions, the same class name in two versions', async () => {
    const setup: TestAppSetup = {
      controllers: [ReportsV1Controller, ReportsV2Controller],
      beforeInit: (app) => void app.enableVersioning({ type: VersioningType.URI }),
    };
    await withTestApp(adapter, setup, async ({ app, url }) => {
      expect(await documentedSecurity(url, applyJwtSecurity(create(app), app))).toEqual({
        'GET /v1/reports': [],
        'GET /v2/reports': [{ jwt: [] }],
        'GET /v3/reports/beta': [],
      });
    });
  });

  it('an operationIdFactory and explicit operationIds play no part (the option is still accepted)', async () => {
    @Controller('a')
    @JwtRequired()
    class AController {
      @Get()
      @ApiOperation({ operationId: 'same' })
      get() {
        return {};
      }
    }
    @Controller('b')
    @JwtPublic()
    class BController {
      @Get()
      @ApiOperation({ operationId: 'same' })
      get() {
        return {};
      }
    }
    await withTestApp(adapter, { controllers: [AController, BController] }, async ({ app, url }) => {
      const operationIdFactory = () => 'x';
      const document = applyJwtSecurity(create(app, { operationIdFactory }), app, { operationIdFactory });
      expect(await documentedSecurity(url, document)).toEqual({ 'GET /a': [{ jwt: [] }], 'GET /b': [] });
    });
  });

  it('routes @nestjs/swagger leaves out (@ApiExcludeEndpoint, modules not in `include`) are no error', async () => {
    @Controller('hidden')
    class HiddenController {
      @Get()
      @JwtRequired()
      @ApiExcludeEndpoint()
      secret() {
        return {};
      }
      @Get('shown')
      @JwtRequired()
      shown() {
        return {};
      }
    }
    await withTestApp(adapter, { controllers: [HiddenController], imports: [StockModule] }, async ({ app, url }) => {
      expect(await documentedSecurity(url, applyJwtSecurity(create(app), app))).toEqual({
        'GET /hidden/shown': [{ jwt: [] }],
        'GET /stock': [{ jwt: [] }],
      });
      expect(await documentedSecurity(url, applyJwtSecurity(create(app, { include: [StockModule] }), app))).toEqual({
        'GET /stock': [{ jwt: [] }],
      });
    });
  });
});

@Injectable()
class AppJwtGuard extends JwtGuard {}

@Controller('plain')
class PlainController {
  @Get()
  get() {
    return {};
  }
}

describe.each(ADAPTERS)('applyJwtSecurity with a request-scoped global guard (%s)', (adapter: AdapterName) => {
  it('a subclass of JwtGuard as a request-scoped APP_GUARD counts as the global guard', async () => {
    const setup: TestAppSetup = {
      controllers: [PlainController, UsersController],
      providers: [{ provide: APP_GUARD, useClass: AppJwtGuard, scope: Scope.REQUEST } as unknown as Type],
    };
    await withTestApp(adapter, setup, async ({ url, app }) => {
      expect(await documentedSecurity(url, applyJwtSecurity(create(app), app))).toEqual({
        'GET /plain': [{ jwt: [] }],
        'GET /users/{id}': [{ jwt: [] }],
        'GET /users/health': [],
      });
    });
  });
});

// Express only: Fastify's router takes no named wildcard in the middle of these paths.
describe('applyJwtSecurity and path-to-regexp syntax (express)', () => {
  it('wildcards, optional groups and escaped colons are written as @nestjs/swagger writes them', async () => {
    @Controller('files')
    @JwtRequired()
    class PathsController {
      @Get('raw/*rest')
      raw() {
        return {};
      }
      @Get('report{/:format}')
      report() {
        return {};
      }
      @Get('a\\:b')
      colon() {
        return {};
      }
    }
    await withTestApp('express', { controllers: [PathsController] }, async ({ app }) => {
      const document = applyJwtSecurity(create(app), app);
      expect(Object.fromEntries(Object.entries(document.paths).map(([path, item]) => [path, item.get?.security]))).toEqual({
        '/files/raw/{rest}': [{ jwt: [] }],
        '/files/report/{format}': [{ jwt: [] }],
        '/files/a:b': [{ jwt: [] }],
      });
    });
  });
});

describe('applyJwtSecurity refuses to write a wrong document', () => {
  function twoControllers(): Type[] {
    @Controller('dup')
    @JwtPublic()
    class OpenDup {
      @Get()
      get() {
        return {};
      }
    }
    @Controller('dup')
    @JwtRequired()
    class GuardedDup {
      @Get()
      get() {
        return {};
      }
    }
    return [OpenDup, GuardedDup];
  }

  it('two routes of one method and path that the guard protects differently', async () => {
    await withTestApp('express', { controllers: twoControllers() }, async ({ app }) => {
      expect(() => applyJwtSecurity(create(app), app)).toThrow(
        'applyJwtSecurity(): GET /dup is routed to OpenDup and GuardedDup, which the guard protects differently; one operation cannot document both',
      );
    });
  });

  it('an operation that is no route of the app (a document created with ignoreGlobalPrefix)', async () => {
    const setup: TestAppSetup = { controllers: [UsersController], beforeInit: (app) => void app.setGlobalPrefix('api') };
    await withTestApp('express', setup, async ({ app }) => {
      expect(() => applyJwtSecurity(create(app, { ignoreGlobalPrefix: true }), app)).toThrow(
        'applyJwtSecurity(): the operation GET /users/health is no route of this application (was the document created for it, without ignoreGlobalPrefix?)',
      );
    });
  });

  it('a guarded route missing from a document that has its controller', async () => {
    await withTestApp('express', { controllers: [UsersController] }, async ({ app }) => {
      const document = create(app);
      delete document.paths['/users/{id}'];
      expect(() => applyJwtSecurity(document, app)).toThrow(
        'applyJwtSecurity(): GET /users/{id} of UsersController is guarded but has no operation in the document',
      );
    });
  });
});
