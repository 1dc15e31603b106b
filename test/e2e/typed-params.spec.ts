import { Controller, Get, ParseIntPipe } from '@nestjs/common';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import request from 'supertest';
import { Jwt, type JwtPayload, JwtRequired } from '../../lib/index.js';
import { ADAPTERS, createTestApp, type TestApp } from '../support/app.js';

interface AppClaims {
  role: 'admin' | 'user';
  level: string;
}

@Controller()
class ClaimsController {
  @Get('claims')
  @JwtRequired()
  claims(
    @Jwt<AppClaims>('role') role: AppClaims['role'],
    @Jwt<AppClaims>('level', ParseIntPipe) level: number,
    @Jwt('missing') missing: unknown,
    @Jwt('constructor') inherited: unknown,
    @Jwt() jwt: JwtPayload<AppClaims>,
  ) {
    return { role, level, missing: missing === undefined, inherited: inherited === undefined, sameRole: jwt.role === role };
  }

  @Get('maybe')
  @JwtRequired({ optional: true })
  maybe(@Jwt<AppClaims>('role') role: AppClaims['role'] | undefined) {
    return { role: role ?? null };
  }
}

describe.each(ADAPTERS)("@Jwt('claim') (%s)", (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(adapter, { controllers: [ClaimsController] });
  });
  afterAll(() => t.close());

  it('returns that claim of the verified token, through pipes given after it; an absent or inherited name gives undefined', async () => {
    const token = await t.jwt.createAccessToken('ann', { additionalClaims: { role: 'admin', level: '3' } });
    await request(t.url)
      .get('/claims')
      .set('Authorization', `Bearer ${token}`)
      .expect(200, { role: 'admin', level: 3, missing: true, inherited: true, sameRole: true });
  });

  it('is undefined on an optional route without a token', async () => {
    await request(t.url).get('/maybe').expect(200, { role: null });
    const token = await t.jwt.createAccessToken('ann', { additionalClaims: { role: 'user' } });
    await request(t.url).get('/maybe').set('Authorization', `Bearer ${token}`).expect(200, { role: 'user' });
  });
});
