import { Controller, Get, Post, Req } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { Jwt, JwtExtendedService, JwtIdentity, JwtRequired } from '../../lib/index.js';
import { ADAPTERS, useTestApp } from '../support/app.js';
import { bearer } from '../support/http.js';

@Controller()
class SmokeController {
  constructor(private readonly jwt: JwtExtendedService) {}
  @Post('login') async login() {
    return { access: await this.jwt.createAccessToken('alice') };
  }
  @Get('protected') @JwtRequired() protectedRoute(@JwtIdentity() id: unknown, @Jwt() jwt: Record<string, unknown>, @Req() req: object) {
    return { id, type: jwt.type, same: this.jwt.getJwtIdentity(req) === id };
  }
}

describe.each(ADAPTERS)('smoke (%s)', (adapter) => {
  const t = useTestApp(adapter, { controllers: [SmokeController] });

  it('logs in and reaches a protected route', async () => {
    const login = await request(t.url).post('/login').expect(201);
    const res = await request(t.url).get('/protected').set(bearer(login.body.access)).expect(200);
    expect(res.body).toEqual({ id: 'alice', type: 'access', same: true });
  });
  it('refuses without a token', async () => {
    const res = await request(t.url).get('/protected').expect(401);
    expect(res.body).toEqual({ msg: 'Missing Authorization Header' });
  });
});
