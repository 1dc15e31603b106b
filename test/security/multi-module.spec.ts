import { Controller, Get, Module, UseGuards } from '@nestjs/common';
import { describe, it } from '@jest/globals';
import request from 'supertest';
import { JwtExtendedModule, JwtExtendedService, JwtGuard, JwtIdentity, JwtPublic, JwtRequired } from '../../lib/index.js';
import { ADAPTERS, useTestApp } from '../support/app.js';
import { bearer, expectResponse, handlerRuns } from '../support/http.js';

/*
 * Two JwtExtendedModules in one app: the app's (global, with the global guard) and a feature
 * module's own (another secret). A request verified by one module's guard must still be verified
 * by the other's: "verified once per request" holds per module, or a user token would open the
 * admin routes.
 */
const ADMIN_SECRET = 'admin-secret-that-is-also-32-bytes!!';

@Controller('admin')
class AdminController {
  constructor(private readonly jwt: JwtExtendedService) {}

  @Get('login')
  @JwtPublic()
  login() {
    return this.jwt.createAccessToken('root');
  }

  @Get('decorated')
  @JwtRequired()
  decorated(@JwtIdentity() id: unknown) {
    handlerRuns.record('decorated');
    return { id };
  }

  @Get('guarded')
  @UseGuards(JwtGuard)
  guarded(@JwtIdentity() id: unknown) {
    handlerRuns.record('guarded');
    return { id };
  }
}

@Module({
  imports: [JwtExtendedModule.forRoot({ secretKey: ADMIN_SECRET, isGlobal: false })],
  controllers: [AdminController],
})
class AdminModule {}

describe.each(ADAPTERS)('guards of two JwtExtendedModules on one route (%s)', (adapter) => {
  describe.each([false, true])('globalGuard: %s', (globalGuard) => {
    const t = useTestApp(adapter, { imports: [AdminModule], globalGuard });

    it.each(['decorated', 'guarded'])('/admin/%s: a token of the other module never opens it', async (route) => {
      const userToken = await t.jwt.createAccessToken('mallory');
      await expectResponse(request(t.url).get(`/admin/${route}`).set(bearer(userToken)), 422, { msg: 'Signature verification failed' }, []);
    });

    it.each(['decorated', 'guarded'])('/admin/%s: its own module’s token is verified by its own guard', async (route) => {
      const adminToken = (await request(t.url).get('/admin/login')).text;
      const answer = request(t.url).get(`/admin/${route}`).set(bearer(adminToken));
      // Under the global guard the app module verifies first, with its own secret: the admin token fails there.
      if (globalGuard) await expectResponse(answer, 422, { msg: 'Signature verification failed' }, []);
      else await expectResponse(answer, 200, { id: 'root' }, route);
    });
  });
});
