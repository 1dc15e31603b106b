import { Controller, Get, Scope, type Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { describe, expect, it } from '@jest/globals';
import { JwtGuard, JwtPublic } from '../../lib/index.js';
import { ADAPTERS, type AdapterName, type TestAppSetup } from '../support/app.js';
import { getOperationsVersusGuard } from '../support/openapi.js';

/*
 * Fourth pass: applyJwtSecurity looks for the global JwtGuard in ApplicationConfig.getGlobalGuards()
 * only. An APP_GUARD provider of JwtGuard with `scope: Scope.REQUEST` is kept by Nest among the
 * global *request* guards (getGlobalRequestGuards): the guard protects every route, but the document
 * shows every undeclared route without any requirement. CONTRACT §14: "a security requirement on
 * every route the guard protects (per-route or global)".
 */

async function expectDocumentMatchesGuard(adapter: AdapterName, setup: TestAppSetup) {
  const seen: Record<string, [string, unknown]> = {};
  const expected: Record<string, [string, unknown]> = {};
  for (const [path, { status, security }] of Object.entries(await getOperationsVersusGuard(adapter, setup))) {
    seen[path] = [status === 401 ? 'protected' : 'open', security];
    expected[path] = status === 401 ? ['protected', [{ jwt: [] }]] : ['open', status === 404 ? 'not found' : security];
  }
  expect(Object.keys(seen).length).toBeGreaterThan(0);
  expect(seen).toEqual(expected);
}

@Controller('plain')
class PlainController {
  @Get()
  get() {
    return {};
  }
  @Get('open')
  @JwtPublic()
  open() {
    return {};
  }
}

describe.each(ADAPTERS)('applyJwtSecurity with a request-scoped global JwtGuard (%s)', (adapter) => {
  it('an APP_GUARD of JwtGuard with Scope.REQUEST counts as the global guard: undeclared routes carry the requirement', async () => {
    await expectDocumentMatchesGuard(adapter, {
      controllers: [PlainController],
      providers: [{ provide: APP_GUARD, useClass: JwtGuard, scope: Scope.REQUEST } as unknown as Type],
    });
  });
});
