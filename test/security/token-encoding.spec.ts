import { beforeAll, describe, expect, it } from '@jest/globals';
import * as fc from 'fast-check';
import { createHmac } from 'node:crypto';
import request from 'supertest';
import { JwtDecodeException } from '../../lib/index.js';
import { ADAPTERS, SECRET, useTestApp } from '../support/app.js';
import { now } from '../support/forge.js';
import { bearer, expectResponse } from '../support/http.js';
import { createService } from '../support/service.js';
import { TargetController, protectedAnswer } from '../support/routes.js';

/*
 * Defect 9.9: a segment must be canonical base64url (no set unused bits in its last character,
 * which would give one token several spellings) and decode to valid UTF-8 (a lenient decoder
 * turns invalid sequences into U+FFFD, so different bytes would read as the same claims).
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Every other spelling of a canonical segment that a lenient decoder reads as the same bytes. */
function nonCanonicalSpellings(segment: string): string[] {
  const unused = { 0: 0, 2: 0b1111, 3: 0b11 }[segment.length % 4] ?? 0;
  const last = ALPHABET.indexOf(segment.at(-1)!);
  const spellings: string[] = [];
  for (let bits = 1; bits <= unused; bits++) spellings.push(segment.slice(0, -1) + ALPHABET[last | bits]);
  return spellings;
}

const segment = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64url');
const sign = (input: string) => createHmac('sha256', SECRET).update(input).digest('base64url');
/** A correctly signed token made of exactly these segments. */
const token = (header: string, payload: string) => `${header}.${payload}.${sign(`${header}.${payload}`)}`;

const HEADER = segment('{"alg":"HS256"}');
/** Payload JSON whose base64url length leaves remainder `rest` (0, 2 or 3) when divided by 4. */
function payloadJson(rest: 0 | 2 | 3, extra = ''): string {
  for (let pad = 0; ; pad++) {
    const json = `{"sub":"enc","iat":${now()},"exp":${now() + 600}${extra},"p":"${'x'.repeat(pad)}"}`;
    if (segment(json).length % 4 === rest) return json;
  }
}

