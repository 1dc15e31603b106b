import { Controller, Get } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { z } from 'zod';
import { Jwt, JwtRequired } from '../../lib/index.js';
import { ADAPTERS, useTestApp } from '../support/app.js';
import { bearer } from '../support/http.js';

/*
 * CONTRACT §7: "Objects handed to user code (exceptions' jwtHeader/jwtPayload, param decorators,
 * loaders) are copies or deeply frozen: nothing user code does to them changes what a later
 * request sees." §15: "The schema's output is what handlers and loaders see."
 *
 * A claimsSchema that produces a Set or a Date (z.string().transform(s => new Set(...)),
 * z.coerce.date()) hands handlers objects whose contents Object.freeze does not protect: with the
 * verified-token cache on (the default), the cached payload keeps the very same Set/Date, so a
 * handler that changes it changes what the next request with that token sees (its scopes, its
 * dates). With `tokenCacheSize: 0` each request gets its own; the two modes differ.
 */
const schema = z.object({
  scopes: z.string().transform((s) => new Set(s.split(' '))),
  since: z.coerce.date(),
});

@Controller()
class ScopesController {
  @Get('scopes')
  @JwtRequired()
  scopes(@Jwt('scopes') scopes: Set<string>, @Jwt('since') since: Date) {
    const seen = { scopes: [...scopes].toSorted(), since: since.toISOString() };
    // Handler code working on what it was given (a later request must not see this).
    try {
      scopes.add('admin');
    } catch {
      /* refusing the change is fine too */
    }
    try {
      since.setUTCFullYear(1970);
    } catch {
      /* idem */
    }
    return seen;
  }
}

describe.each(ADAPTERS)('claimsSchema output that is a Set or a Date (%s)', (adapter) => {
  const t = useTestApp(adapter, { controllers: [ScopesController], options: { claimsSchema: schema } });

  it('what one request does to it never reaches the next request with the same token', async () => {
    const token = await t.jwt.createAccessToken('alice', {
      additionalClaims: { scopes: 'read write', since: '2024-05-01T00:00:00.000Z' },
    });
    const expected = { scopes: ['read', 'write'], since: '2024-05-01T00:00:00.000Z' };
    const first = await request(t.url).get('/scopes').set(bearer(token));
    expect(first.body).toEqual(expected);
    const second = await request(t.url).get('/scopes').set(bearer(token));
    expect(second.body).toEqual(expected);
  });
});
