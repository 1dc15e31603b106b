import { Controller, Get, Injectable } from '@nestjs/common';
import { beforeAll, describe, expect, it } from '@jest/globals';
import * as fc from 'fast-check';
import request from 'supertest';
import {
  type DecodeKeyLoader,
  JwtExtendedException,
  type JwtExtendedOptions,
  JwtExtendedService,
  JwtIdentity,
  JwtLocation,
  JwtRequired,
} from '../../lib/index.js';
import { ADAPTERS, SECRET, useTestApp } from '../support/app.js';
import { bearer, expectResponse, handlerRuns } from '../support/http.js';
import { createService } from '../support/service.js';

/*
 * Every request input is parsed in time linear in its size (CONTRACT §7). Jest's timeout is the
 * bound: a parser that backtracks quadratically spends minutes on 1 MB (and ~0.25 s on 16 KB).
 */

const MB = 1 << 20;
/** `unit` repeated to at least `size` characters. */
const fill = (unit: string, size = MB) => unit.repeat(Math.ceil(size / unit.length));

/**
 * Lets the timers run after each parse: a parse that held the event loop past Jest's timeout then
 * fails the test instead of finishing first in the microtask queue.
 */
const yieldToTimers = () => new Promise((resolve) => setImmediate(resolve));

type Outcome = { sub: unknown; location: unknown } | { error: string; status: number; msg: string };

async function outcome(jwt: JwtExtendedService, req: object): Promise<Outcome> {
  try {
    const verified = await jwt.verifyJwtInRequest(req);
    return { sub: verified?.payload.sub, location: jwt.getJwtRequestLocation(req) };
  } catch (error) {
    if (!(error instanceof JwtExtendedException)) throw error;
    return { error: error.name, status: error.getStatus(), msg: (error.getResponse() as { msg: string }).msg };
  } finally {
    await yieldToTimers();
  }
}

const missing = (msg: string) => ({ error: 'NoAuthorizationException', status: 401, msg });
const badHeader = (msg = "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'") => ({
  error: 'InvalidHeaderException',
  status: 422,
  msg,
});
const tooLong = { error: 'JwtDecodeException', status: 422, msg: 'Token is too long' };
const MISSING_HEADER = missing('Missing Authorization Header');
const MISSING_BEARER = missing("Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'");
const MISSING_COOKIE = missing('Missing cookie "access_token_cookie"');
const MISSING_QUERY = missing("Missing 'jwt' query parameter");
const BAD_CONTENT_TYPE = missing('Invalid content-type. Must be application/json.');

