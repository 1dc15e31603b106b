import { Controller, Get, Head, Post } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { JwtExtendedException, type JwtExtendedOptions, JwtExtendedService, JwtIdentity, JwtRequired } from '../../lib/index.js';
import { ADAPTERS, SECRET, createTestApp, type TestApp } from '../support/app.js';
import { createService } from '../support/service.js';

const runs: string[] = [];

@Controller()
class MethodsController {
  @Get('page')
  @JwtRequired()
  page(@JwtIdentity() id: unknown) {
    runs.push('page');
    return { id };
  }
  @Head('probe')
  @JwtRequired()
  probe() {
    runs.push('probe');
  }
  @Post('page')
  @JwtRequired()
  post(@JwtIdentity() id: unknown) {
    runs.push('post');
    return { id };
  }
}

/** The exception verifyJwtInRequest rejects with, as "<class>: <message>", or 'accepted'. */
async function answer(jwt: JwtExtendedService, req: object): Promise<string> {
  try {
    await jwt.verifyJwtInRequest(req);
    return 'accepted';
  } catch (error) {
    if (!(error instanceof JwtExtendedException)) throw error;
    return `${error.name}: ${error.reason}`;
  }
}

/*
 * A HEAD request runs the GET handler (Express routes it there; Fastify exposes a HEAD route for
 * every GET route). When GET is among `csrfMethods`, a cross-site HEAD with the victim's cookie
 * must need the CSRF value too (CONTRACT §17).
 */
describe.each(ADAPTERS)('CSRF on HEAD requests (%s)', (adapter) => {
  describe("csrfMethods ['GET', 'POST']", () => {
    let t: TestApp;
    let access: string;
    let cookie: string;
    beforeAll(async () => {
      t = await createTestApp(adapter, {
        controllers: [MethodsController],
        options: { tokenLocation: 'cookies', csrfMethods: ['GET', 'POST'] },
      });
      access = await t.jwt.createAccessToken('alice');
      cookie = `access_token_cookie=${access}`;
    });
    afterAll(() => t.close());

    async function expectHead(path: string, csrf: string | undefined, status: number, ran: string[]) {
      runs.length = 0;
      const test = request(t.url).head(path).set('Cookie', cookie);
      const res = await (csrf === undefined ? test : test.set('X-CSRF-TOKEN', csrf));
      expect({ status: res.status, runs }).toEqual({ status, runs: ran });
    }

    it('HEAD on a GET route without the CSRF header: 401, the handler never runs', () => expectHead('/page', undefined, 401, []));
    it('HEAD on a GET route with an empty or wrong CSRF header: 401', async () => {
      await expectHead('/page', '', 401, []);
      await expectHead('/page', 'wrong', 401, []);
    });
    it('HEAD on a GET route with the CSRF header: runs', () => expectHead('/page', t.jwt.getCsrfToken(access), 200, ['page']));
    it('an explicit @Head() route is checked the same way', async () => {
      await expectHead('/probe', undefined, 401, []);
      await expectHead('/probe', t.jwt.getCsrfToken(access), 200, ['probe']);
    });
    it('GET is still checked', async () => {
      runs.length = 0;
      const get = await request(t.url).get('/page').set('Cookie', cookie);
      expect({ status: get.status, body: get.body, runs }).toEqual({ status: 401, body: { msg: 'Missing CSRF token' }, runs: [] });
    });
    it('verifyJwtInRequest on a HEAD request says why (any casing of the method)', async () => {
      for (const method of ['HEAD', 'head', 'Head']) {
        expect(await answer(t.jwt, { method, headers: { cookie } })).toBe('CsrfException: Missing CSRF token');
        expect(await answer(t.jwt, { method, headers: { cookie, 'x-csrf-token': 'wrong' } })).toBe(
          'CsrfException: CSRF double submit tokens do not match',
        );
        expect(await answer(t.jwt, { method, headers: { cookie, 'x-csrf-token': t.jwt.getCsrfToken(access) } })).toBe('accepted');
      }
    });
  });

  describe('default csrfMethods (GET not among them)', () => {
    let t: TestApp;
    let cookie: string;
    beforeAll(async () => {
      t = await createTestApp(adapter, { controllers: [MethodsController], options: { tokenLocation: 'cookies' } });
      cookie = `access_token_cookie=${await t.jwt.createAccessToken('alice')}`;
    });
    afterAll(() => t.close());

    it('HEAD, like GET, needs no CSRF value', async () => {
      runs.length = 0;
      const head = await request(t.url).head('/page').set('Cookie', cookie);
      const get = await request(t.url).get('/page').set('Cookie', cookie);
      expect({ head: head.status, get: get.status, runs }).toEqual({ head: 200, get: 200, runs: ['page', 'page'] });
    });
  });
});

describe('which methods csrfMethods covers', () => {
  const check = async (options: JwtExtendedOptions, methods: string[]) => {
    const jwt = await createService({ secretKey: SECRET, tokenLocation: 'cookies', ...options });
    const cookie = `access_token_cookie=${await jwt.createAccessToken('alice')}`;
    const checked: string[] = [];
    for (const method of methods) {
      if ((await answer(jwt, { method, headers: { cookie } })) !== 'accepted') checked.push(method);
    }
    return checked;
  };
  const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

  it('GET in any casing brings HEAD along', async () => {
    expect(await check({ csrfMethods: ['get'] }, METHODS)).toEqual(['GET', 'HEAD']);
    expect(await check({ csrfMethods: ['POST', 'Get'] }, METHODS)).toEqual(['GET', 'HEAD', 'POST']);
  });
  it('HEAD alone is checked without GET; the defaults leave both out', async () => {
    expect(await check({ csrfMethods: ['HEAD'] }, METHODS)).toEqual(['HEAD']);
    expect(await check({}, METHODS)).toEqual(['POST', 'PUT', 'PATCH', 'DELETE']);
  });
  it('a request-like object without a method counts as GET', async () => {
    const jwt = await createService({ secretKey: SECRET, tokenLocation: 'cookies', csrfMethods: ['GET'] });
    const cookie = `access_token_cookie=${await jwt.createAccessToken('alice')}`;
    expect(await answer(jwt, { headers: { cookie } })).toBe('CsrfException: Missing CSRF token');
  });
});
