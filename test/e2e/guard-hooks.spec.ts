import { Controller, type ExecutionContext, Get, Injectable, UseGuards } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { JwtGuard, JwtIdentity, type HttpRequestLike } from '../../lib/index.js';
import { ADAPTERS, createTestApp, type TestApp } from '../support/app.js';

let runs = 0;

/** A guard for a gateway that forwards the caller's token in its own header. */
@Injectable()
class ForwardedTokenGuard extends JwtGuard {
  protected override getRequest(context: ExecutionContext): HttpRequestLike {
    const req = super.getRequest(context);
    const forwarded = req.headers['x-forwarded-authorization'];
    if (typeof forwarded === 'string') req.headers.authorization = forwarded;
    return req;
  }
}

@Controller()
class GatewayController {
  @Get('forwarded')
  @UseGuards(ForwardedTokenGuard)
  forwarded(@JwtIdentity() id: unknown) {
    runs++;
    return { id };
  }
}

describe.each(ADAPTERS)('JwtGuard.getRequest hook (%s)', (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(adapter, { controllers: [GatewayController], providers: [ForwardedTokenGuard] });
  });
  afterAll(() => t.close());

  it('a subclass decides where the request comes from; the checks and param decorators are the library’s', async () => {
    const token = await t.jwt.createAccessToken('alice');
    const before = runs;
    const ok = await request(t.url).get('/forwarded').set('X-Forwarded-Authorization', `Bearer ${token}`);
    expect({ status: ok.status, body: ok.body }).toEqual({ status: 200, body: { id: 'alice' } });
    const missing = await request(t.url).get('/forwarded');
    expect({ status: missing.status, body: missing.body }).toEqual({ status: 401, body: { msg: 'Missing Authorization Header' } });
    const bad = await request(t.url).get('/forwarded').set('X-Forwarded-Authorization', 'Bearer x.y.z');
    expect(bad.status).toBe(422);
    expect(runs).toBe(before + 1);
  });
});
