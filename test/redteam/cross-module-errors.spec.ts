import { Controller, Get, ImATeapotException, Injectable, Module } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { JwtExtendedModule, JwtIdentity, JwtRequired, type InvalidTokenLoader } from '../../lib/index.js';
import { ADAPTERS, TOKEN_CACHE, useTestApp } from '../support/app.js';

/*
 * Finding (medium): the error loaders and error body of one JwtExtendedModule answer for another
 * module's routes. A module with an error loader registers JwtErrorFilter app-wide (APP_FILTER),
 * and ErrorResponder.toResponse calls applyErrorBody(error, its own config) on every library
 * exception it catches, whichever module threw it. A feature module with its own configuration
 * (errorFormat 'nest', no error loader) then answers its bad tokens with the app module's loader
 * response instead of its own body; with two modules with loaders, one module's loaders shape
 * both. §16 errorFormat / §6 errorMessageKey are per module; §17 "Error loaders shape every
 * library exception" of their module. Here the app's invalidToken loader even answers 418 on the
 * feature module's routes.
 * Likely fix (lib/errors/jwt-error.filter.ts, error-responder.service.ts): remember which module's
 * configuration raised an exception (applyErrorBody already marks it) and let only that module's
 * responder shape it; a filter passes others on unchanged.
 */

@Injectable()
class AppInvalidToken implements InvalidTokenLoader {
  onInvalidToken() {
    return new ImATeapotException('app module says no');
  }
}

@Controller('feature')
class FeatureController {
  @Get('me')
  @JwtRequired()
  me(@JwtIdentity() id: unknown) {
    return { id };
  }
}

@Module({
  imports: [
    JwtExtendedModule.forRoot({ secretKey: 'feature-secret-that-is-32-bytes-long!', errorFormat: 'nest', isGlobal: false, ...TOKEN_CACHE }),
  ],
  controllers: [FeatureController],
})
class FeatureModule {}

describe.each(ADAPTERS)('a feature module next to an app module with an error loader (%s)', (adapter) => {
  const t = useTestApp(adapter, { imports: [FeatureModule], loaders: { invalidToken: AppInvalidToken } });

  it("a bad token on the feature module's route gets the feature module's own body", async () => {
    const res = await request(t.url).get('/feature/me').set('Authorization', 'Bearer not.a.token');
    expect({ status: res.status, body: res.body }).toEqual({
      status: 422,
      body: { statusCode: 422, message: 'Invalid header string', error: 'Unprocessable Entity', code: 'INVALID_TOKEN' },
    });
  });

  it("an error no loader shapes keeps the feature module's errorFormat, not the app module's", async () => {
    const res = await request(t.url).get('/feature/me');
    expect({ status: res.status, body: res.body }).toEqual({
      status: 401,
      body: { statusCode: 401, message: 'Missing Authorization Header', error: 'Unauthorized', code: 'NO_AUTHORIZATION' },
    });
  });
});