describe('1 MB of hostile input through verifyJwtInRequest', () => {
  const services: Record<string, JwtExtendedService> = {};
  let token: string;
  const alice = (location: string) => ({ sub: 'alice', location });

  beforeAll(async () => {
    const configs: Record<string, JwtExtendedOptions> = {
      headers: {},
      bare: { headerType: '' },
      cookies: { tokenLocation: 'cookies' },
      query: { tokenLocation: 'query_string' },
      json: { tokenLocation: 'json' },
      all: { tokenLocation: ['headers', 'cookies', 'query_string', 'json'] },
    };
    for (const [name, options] of Object.entries(configs)) services[name] = await createService({ secretKey: SECRET, ...options });
    token = await services.headers.createAccessToken('alice');
  });

  const get = (headers: Record<string, string | string[]>, url = '/') => ({ method: 'GET', url, headers });

  describe('Authorization header', () => {
    const cases: [string, () => object, () => Outcome][] = [
      ['commas', () => get({ authorization: fill(',') }), () => MISSING_HEADER],
      ['spaces', () => get({ authorization: fill(' ') }), () => MISSING_HEADER],
      ['commas and spaces', () => get({ authorization: fill(', ') }), () => MISSING_HEADER],
      ['tabs, commas and spaces', () => get({ authorization: fill('\t, ') }), () => MISSING_HEADER],
      ['a word, commas, a word', () => get({ authorization: `x${fill(',')}x` }), () => MISSING_BEARER],
      ['a word, spaces, a word', () => get({ authorization: `x${fill(' ')}x` }), () => MISSING_BEARER],
      ['Basic, then " ," runs', () => get({ authorization: `Basic x${fill(' ,')}y` }), () => MISSING_BEARER],
      ['Bearer <JWT>, then commas and a word', () => get({ authorization: `Bearer ${token}${fill(',')}x` }), () => alice('headers')],
      ['Bearer, 1 MB of spaces, <JWT>', () => get({ authorization: `Bearer${fill(' ')}${token}` }), () => alice('headers')],
      [
        'commas and spaces around Bearer <JWT>',
        () => get({ authorization: `${fill(', ')}Bearer\t${fill('\t ', 1000)}${token}${fill(' ,')}` }),
        () => alice('headers'),
      ],
      ['"Bearer " repeated', () => get({ authorization: fill('Bearer ') }), () => badHeader()],
      ['"Bearer," repeated', () => get({ authorization: fill('Bearer,') }), () => MISSING_BEARER],
      ['Bearer <JWT> then ", Bearer" repeated', () => get({ authorization: `Bearer ${token}${fill(', Bearer')}` }), () => MISSING_BEARER],
      ['Bearer and a 1 MB token', () => get({ authorization: `Bearer ${fill('a')}` }), () => tooLong],
      ['repeated headers: commas, then Bearer <JWT>', () => get({ authorization: [fill(','), `Bearer ${token}`] }), () => alice('headers')],
    ];
    it.each(cases)('%s', async (_, req, expected) => expect(await outcome(services.headers, req())).toEqual(expected()));
  });

  describe("headerType ''", () => {
    const bad = badHeader("Bad Authorization header. Expected 'Authorization: <JWT>'");
    it('spaces, <JWT>, commas', async () =>
      expect(await outcome(services.bare, get({ authorization: `${fill(' ')}${token}${fill(',')}` }))).toEqual(alice('headers')));
    it('a word, spaces, a word', async () => expect(await outcome(services.bare, get({ authorization: `x${fill(' ')}y` }))).toEqual(bad));
    it('words and spaces', async () => expect(await outcome(services.bare, get({ authorization: fill('a ') }))).toEqual(bad));
    it('commas and spaces', async () => expect(await outcome(services.bare, get({ authorization: fill(' ,') }))).toEqual(MISSING_HEADER));
  });

  describe('Cookie header', () => {
    const cases: [string, () => string, () => Outcome][] = [
      ['semicolons', () => fill(';'), () => MISSING_COOKIE],
      ['equals signs', () => fill('='), () => MISSING_COOKIE],
      ['"=;" repeated', () => fill('=;'), () => MISSING_COOKIE],
      ['" ; = " repeated', () => fill(' ; = '), () => MISSING_COOKIE],
      ['no "=" at all', () => fill('a'), () => MISSING_COOKIE],
      ['names without values, then "="', () => `${fill('a;')}=`, () => MISSING_COOKIE],
      ['other cookies, then the token cookie', () => `${fill('a=b; ')}access_token_cookie=${token}`, () => alice('cookies')],
      ['spaces inside the name part', () => `access_token_cookie${fill(' ')}=${token}`, () => alice('cookies')],
      ['a value of quotes', () => `access_token_cookie="${fill('"')}`, () => tooLong],
      ['a value of percent signs', () => `access_token_cookie=${fill('%')}`, () => tooLong],
    ];
    it.each(cases)('%s', async (_, cookie, expected) =>
      expect(await outcome(services.cookies, get({ cookie: cookie() }))).toEqual(expected()),
    );
    it('a 1 MB CSRF header on a POST', async () =>
      expect(
        await outcome(services.cookies, {
          method: 'POST',
          headers: { cookie: `access_token_cookie=${token}`, 'x-csrf-token': fill('a-') },
        }),
      ).toEqual({ error: 'CsrfException', status: 401, msg: 'CSRF double submit tokens do not match' }));
  });

  describe('query string (parsed from the URL)', () => {
    const cases: [string, () => string, () => Outcome][] = [
      ['ampersands, then jwt=<JWT>', () => `/?${fill('&')}jwt=${token}`, () => alice('query_string')],
      ['"jwt" repeated', () => `/?${fill('jwt')}`, () => MISSING_QUERY],
      ['equals signs', () => `/?${fill('=')}`, () => MISSING_QUERY],
      ['a value of percent signs', () => `/?jwt=${fill('%')}`, () => tooLong],
    ];
    it.each(cases)('%s', async (_, url, expected) => expect(await outcome(services.query, get({}, url()))).toEqual(expected()));
  });

  describe('Content-Type of the json location', () => {
    const cases: [string, () => string, () => Outcome][] = [
      ['application/ + plus signs + json', () => `application/${fill('+')}json`, () => alice('json')],
      ['application/ + plus signs + x', () => `application/${fill('+')}x`, () => BAD_CONTENT_TYPE],
      ['application/ + "a+" repeated + json', () => `application/${fill('a+')}json`, () => alice('json')],
      ['application/json, spaces, parameters', () => `application/json${fill(' ')}; charset=utf-8`, () => alice('json')],
      ['application/json, spaces, a word', () => `application/json${fill(' ')}x`, () => BAD_CONTENT_TYPE],
      ['text/plain and semicolons', () => `text/plain${fill(';')}`, () => BAD_CONTENT_TYPE],
      ['semicolons, then application/json', () => `${fill(';')}application/json`, () => BAD_CONTENT_TYPE],
    ];
    it.each(cases)('%s', async (_, contentType, expected) =>
      expect(
        await outcome(services.json, { method: 'POST', headers: { 'content-type': contentType() }, body: { access_token: token } }),
      ).toEqual(expected()),
    );
  });

  it('every location hostile at once', async () =>
    expect(
      await outcome(services.all, {
        method: 'POST',
        url: `/?${fill('&=')}`,
        headers: { authorization: `x${fill(', ')}x`, cookie: fill('; ='), 'content-type': `application/${fill('+')}x` },
        body: { access_token: token },
      }),
    ).toEqual(
      missing(
        'Missing JWT in headers, cookies, query_string or json (' +
          "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'; " +
          'Missing cookie "access_token_cookie"; ' +
          "Missing 'jwt' query parameter; " +
          'Invalid content-type. Must be application/json.)',
      ),
    ));
});

