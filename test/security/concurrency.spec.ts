import { Controller, Get, Injectable } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { CurrentUser, JwtIdentity, JwtRequired, type JwtPayload, type JwtProtectedHeader, type UserLookupLoader } from '../../lib/index.js';
import { ADAPTERS, useTestApp } from '../support/app.js';
import { bearer } from '../support/http.js';

@Injectable()
class SlowLookup implements UserLookupLoader<{ name: string }> {
  async lookupUser(_header: JwtProtectedHeader, payload: JwtPayload) {
    // a random delay so that requests overtake each other inside the library
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 25)));
    return { name: `user-of-${String(payload.sub)}` };
  }
}

@Controller()
class WhoAmI {
  @Get('whoami')
  @JwtRequired()
  async whoami(@JwtIdentity() id: string, @CurrentUser() user: { name: string }) {
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 10)));
    return { id, user: user.name };
  }
}

describe.each(ADAPTERS)('concurrent requests never see each other (%s)', (adapter) => {
  const t = useTestApp(adapter, { controllers: [WhoAmI], loaders: { userLookup: SlowLookup } });

  it('200 parallel requests with different identities each get their own identity and user', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `id-${i}`);
    const tokens = await Promise.all(ids.map((id) => t.jwt.createAccessToken(id)));
    const agent = request.agent(t.url);
    const responses = await Promise.all(tokens.map((token) => agent.get('/whoami').set(bearer(token))));
    expect(responses.map((r) => r.status)).toEqual(ids.map(() => 200));
    expect(responses.map((r) => r.body)).toEqual(ids.map((id) => ({ id, user: `user-of-${id}` })));
  });
});