/** Bytes that are not UTF-8, by kind. */
const INVALID_UTF8: [string, number[]][] = [
  ['lone continuation byte', [0x80]],
  ['0xFF', [0xff]],
  ['overlong "/" in 2 bytes', [0xc0, 0xaf]],
  ['overlong "/" in 3 bytes', [0xe0, 0x80, 0xaf]],
  ['overlong NUL in 4 bytes', [0xf0, 0x80, 0x80, 0x80]],
  ['lone high surrogate (CESU-8)', [0xed, 0xa0, 0x80]],
  ['lone low surrogate (CESU-8)', [0xed, 0xb0, 0x80]],
  ['surrogate pair encoded as CESU-8', [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80]],
  ['code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ['5-byte form', [0xf8, 0x88, 0x80, 0x80, 0x80]],
  ['truncated 3-byte sequence', [0xe2, 0x82]],
  ['truncated 4-byte sequence at the end of a string', [0xf0, 0x9f, 0x98]],
];

/** JSON bytes with `inner` spliced inside a string value. */
const withBytes = (before: string, inner: number[], after: string) =>
  Buffer.concat([Buffer.from(before), Buffer.from(inner), Buffer.from(after)]);

describe.each(ADAPTERS)('token encoding over HTTP (%s)', (adapter) => {
  const t = useTestApp(adapter, { controllers: [TargetController] });

  const expectRefused = (candidate: string, msg: string) =>
    expectResponse(request(t.url).get('/protected').set(bearer(candidate)), 422, { msg }, []);
  /** Every accepted token here is an access token of the subject 'enc' (payloadJson). */
  const expectAccepted = (candidate: string) =>
    expectResponse(request(t.url).get('/protected').set(bearer(candidate)), 200, protectedAnswer('enc'), 'protected');

  it.each([2, 3] as const)('payload segment of length ≡ %i (mod 4) with unused bits set: 422', async (rest) => {
    const payload = segment(payloadJson(rest));
    await expectAccepted(token(HEADER, payload));
    const spellings = nonCanonicalSpellings(payload);
    expect(spellings).toHaveLength(rest === 2 ? 15 : 3);
    for (const spelling of spellings) {
      expect(Buffer.from(spelling, 'base64url')).toEqual(Buffer.from(payload, 'base64url'));
      await expectRefused(token(HEADER, spelling), 'Invalid payload padding');
    }
  });

  it.each([2, 3] as const)('header segment of length ≡ %i (mod 4) with unused bits set: 422', async (rest) => {
    const payload = segment(payloadJson(0));
    let header = HEADER;
    // Padded with a member of no meaning: a kid would name a key this app does not have (§11).
    for (let pad = 0; header.length % 4 !== rest; pad++) header = segment(`{"alg":"HS256","pad":"${'k'.repeat(pad)}"}`);
    await expectAccepted(token(header, payload));
    for (const spelling of nonCanonicalSpellings(header)) {
      await expectRefused(token(spelling, payload), 'Invalid header padding');
    }
  });

  it('signature with unused bits set (an HS256 signature is 43 characters): 422', async () => {
    const genuine = token(HEADER, segment(payloadJson(0)));
    await expectAccepted(genuine);
    const [h, p, s] = genuine.split('.');
    expect(s.length % 4).toBe(3);
    for (const spelling of nonCanonicalSpellings(s)) await expectRefused(`${h}.${p}.${spelling}`, 'Invalid crypto padding');
    // a genuine token created by the app, with its signature respelled
    const created = await t.jwt.createAccessToken('me');
    const [ch, cp, cs] = created.split('.');
    for (const spelling of nonCanonicalSpellings(cs)) await expectRefused(`${ch}.${cp}.${spelling}`, 'Invalid crypto padding');
  });

  it.each(INVALID_UTF8)('payload with %s inside a claim: 422, never U+FFFD', async (_name, bytes) => {
    const json = withBytes(`{"sub":"adm`, bytes, `in","iat":${now()},"exp":${now() + 600}}`);
    await expectRefused(token(HEADER, segment(json)), 'Invalid payload string: must be UTF-8');
  });

  it.each(INVALID_UTF8)('payload with %s in a member name: 422', async (_name, bytes) => {
    const json = withBytes(`{"sub":"a","`, bytes, `":1}`);
    await expectRefused(token(HEADER, segment(json)), 'Invalid payload string: must be UTF-8');
  });

  it.each(INVALID_UTF8)('header with %s: 422', async (_name, bytes) => {
    const header = withBytes('{"alg":"HS256","kid":"', bytes, '"}');
    await expectRefused(token(segment(header), segment(payloadJson(0))), 'Invalid header string: must be UTF-8');
  });

  it('valid multi-byte UTF-8 (2, 3 and 4 bytes, U+10FFFF, a BOM-like U+FEFF inside a string) is accepted', async () => {
    for (const text of ['é', '€', '😀', '\u{10FFFF}', 'a\uFEFFb', 'ü'.repeat(50)]) {
      const json = `{"sub":"${text}","iat":${now()},"exp":${now() + 600}}`;
      await expectResponse(
        request(t.url)
          .get('/protected')
          .set(bearer(token(HEADER, segment(json)))),
        200,
        protectedAnswer(text),
        'protected',
      );
    }
  });
});

describe('properties of the decoder', () => {
  let jwt: Awaited<ReturnType<typeof createService>>;
  beforeAll(async () => {
    jwt = await createService({ secretKey: SECRET, tokenCacheSize: 0 });
  });

  const outcome = (candidate: string) =>
    jwt.decodeToken(candidate).then(
      () => 'accepted',
      (error: unknown) => (error instanceof JwtDecodeException ? error.reason : `unexpected ${String(error)}`),
    );

  it('a token has exactly one spelling: every respelled segment is refused', async () => {
    const claims = fc.dictionary(
      fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !['sub', 'exp', 'nbf', 'iat', 'aud', 'iss'].includes(k)),
      fc.jsonValue({ maxDepth: 2 }),
      { maxKeys: 4 },
    );
    await fc.assert(
      fc.asyncProperty(claims, fc.string({ maxLength: 20 }), async (extra, sub) => {
        const header = segment(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
        const payload = segment(JSON.stringify({ ...extra, sub }));
        const genuine = token(header, payload);
        expect(await outcome(genuine)).toBe('accepted');
        const signature = genuine.split('.')[2];
        for (const h of nonCanonicalSpellings(header)) expect(await outcome(token(h, payload))).toBe('Invalid header padding');
        for (const p of nonCanonicalSpellings(payload)) expect(await outcome(token(header, p))).toBe('Invalid payload padding');
        for (const s of nonCanonicalSpellings(signature)) {
          expect(await outcome(`${header}.${payload}.${s}`)).toBe('Invalid crypto padding');
        }
      }),
      { numRuns: 200 },
    );
  });

  it('claim bytes are accepted exactly when they are UTF-8 (WHATWG fatal decoder as the oracle)', async () => {
    const strict = new TextDecoder('utf-8', { fatal: true });
    const isUtf8 = (bytes: Uint8Array) => {
      try {
        strict.decode(bytes);
        return true;
      } catch {
        return false;
      }
    };
    // bytes that JSON allows raw inside a string (no control characters, quote or backslash)
    const stringBytes = fc
      .uint8Array({ maxLength: 24 })
      .map((bytes) => bytes.map((b) => (b < 0x20 || b === 0x22 || b === 0x5c ? 0x61 : b)));
    await fc.assert(
      fc.asyncProperty(stringBytes, async (bytes) => {
        const json = withBytes('{"sub":"s","x":"', [...bytes], '"}');
        expect(await outcome(token(HEADER, segment(json)))).toBe(isUtf8(bytes) ? 'accepted' : 'Invalid payload string: must be UTF-8');
      }),
      { numRuns: 1000 },
    );
  });
});
