import { Controller, Get, Head, Post } from '@nestjs/common';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { request as httpRequest } from 'node:http';
import request from 'supertest';
import { JwtExtendedException, type JwtExtendedOptions, JwtExtendedService, JwtIdentity, JwtRequired } from '../../lib/index.js';
import { ADAPTERS, SECRET, useTestApp } from '../support/app.js';
import { type Ran, accessCookie, expectResponse, handlerRuns } from '../support/http.js';
import { createService } from '../support/service.js';

@Controller()
class MethodsController {
  @Get('page')
  @JwtRequired()
  page(@JwtIdentity() id: unknown) {
    handlerRuns.record('page');
    return { id };
  }
  @Head('probe')
  @JwtRequired()
  probe() {
    handlerRuns.record('probe');
  }
  @Post('page')
  @JwtRequired()
  post(@JwtIdentity() id: unknown) {
    handlerRuns.record('post');
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
    const t = useTestApp(adapter, {
      controllers: [MethodsController],
      options: { tokenLocation: 'cookies', csrfMethods: ['GET', 'POST'] },
    });
    let access: string;
    beforeAll(async () => {
      access = await t.jwt.createAccessToken('alice');
    });

    /** A HEAD request with the access cookie and this CSRF header; the answer has no body (supertest reads {}). */
    function expectHead(path: string, csrf: string | undefined, status: number, ran: Ran) {
      const test = request(t.url).head(path).set(accessCookie(access));
      return expectResponse(csrf === undefined ? test : test.set('X-CSRF-TOKEN', csrf), status, {}, ran);
    }

    it('HEAD on a GET route without the CSRF header: 401, the handler never runs', () => expectHead('/page', undefined, 401, []));
    it('HEAD on a GET route with an empty or wrong CSRF header: 401', async () => {
      await expectHead('/page', '', 401, []);
      await expectHead('/page', 'wrong', 401, []);
    });
    it('HEAD on a GET route with the CSRF header: runs', () => expectHead('/page', t.jwt.getCsrfToken(access), 200, 'page'));
    it('an explicit @Head() route is checked the same way', async () => {
      await expectHead('/probe', undefined, 401, []);
      await expectHead('/probe', t.jwt.getCsrfToken(access), 200, 'probe');
    });
    it('GET is still checked', () =>
      expectResponse(request(t.url).get('/page').set(accessCookie(access)), 401, { msg: 'Missing CSRF token' }, []));
    it('verifyJwtInRequest on a HEAD request says why (any casing of the method)', async () => {
      const cookie = `access_token_cookie=${access}`;
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
    const t = useTestApp(adapter, { controllers: [MethodsController], options: { tokenLocation: 'cookies' } });
    let access: string;
    beforeAll(async () => {
      access = await t.jwt.createAccessToken('alice');
    });

    it('HEAD, like GET, needs no CSRF value', async () => {
      await expectResponse(request(t.url).head('/page').set(accessCookie(access)), 200, {}, 'page');
      await expectResponse(request(t.url).get('/page').set(accessCookie(access)), 200, { id: 'alice' }, 'page');
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

@Controller('json')
class JsonController {
  @Get()
  @JwtRequired()
  get(@JwtIdentity() id: unknown) {
    handlerRuns.record('json get');
    return { id };
  }
  @Post()
  @JwtRequired()
  post(@JwtIdentity() id: unknown) {
    handlerRuns.record('json post');
    return { id };
  }
}

/** A HEAD request with a JSON body, sent with node:http (superagent does not send HEAD bodies as given). */
function headWithBody(url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: 'HEAD', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/*
 * Fastify never parses a GET or HEAD body and Express does: on both, such a request has no
 * JSON-body token (CONTRACT §17). The json location then answers as for a body without the key.
 */
describe.each(ADAPTERS)('GET and HEAD bodies (%s)', (adapter) => {
  const MISSING_KEY = { msg: 'Missing "access_token" key in json data.' };

  describe("tokenLocation ['json']", () => {
    const t = useTestApp(adapter, { controllers: [JsonController], options: { tokenLocation: 'json' } });
    let access: string;
    beforeAll(async () => {
      access = await t.jwt.createAccessToken('alice');
    });

    it('a GET with a JSON body holding the token: the key is missing, the handler never runs', () =>
      expectResponse(request(t.url).get('/json').send({ access_token: access }), 401, MISSING_KEY, []));
    it('a HEAD with a JSON body holding the token: 401, the handler never runs', async () => {
      const { result: status, ran } = await handlerRuns.during(() =>
        headWithBody(`${t.url}/json`, JSON.stringify({ access_token: access })),
      );
      expect({ status, ran }).toEqual({ status: 401, ran: [] });
    });
    it('a GET without a JSON content-type still says so', () =>
      expectResponse(request(t.url).get('/json'), 401, { msg: 'Invalid content-type. Must be application/json.' }, []));
    it('a POST with the same body is accepted', () =>
      expectResponse(request(t.url).post('/json').send({ access_token: access }), 201, { id: 'alice' }, 'json post'));
  });

  describe("tokenLocation ['json', 'query_string']", () => {
    const t = useTestApp(adapter, { controllers: [JsonController], options: { tokenLocation: ['json', 'query_string'] } });
    let access: string;
    beforeAll(async () => {
      access = await t.jwt.createAccessToken('alice');
    });

    it('a GET body token is a missing token: the next location decides', async () => {
      const bob = await t.jwt.createAccessToken('bob');
      await expectResponse(request(t.url).get('/json').query({ jwt: bob }).send({ access_token: access }), 200, { id: 'bob' }, 'json get');
      await expectResponse(
        request(t.url).get('/json').send({ access_token: access }),
        401,
        { msg: `Missing JWT in json or query_string (${MISSING_KEY.msg}; Missing 'jwt' query parameter)` },
        [],
      );
    });
  });

  describe('the CSRF form field of a GET (csrfCheckForm, GET in csrfMethods)', () => {
    const t = useTestApp(adapter, {
      controllers: [MethodsController],
      options: { tokenLocation: 'cookies', csrfMethods: ['GET', 'POST'], csrfCheckForm: true },
    });
    let access: string;
    beforeAll(async () => {
      access = await t.jwt.createAccessToken('alice');
    });

    it('is not read from a GET body; a POST form field and a GET header are', async () => {
      const cookie = accessCookie(access);
      const form = { csrf_token: t.jwt.getCsrfToken(access) };
      await expectResponse(request(t.url).get('/page').set(cookie).type('form').send(form), 401, { msg: 'Missing CSRF token' }, []);
      await expectResponse(request(t.url).post('/page').set(cookie).type('form').send(form), 201, { id: 'alice' }, 'post');
      await expectResponse(request(t.url).get('/page').set(cookie).set('X-CSRF-TOKEN', form.csrf_token), 200, { id: 'alice' }, 'page');
    });
  });
});

describe('bodyless methods through verifyJwtInRequest', () => {
  it('GET, HEAD and TRACE (any casing, or no method) have no body token; other methods do', async () => {
    const jwt = await createService({ secretKey: SECRET, tokenLocation: 'json' });
    const access = await jwt.createAccessToken('alice');
    const req = (method: string | undefined) => ({
      ...(method === undefined ? {} : { method }),
      headers: { 'content-type': 'application/json' },
      body: { access_token: access },
    });
    const missing = 'NoAuthorizationException: Missing "access_token" key in json data.';
    for (const method of ['GET', 'get', 'HEAD', 'TRACE', undefined]) expect(await answer(jwt, req(method))).toBe(missing);
    for (const method of ['POST', 'put', 'PATCH', 'DELETE', 'OPTIONS']) expect(await answer(jwt, req(method))).toBe('accepted');
  });
});
