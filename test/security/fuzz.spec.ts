import { beforeAll, describe, expect, it } from '@jest/globals';
import * as fc from 'fast-check';
import request from 'supertest';
import { JwtExtendedException } from '../../lib/index.js';
import { ADAPTERS, SECRET, useTestApp } from '../support/app.js';
import { handlerRuns } from '../support/http.js';
import { createService } from '../support/service.js';
import { TargetController } from '../support/routes.js';

/** A valid token, then the same with random edits: the decoder must refuse all but the original. */
function mutations(token: string) {
  return fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.string({ unit: 'binary', maxLength: 100 }),
    fc
      .tuple(fc.nat(token.length - 1), fc.string({ minLength: 1, maxLength: 3 }))
      .map(([i, s]) => token.slice(0, i) + s + token.slice(i + 1)),
    fc.tuple(fc.nat(token.length - 1), fc.nat(token.length)).map(([a, b]) => token.slice(0, Math.min(a, b)) + token.slice(Math.max(a, b))),
    fc
      .array(
        fc.base64String({ maxLength: 80 }).map((s) => s.replace(/\+/g, '-').replace(/\//g, '_').replace(/=/g, '')),
        { minLength: 1, maxLength: 5 },
      )
      .map((parts) => parts.join('.')),
    fc
      .tuple(fc.json(), fc.json())
      .map(([h, p]) => `${Buffer.from(h).toString('base64url')}.${Buffer.from(p).toString('base64url')}.${token.split('.')[2]}`),
  );
}

describe('decoder property: random input is always refused with a library exception', () => {
  it('never throws anything else, never accepts a changed token', async () => {
    const jwt = await createService({ secretKey: SECRET });
    const token = await jwt.createAccessToken('fuzz');
    await fc.assert(
      fc.asyncProperty(mutations(token), async (candidate) => {
        if (candidate === token) return;
        const outcome = await jwt.decodeToken(candidate).then(
          () => 'accepted',
          (error: unknown) => (error instanceof JwtExtendedException ? error.getStatus() : `unexpected ${String(error)}`),
        );
        // Segments must be canonical base64url: no other spelling of the token is accepted.
        expect([401, 422]).toContain(outcome);
      }),
      { numRuns: 2000 },
    );
  });
});

describe.each(ADAPTERS)('header parser property over HTTP (%s)', (adapter) => {
  const t = useTestApp(adapter, { controllers: [TargetController] });
  let token: string;
  beforeAll(async () => {
    token = await t.jwt.createAccessToken('fuzz');
  });

  it('random Authorization headers never give a 500 or run the handler', async () => {
    const headerChars = fc.string({ unit: fc.constantFrom(...'abcXYZ019 ,;.=-_+/\t"\'Bearer'.split('')), maxLength: 60 });
    const header = fc.oneof(
      headerChars,
      headerChars.map((s) => `Bearer ${s}`),
      fc.tuple(headerChars, headerChars).map(([a, b]) => `${a}, Bearer ${b}`),
      mutations(token)
        .filter((s) => /^[\x21-\x7e ]*$/.test(s))
        .map((s) => `Bearer ${s}`),
    );
    await fc.assert(
      fc.asyncProperty(header, async (value) => {
        if (value.includes(token)) return;
        const { result: res, ran } = await handlerRuns.during(() => request(t.url).get('/protected').set('Authorization', value));
        expect({ value, refused: [401, 422].includes(res.status), ran }).toEqual({ value, refused: true, ran: [] });
      }),
      { numRuns: 300 },
    );
  });
});