/*
 * The scanners must answer exactly like the regular expressions they replaced (kept here as the
 * reference: fine on short input): random short inputs built from the characters that matter.
 */
describe('the scanners agree with the reference parsers on short input', () => {
  let jwt: JwtExtendedService;
  let bare: JwtExtendedService;
  let cookies: JwtExtendedService;
  let json: JwtExtendedService;
  let token: string;
  beforeAll(async () => {
    jwt = await createService({ secretKey: SECRET });
    bare = await createService({ secretKey: SECRET, headerType: '' });
    cookies = await createService({ secretKey: SECRET, tokenLocation: 'cookies' });
    json = await createService({ secretKey: SECRET, tokenLocation: 'json' });
    token = await jwt.createAccessToken('alice');
  });

  type Expected = 'missing header' | 'missing type' | 'bad header' | { token: string };

  /** The header rules of CONTRACT §6/§8, as the library implemented them with regular expressions. */
  function referenceHeader(value: string, headerType: string): Expected {
    const raw = value.replace(/^[\s,]+|[\s,]+$/g, '');
    if (!raw) return 'missing header';
    if (headerType === '') return raw.split(/\s+/).length === 1 ? { token: raw } : 'bad header';
    const credentials = raw
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part.split(/\s/, 1)[0].toLowerCase() === headerType.toLowerCase());
    if (credentials.length !== 1) return 'missing type';
    const words = credentials[0].split(/\s+/);
    return words.length === 2 ? { token: words[1] } : 'bad header';
  }

  /** What verifyJwtInRequest answered, in the reference's terms (a token other than ours fails to decode). */
  async function observed(service: JwtExtendedService, req: object): Promise<string> {
    try {
      await service.verifyJwtInRequest(req);
      return 'accepted';
    } catch (error) {
      if (!(error instanceof JwtExtendedException)) throw error;
      return `${error.name}: ${error.reason}`;
    }
  }

  function expectedAnswer(expected: Expected, headerType: string): string {
    const scheme = headerType === '' ? '' : `${headerType} `;
    if (expected === 'missing header') return 'NoAuthorizationException: Missing Authorization Header';
    if (expected === 'missing type')
      return `NoAuthorizationException: Missing '${headerType}' type in 'Authorization' header. Expected 'Authorization: ${headerType} <JWT>'`;
    if (expected === 'bad header') return `InvalidHeaderException: Bad Authorization header. Expected 'Authorization: ${scheme}<JWT>'`;
    return expected.token === token ? 'accepted' : 'JwtDecodeException';
  }

  const pieces = (...words: string[]) =>
    fc
      .array(fc.constantFrom(...words, ' ', '  ', '\t', ',', ', ', ' ,', '\u00a0', '\u2028', '\ufeff'), { maxLength: 12 })
      .map((parts) => parts.join(''));

  it.each([
    ['Bearer', () => jwt],
    ['', () => bare],
  ])('Authorization header (headerType %j)', async (headerType, service) => {
    await fc.assert(
      fc.asyncProperty(pieces('Bearer', 'bEARER', 'Bearerx', 'Basic', 'x', 'TOKEN'), async (shape) => {
        const value = shape.replaceAll('TOKEN', token);
        const answer = await observed(service(), { method: 'GET', headers: { authorization: value } });
        const expected = expectedAnswer(referenceHeader(value, headerType), headerType);
        if (expected === 'JwtDecodeException') expect(answer).toMatch(/^JwtDecodeException: /);
        else expect(answer).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  /** The cookie rules as the library implemented them with split(';'). */
  function referenceCookie(header: string, name: string): string | undefined {
    for (const pair of header.split(';')) {
      const eq = pair.indexOf('=');
      if (eq < 0 || pair.slice(0, eq).trim() !== name) continue;
      let value = pair.slice(eq + 1).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      if (!value.includes('%')) return value;
      try {
        return decodeURIComponent(value);
      } catch {
        return value;
      }
    }
    return undefined;
  }

  it('Cookie header', async () => {
    const cookieName = 'access_token_cookie';
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(cookieName, 'other', '=', ';', '; ', ' ', '"', '%', '%41', 'TOKEN', '"TOKEN"'), { maxLength: 12 }),
        async (parts) => {
          const header = parts.join('').replaceAll('TOKEN', token);
          const answer = await observed(cookies, { method: 'GET', headers: { cookie: header } });
          const value = referenceCookie(header, cookieName);
          if (!value) expect(answer).toBe('NoAuthorizationException: Missing cookie "access_token_cookie"');
          else if (value === token) expect(answer).toBe('accepted');
          else expect(answer).toMatch(/^JwtDecodeException: /);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('Content-Type of the json location', async () => {
    const reference = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('application/', 'APPLICATION/', 'json', 'JSON', '+', 'a', '.', '-', '_', ' ', '\t', ';', 'text/', 'x'), {
          maxLength: 8,
        }),
        async (parts) => {
          const contentType = parts.join('');
          const answer = await observed(json, { method: 'POST', headers: { 'content-type': contentType }, body: { access_token: token } });
          expect(answer).toBe(
            reference.test(contentType) ? 'accepted' : 'NoAuthorizationException: Invalid content-type. Must be application/json.',
          );
        },
      ),
      { numRuns: 500 },
    );
  });
});

@Controller()
class HostileController {
  @Get('protected')
  @JwtRequired()
  protectedRoute(@JwtIdentity() id: unknown, @JwtLocation() location: unknown) {
    handlerRuns.record('protected');
    return { id, location };
  }
}

/** Node's HTTP server caps a request's head at 16 KB: each hostile value takes up 15 KB of it. */
const HEAD_ROOM = 15 * 1024;
/** Requests per shape, sent ten at a time. */
const REPEAT = 20;

describe.each(ADAPTERS)('16 KB of hostile headers over HTTP (%s)', (adapter) => {
  const t = useTestApp(adapter, {
    controllers: [HostileController],
    options: { tokenLocation: ['headers', 'cookies', 'query_string'] },
  });
  let token: string;
  beforeAll(async () => {
    token = await t.jwt.createAccessToken('alice');
  });

  const noToken = (headerReason: string) =>
    'Missing JWT in headers, cookies or query_string (' +
    `${headerReason}; Missing cookie "access_token_cookie"; Missing 'jwt' query parameter)`;
  const NO_BEARER = noToken("Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'");

  /** Sends `send()` REPEAT times, ten at a time; checks every answer, and that the handler ran once per 200. */
  async function expectEach(send: () => request.Test, status: number, body: unknown) {
    const { ran } = await handlerRuns.during(async () => {
      for (let sent = 0; sent < REPEAT; sent += 10) {
        const responses = await Promise.all(Array.from({ length: 10 }, send));
        for (const res of responses) expect({ status: res.status, body: res.body }).toEqual({ status, body });
      }
    });
    expect(ran).toEqual(Array.from({ length: status === 200 ? REPEAT : 0 }, () => 'protected'));
  }
  const withHeader = (name: string, value: string) => () => request(t.url).get('/protected').set(name, value);

  it('a word, commas, a word', () => expectEach(withHeader('Authorization', `x${fill(',', HEAD_ROOM)}x`), 401, { msg: NO_BEARER }));
  it('a word, spaces, a word', () => expectEach(withHeader('Authorization', `x${fill(' ', HEAD_ROOM)}x`), 401, { msg: NO_BEARER }));
  it('Basic, then " ," runs', () => expectEach(withHeader('Authorization', `Basic x${fill(' ,', HEAD_ROOM)}y`), 401, { msg: NO_BEARER }));
  it('commas and spaces only', () =>
    expectEach(withHeader('Authorization', `,${fill(', ', HEAD_ROOM)},`), 401, { msg: noToken('Missing Authorization Header') }));
  it('"Bearer " repeated', () =>
    expectEach(withHeader('Authorization', fill('Bearer ', HEAD_ROOM)), 422, {
      msg: "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'",
    }));
  it('Bearer <JWT> among commas and spaces', () =>
    expectEach(withHeader('Authorization', `Bearer ${token}${fill(' ,', HEAD_ROOM - 1024)}x`), 200, { id: 'alice', location: 'headers' }));
  it('Bearer, spaces, <JWT>', () =>
    expectEach(withHeader('Authorization', `Bearer${fill('\t ', HEAD_ROOM - 1024)}${token}`), 200, { id: 'alice', location: 'headers' }));
  it('cookies: semicolons and equals signs', () =>
    expectEach(withHeader('Cookie', fill('; =', HEAD_ROOM)), 401, { msg: noToken('Missing Authorization Header') }));
  it('cookies: many cookies, then the token cookie', () =>
    expectEach(withHeader('Cookie', `${fill('a=b; ', HEAD_ROOM - 1024)}access_token_cookie=${token}`), 200, {
      id: 'alice',
      location: 'cookies',
    }));
  // One long parameter: Express's query parser stops after 1000 parameters, whoever parses it.
  it('query string: a parameter of equals signs and commas, then jwt=<JWT>', () =>
    expectEach(() => request(t.url).get(`/protected?pad=${fill('=,', HEAD_ROOM - 1024)}&jwt=${token}`), 200, {
      id: 'alice',
      location: 'query_string',
    }));

  it('a flood of 200 hostile requests, 20 at a time, then a valid one', async () => {
    // ~0.2 s each for a parser that backtracks on runs of commas and spaces: 40 s of stalled event loop.
    const shapes = [
      `x${fill(',', HEAD_ROOM)}x`,
      `x${fill(' ', HEAD_ROOM)}x`,
      `Basic x${fill(' ,', HEAD_ROOM)}y`,
      `x${fill(', ', HEAD_ROOM)}x`,
    ];
    const { ran } = await handlerRuns.during(async () => {
      for (let sent = 0; sent < 200; sent += 20) {
        const responses = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            request(t.url)
              .get('/protected')
              .set('Authorization', shapes[i % shapes.length]),
          ),
        );
        for (const res of responses) expect({ status: res.status, body: res.body }).toEqual({ status: 401, body: { msg: NO_BEARER } });
      }
    });
    expect(ran).toEqual([]);
    await expectResponse(request(t.url).get('/protected').set(bearer(token)), 200, { id: 'alice', location: 'headers' }, 'protected');
  });
});

/*
 * A header token is never scanned for whitespace when it decodes (the compact form has none): the
 * header's own 422 is given once decoding failed. The answer must not depend on that order.
 */
describe('whitespace inside the header token', () => {
  const WHITESPACE = [' ', '\t', '\u000b', '\u000c', '\u00a0', '\u1680', '\u2003', '\u2028', '\u2029', '\u202f', '\u3000', '\ufeff'];

  it.each([
    ['Bearer', 'Bearer '],
    ["''", ''],
  ])('headerType %s: 422 Bad header wherever the whitespace is, the token cached or not, the key loader never asked', async (_, scheme) => {
    const headerType = scheme.trim();
    let keyRequests = 0;
    @Injectable()
    class CountingKeys implements DecodeKeyLoader {
      decodeKey() {
        keyRequests++;
        return SECRET;
      }
    }
    const cached = await createService({ secretKey: SECRET, headerType });
    const loaded = await createService({ secretKey: SECRET, headerType }, { decodeKey: CountingKeys });
    const token = await cached.createAccessToken('alice');
    const expected = badHeader(`Bad Authorization header. Expected 'Authorization: ${scheme}<JWT>'`);
    for (const jwt of [cached, loaded]) {
      // verified (and cached) first: whitespace must not let the cached token through
      expect(await outcome(jwt, { method: 'GET', headers: { authorization: `${scheme}${token}` } })).toEqual({
        sub: 'alice',
        location: 'headers',
      });
      for (const space of WHITESPACE) {
        const dot = token.indexOf('.');
        for (const value of [
          `${token}${space}x`,
          `${token.slice(0, dot)}${space}${token.slice(dot)}`,
          `${token}${space}${token}`,
          `x${space}${token}`,
        ]) {
          expect(await outcome(jwt, { method: 'GET', headers: { authorization: `${scheme}${value}` } })).toEqual(expected);
        }
        // longer than maxTokenLength: still the header's error
        expect(await outcome(jwt, { method: 'GET', headers: { authorization: `${scheme}${token}${space}${'a'.repeat(9000)}` } })).toEqual(
          expected,
        );
      }
    }
    expect(keyRequests).toBe(1);
  });
});
