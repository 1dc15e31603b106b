import { Controller, type ExecutionContext, Get, Injectable, UseGuards } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { JwtGuard, JwtIdentity, type HttpRequestLike } from '../../lib/index.js';
import { ADAPTERS, useTestApp } from '../support/app.js';
import { expectResponse, handlerRuns } from '../support/http.js';

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
    handlerRuns.record('forwarded');
    return { id };
  }
}

describe.each(ADAPTERS)('JwtGuard.getRequest hook (%s)', (adapter) => {
  const t = useTestApp(adapter, { controllers: [GatewayController], providers: [ForwardedTokenGuard] });

  it('a subclass decides where the request comes from; the checks and param decorators are the library’s', async () => {
    const token = await t.jwt.createAccessToken('alice');
    const forwarded = (authorization: string) => request(t.url).get('/forwarded').set('X-Forwarded-Authorization', authorization);
    await expectResponse(forwarded(`Bearer ${token}`), 200, { id: 'alice' }, 'forwarded');
    await expectResponse(request(t.url).get('/forwarded'), 401, { msg: 'Missing Authorization Header' }, []);
    await expectResponse(forwarded('Bearer x.y.z'), 422, { msg: expect.any(String) }, []);
  });
});
