import { Controller, Get, Module, UseGuards } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { JwtExtendedModule, JwtExtendedService, JwtGuard, JwtIdentity } from '../../lib/index.js';
import { ADAPTERS, SECRET, useTestApp } from '../support/app.js';
import { bearer } from '../support/http.js';

@Controller()
class PlainGuardController {
  @Get('plain')
  @UseGuards(JwtGuard)
  plain(@JwtIdentity() id: unknown) {
    return { id };
  }
}

/** A feature module that imports a non-global JwtExtendedModule itself. */
@Module({
  imports: [JwtExtendedModule.forRoot({ secretKey: SECRET, isGlobal: false })],
  controllers: [PlainGuardController],
})
class FeatureModule {}

describe.each(ADAPTERS)('module scope and the bare guard (%s)', (adapter) => {
  // the app's own JwtExtendedModule is absent: only the feature module's (non-global) one exists
  const t = useTestApp(adapter, { module: { module: class Root {}, imports: [FeatureModule] } });

  it('@UseGuards(JwtGuard) protects with default options inside a module that imports JwtExtendedModule', async () => {
    await request(t.url).get('/plain').expect(401, { msg: 'Missing Authorization Header' });
    const token = await t.app.select(FeatureModule).get(JwtExtendedService).createAccessToken('scoped');
    await request(t.url).get('/plain').set(bearer(token)).expect(200, { id: 'scoped' });
    await request(t.url)
      .get('/plain')
      .set(bearer(await t.app.select(FeatureModule).get(JwtExtendedService).createRefreshToken('scoped')))
      .expect(422, { msg: 'Only non-refresh tokens are allowed' });
  });
});

describe('isGlobal: false', () => {
  it('a module that does not import it cannot inject JwtExtendedService (bootstrap fails)', async () => {
    @Controller()
    class NeedsService {
      constructor(readonly jwt: JwtExtendedService) {}
    }
    @Module({ controllers: [NeedsService] })
    class OtherModule {}
    const { Test } = await import('@nestjs/testing');
    const compile = Test.createTestingModule({ imports: [FeatureModule, OtherModule] }).compile();
    await expect(compile).rejects.toThrow(/JwtExtendedService/);
  });
});
