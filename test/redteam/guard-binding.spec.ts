import { Controller, Get, UseGuards } from '@nestjs/common';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import request from 'supertest';
import { JwtGuard, JwtIdentity, JwtPublic, JwtRequired } from '../../lib/index.js';
import { ADAPTERS, createTestApp, type TestApp } from '../support/app.js';
import { expectResponse, handlerRuns } from '../support/http.js';

/*
 * Finding (low–medium; a contract reading, fail-open): `@UseGuards(JwtGuard)` written on a handler
 * does not protect it when its class declares `@JwtPublic()` or `@JwtRequired({ optional: true })`.
 * README (route protection): "`@UseGuards(JwtGuard)` alone applies the defaults". It does not here:
 * the guard bound on the handler looks for the nearest *declaration*, finds none on the handler
 * and applies the class's: the handler runs without any token. `@UseGuards(JwtGuard)` is the
 * documented way to "protect with default options" (module-scope spec, JwtGuard's doc comment:
 * "`@UseGuards(JwtGuard)` … without `@JwtRequired()`: the defaults"), and the closest thing to the
 * handler; §9 "nearest wins … a handler's declaration … else its class's" does not say that a
 * guard bound on the handler is overridden by a looser class declaration. Plain security sense: an
 * explicit guard on a handler must never be opened by its class.
 * Likely place: lib/guard/jwt.guard.ts protectionFor()/declaredOn(): treat a handler that binds
 * JwtGuard itself (GUARDS_METADATA on the handler) as declaring the defaults, or refuse the
 * combination at start-up.
 */

@Controller('open')
@JwtPublic()
class PublicClass {
  @Get('guarded')
  @UseGuards(JwtGuard)
  guarded(@JwtIdentity() id: unknown) {
    handlerRuns.record('open/guarded');
    return { id };
  }
}

@Controller('optional')
@JwtRequired({ optional: true })
class OptionalClass {
  @Get('guarded')
  @UseGuards(JwtGuard)
  guarded(@JwtIdentity() id: unknown) {
    handlerRuns.record('optional/guarded');
    return { id };
  }
}

/** A subclass that binds the guard itself over a public base: the binding is the nearest declaration. */
@Controller('sub')
@UseGuards(JwtGuard)
class GuardedSubclass extends PublicClass {
  @Get('inherited')
  inherited(@JwtIdentity() id: unknown) {
    handlerRuns.record('sub/inherited');
    return { id };
  }
}

describe.each(ADAPTERS)('@UseGuards(JwtGuard) on a handler whose class is looser (%s)', (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(adapter, { controllers: [PublicClass, OptionalClass, GuardedSubclass] });
  });

  it('a class that binds the guard over a public base class is protected with the defaults', async () => {
    await expectResponse(request(t.url).get('/sub/inherited'), 401, { msg: 'Missing Authorization Header' }, []);
    const token = await t.jwt.createAccessToken('alice');
    await expectResponse(
      request(t.url).get('/sub/inherited').set('Authorization', `Bearer ${token}`),
      200,
      { id: 'alice' },
      'sub/inherited',
    );
  });
  afterAll(() => t.close());

  it.each(['open', 'optional'])('/%s/guarded without a token is refused and the handler never runs', async (prefix) => {
    await expectResponse(request(t.url).get(`/${prefix}/guarded`), 401, { msg: 'Missing Authorization Header' }, []);
  });
});
