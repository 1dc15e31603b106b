import { Body, Controller, Get, Post, Put } from '@nestjs/common';
import { beforeAll, describe, it } from '@jest/globals';
import request from 'supertest';
import { JwtIdentity, JwtLocation, JwtRequired, type JwtExtendedOptions } from '../../lib/index.js';
import { ADAPTERS, useTestApp } from '../support/app.js';
import { accessCookie, bearer, expectResponse, handlerRuns } from '../support/http.js';

@Controller()
class LocationsController {
  @Get('protected')
  @JwtRequired()
  getProtected(@JwtIdentity() id: unknown, @JwtLocation() location: unknown) {
    handlerRuns.record('getProtected');
    return { id, location };
  }
  @Post('protected')
  @JwtRequired()
  postProtected(@JwtIdentity() id: unknown, @JwtLocation() location: unknown, @Body() body: unknown) {
    handlerRuns.record('postProtected');
    return { id, location, body };
  }
  @Post('refresh')
  @JwtRequired({ refresh: true })
  refresh(@JwtIdentity() id: unknown, @JwtLocation() location: unknown) {
    handlerRuns.record('refresh');
    return { id, location };
  }
  @Put('protected')
  @JwtRequired()
  putProtected(@JwtIdentity() id: unknown) {
    handlerRuns.record('putProtected');
    return { id };
  }
  @Put('refresh')
  @JwtRequired({ refresh: true })
  putRefresh(@JwtIdentity() id: unknown) {
    handlerRuns.record('putRefresh');
    return { id };
  }
  @Get('only-query')
  @JwtRequired({ locations: 'query_string' })
  onlyQuery(@JwtLocation() location: unknown) {
    handlerRuns.record('onlyQuery');
    return { location };
  }
}

describe.each(ADAPTERS)('token locations (%s)', (adapter) => {
  describe('headers', () => {
    const t = useTestApp(adapter, { controllers: [LocationsController] });
    let token: string;
    beforeAll(async () => {
      token = await t.jwt.createAccessToken('alice');
    });
    const get = () => request(t.url).get('/protected');

    it('accepts Bearer <jwt>', () => expectResponse(get().set(bearer(token)), 200, { id: 'alice', location: 'headers' }, 'getProtected'));
    it('matches the scheme case-insensitively', () =>
      expectResponse(get().set('Authorization', `bEaReR ${token}`), 200, { id: 'alice', location: 'headers' }, 'getProtected'));
    it('finds Bearer among several credentials, ignoring trailing commas', () =>
      expectResponse(
        get().set('Authorization', `Basic dXNlcjpwYXNz, Bearer ${token}, `),
        200,
        { id: 'alice', location: 'headers' },
        'getProtected',
      ));
    it('401 when the header is missing', () => expectResponse(get(), 401, { msg: 'Missing Authorization Header' }, []));
    it('401 when the header is empty or only commas', () =>
      expectResponse(get().set('Authorization', ' , '), 401, { msg: 'Missing Authorization Header' }, []));
    it('401 without a Bearer part', () =>
      expectResponse(
        get().set('Authorization', 'Basic dXNlcjpwYXNz'),
        401,
        { msg: "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'" },
        [],
      ));
    it('401 with two Bearer parts', () =>
      expectResponse(
        get().set('Authorization', `Bearer ${token}, Bearer ${token}`),
        401,
        { msg: "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'" },
        [],
      ));
    it('422 when the Bearer part is not exactly two words', async () => {
      const msg = { msg: "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'" };
      await expectResponse(get().set('Authorization', 'Bearer'), 422, msg, []);
      await expectResponse(get().set('Authorization', `Bearer ${token} extra`), 422, msg, []);
    });
    it('422 for a garbage token', () =>
      expectResponse(get().set('Authorization', 'Bearer not.a.jwt'), 422, { msg: 'Invalid header string' }, []));
  });

  describe('custom header name and type', () => {
    const t = useTestApp(adapter, { controllers: [LocationsController], options: { headerName: 'X-Api-Token', headerType: 'JWT' } });
    let token: string;
    beforeAll(async () => {
      token = await t.jwt.createAccessToken('alice');
    });
    it('reads the configured header and type', () =>
      expectResponse(
        request(t.url).get('/protected').set('X-Api-Token', `jwt ${token}`),
        200,
        { id: 'alice', location: 'headers' },
        'getProtected',
      ));
    it('names them in the messages', async () => {
      await expectResponse(request(t.url).get('/protected'), 401, { msg: 'Missing X-Api-Token Header' }, []);
      await expectResponse(
        request(t.url).get('/protected').set('X-Api-Token', `Bearer ${token}`),
        401,
        { msg: "Missing 'JWT' type in 'X-Api-Token' header. Expected 'X-Api-Token: JWT <JWT>'" },
        [],
      );
    });
  });

  describe("headerType ''", () => {
    const t = useTestApp(adapter, { controllers: [LocationsController], options: { headerType: '' } });
    let token: string;
    beforeAll(async () => {
      token = await t.jwt.createAccessToken('alice');
    });
    it('takes the bare token', () =>
      expectResponse(
        request(t.url).get('/protected').set('Authorization', token),
        200,
        { id: 'alice', location: 'headers' },
        'getProtected',
      ));
    it('422 with more than one word', () =>
      expectResponse(
        request(t.url).get('/protected').set(bearer(token)),
        422,
        { msg: "Bad Authorization header. Expected 'Authorization: <JWT>'" },
        [],
      ));
  });

  describe('cookies', () => {
    const t = useTestApp(adapter, {
      controllers: [LocationsController],
      options: { tokenLocation: ['cookies'], csrfCheckForm: true },
    });
    let access: string;
    let refresh: string;
    beforeAll(async () => {
      access = await t.jwt.createAccessToken('alice');
      refresh = await t.jwt.createRefreshToken('alice');
    });

    it('reads the access cookie on GET without CSRF', () =>
      expectResponse(
        request(t.url).get('/protected').set('Cookie', `other=1; access_token_cookie=${access}`),
        200,
        { id: 'alice', location: 'cookies' },
        'getProtected',
      ));
    it('401 without the cookie', () =>
      expectResponse(request(t.url).get('/protected'), 401, { msg: 'Missing cookie "access_token_cookie"' }, []));
    it('401 Missing CSRF token on POST without the header', () =>
      expectResponse(request(t.url).post('/protected').set(accessCookie(access)), 401, { msg: 'Missing CSRF token' }, []));
    it('an empty CSRF header counts as missing', () =>
      expectResponse(
        request(t.url).post('/protected').set(accessCookie(access)).set('X-CSRF-TOKEN', ''),
        401,
        { msg: 'Missing CSRF token' },
        [],
      ));
    it('401 when the CSRF value differs (any length, multibyte)', async () => {
      for (const value of ['wrong', 'x'.repeat(500), 'ü€𝄞']) {
        await expectResponse(
          request(t.url).post('/protected').set(accessCookie(access)).set('X-CSRF-TOKEN', encodeURIComponent(value)),
          401,
          { msg: 'CSRF double submit tokens do not match' },
          [],
        );
      }
    });
    it('passes with the CSRF header', () =>
      expectResponse(
        request(t.url).post('/protected').set(accessCookie(access)).set('X-CSRF-TOKEN', t.jwt.getCsrfToken(access)),
        201,
        { id: 'alice', location: 'cookies' },
        'postProtected',
      ));
    it('passes with the CSRF form field when csrfCheckForm', () =>
      expectResponse(
        request(t.url)
          .post('/protected')
          .set(accessCookie(access))
          .type('form')
          .send({ csrf_token: t.jwt.getCsrfToken(access) }),
        201,
        { id: 'alice', location: 'cookies', body: { csrf_token: t.jwt.getCsrfToken(access) } },
        'postProtected',
      ));
    it('refresh routes read the refresh cookie and its CSRF value', async () => {
      await expectResponse(
        request(t.url).post('/refresh').set(accessCookie(access)),
        401,
        { msg: 'Missing cookie "refresh_token_cookie"' },
        [],
      );
      await expectResponse(
        request(t.url).post('/refresh').set('Cookie', `refresh_token_cookie=${refresh}`).set('X-CSRF-TOKEN', t.jwt.getCsrfToken(refresh)),
        201,
        { id: 'alice', location: 'cookies' },
        'refresh',
      );
      await expectResponse(
        request(t.url).post('/refresh').set('Cookie', `refresh_token_cookie=${refresh}`).set('X-CSRF-TOKEN', t.jwt.getCsrfToken(access)),
        401,
        { msg: 'CSRF double submit tokens do not match' },
        [],
      );
    });
  });

  describe('cookies without CSRF protection', () => {
    const t = useTestApp(adapter, {
      controllers: [LocationsController],
      options: { tokenLocation: 'cookies', cookieCsrfProtect: false },
    });
    it('POST passes without a CSRF value', async () => {
      const access = await t.jwt.createAccessToken('alice');
      await expectResponse(
        request(t.url).post('/protected').set(accessCookie(access)),
        201,
        { id: 'alice', location: 'cookies' },
        'postProtected',
      );
    });
  });

  describe('query string', () => {
    const t = useTestApp(adapter, {
      controllers: [LocationsController],
      options: { tokenLocation: ['query_string'], queryStringValuePrefix: 'Bearer ' },
    });
    let token: string;
    beforeAll(async () => {
      token = await t.jwt.createAccessToken('alice');
    });
    it('reads the prefixed value', () =>
      expectResponse(
        request(t.url)
          .get('/protected')
          .query({ jwt: `Bearer ${token}` }),
        200,
        { id: 'alice', location: 'query_string' },
        'getProtected',
      ));
    it('401 when missing or empty', async () => {
      await expectResponse(request(t.url).get('/protected'), 401, { msg: "Missing 'jwt' query parameter" }, []);
      await expectResponse(request(t.url).get('/protected?jwt='), 401, { msg: "Missing 'jwt' query parameter" }, []);
    });
    it('422 without the prefix', () =>
      expectResponse(
        request(t.url).get('/protected').query({ jwt: token }),
        422,
        { msg: "Invalid value for query parameter 'jwt'. Expected the value to start with 'Bearer '" },
        [],
      ));
    it('422 for repeated parameters', () =>
      expectResponse(
        request(t.url).get(`/protected?jwt=${encodeURIComponent(`Bearer ${token}`)}&jwt=x`),
        422,
        { msg: "Invalid value for query parameter 'jwt'. Expected a single value" },
        [],
      ));
  });

  describe('json body', () => {
    const t = useTestApp(adapter, { controllers: [LocationsController], options: { tokenLocation: ['json'] } });
    let access: string;
    let refresh: string;
    beforeAll(async () => {
      access = await t.jwt.createAccessToken('alice');
      refresh = await t.jwt.createRefreshToken('alice');
    });
    it('reads access_token', () =>
      expectResponse(
        request(t.url).post('/protected').send({ access_token: access }),
        201,
        { id: 'alice', location: 'json', body: { access_token: access } },
        'postProtected',
      ));
    it('reads refresh_token on refresh routes', () =>
      expectResponse(request(t.url).post('/refresh').send({ refresh_token: refresh }), 201, { id: 'alice', location: 'json' }, 'refresh'));
    it('401 when the body is not JSON', () =>
      expectResponse(
        request(t.url).post('/protected').type('form').send({ access_token: access }),
        401,
        { msg: 'Invalid content-type. Must be application/json.' },
        [],
      ));
    it('401 when the key is missing', async () => {
      await expectResponse(
        request(t.url).post('/protected').send({ other: 1 }),
        401,
        { msg: 'Missing "access_token" key in json data.' },
        [],
      );
      await expectResponse(request(t.url).post('/protected').send([access]), 401, { msg: 'Missing "access_token" key in json data.' }, []);
    });
    it('422 when the value is not a string', async () => {
      for (const value of [42, [access], { token: access }, true]) {
        await expectResponse(
          request(t.url).post('/protected').send({ access_token: value }),
          422,
          { msg: 'Invalid token type. Token must be a string' },
          [],
        );
      }
    });
  });

  describe('several locations', () => {
    const options: JwtExtendedOptions = { tokenLocation: ['headers', 'cookies', 'query_string', 'json'] };
    const t = useTestApp(adapter, { controllers: [LocationsController], options });
    let token: string;
    beforeAll(async () => {
      token = await t.jwt.createAccessToken('alice');
    });

    it('joins every missing reason', () =>
      expectResponse(
        request(t.url).get('/protected'),
        401,
        {
          msg:
            'Missing JWT in headers, cookies, query_string or json (Missing Authorization Header; Missing cookie "access_token_cookie"; ' +
            "Missing 'jwt' query parameter; Invalid content-type. Must be application/json.)",
        },
        [],
      ));
    it('falls through to the next location', () =>
      expectResponse(
        request(t.url).get('/protected').query({ jwt: token }),
        200,
        { id: 'alice', location: 'query_string' },
        'getProtected',
      ));
    it('falls through a header without the Bearer part', () =>
      expectResponse(
        request(t.url).get('/protected').set('Authorization', 'Basic abc').set(accessCookie(token)),
        200,
        { id: 'alice', location: 'cookies' },
        'getProtected',
      ));
    it('the first token found decides: an invalid header token is an error, not a fall-through', () =>
      expectResponse(
        request(t.url).get('/protected').set('Authorization', 'Bearer bad.to.ken').set(accessCookie(token)),
        422,
        { msg: 'Invalid header string' },
        [],
      ));
    it('respects order: headers before cookies', async () => {
      const bob = await t.jwt.createAccessToken('bob');
      await expectResponse(
        request(t.url).get('/protected').set(accessCookie(bob)).set(bearer(token)),
        200,
        { id: 'alice', location: 'headers' },
        'getProtected',
      );
    });
    it('a cookie token on POST still needs CSRF even with other locations configured', () =>
      expectResponse(request(t.url).post('/protected').set(accessCookie(token)), 401, { msg: 'Missing CSRF token' }, []));
    it('per-route locations override tokenLocation', async () => {
      await expectResponse(request(t.url).get('/only-query').set(bearer(token)), 401, { msg: "Missing 'jwt' query parameter" }, []);
      await expectResponse(request(t.url).get('/only-query').query({ jwt: token }), 200, { location: 'query_string' }, 'onlyQuery');
    });
  });

  describe('custom names for every request-side option', () => {
    const t = useTestApp(adapter, {
      controllers: [LocationsController],
      options: {
        tokenLocation: ['cookies', 'query_string', 'json'],
        csrfCheckForm: true,
        accessCsrfFieldName: 'xsrf_a',
        refreshCsrfFieldName: 'xsrf_r',
        csrfMethods: ['get', 'PUT'],
        queryStringName: 'token',
        jsonKey: 'at',
        refreshJsonKey: 'rt',
        maxTokenLength: 600,
      },
    });
    let access: string;
    let refresh: string;
    beforeAll(async () => {
      access = await t.jwt.createAccessToken('alice');
      refresh = await t.jwt.createRefreshToken('alice');
    });

    it('csrfMethods decides which methods need the CSRF value (case-insensitive)', async () => {
      await expectResponse(request(t.url).get('/protected').set(accessCookie(access)), 401, { msg: 'Missing CSRF token' }, []);
      await expectResponse(
        request(t.url).get('/protected').set(accessCookie(access)).set('X-CSRF-TOKEN', t.jwt.getCsrfToken(access)),
        200,
        { id: 'alice', location: 'cookies' },
        'getProtected',
      );
      // POST is not in csrfMethods here
      await expectResponse(
        request(t.url).post('/protected').set(accessCookie(access)),
        201,
        { id: 'alice', location: 'cookies' },
        'postProtected',
      );
    });

    it('reads the configured CSRF form fields, access and refresh', async () => {
      const put = (path: string, cookie: string, form: Record<string, string>) =>
        request(t.url).put(path).set('Cookie', cookie).type('form').send(form);
      const accessCookieHeader = `access_token_cookie=${access}`;
      const refreshCookie = `refresh_token_cookie=${refresh}`;
      await expectResponse(
        put('/protected', accessCookieHeader, { xsrf_a: t.jwt.getCsrfToken(access) }),
        200,
        { id: 'alice' },
        'putProtected',
      );
      await expectResponse(
        put('/protected', accessCookieHeader, { csrf_token: t.jwt.getCsrfToken(access) }),
        401,
        { msg: 'Missing CSRF token' },
        [],
      );
      await expectResponse(put('/refresh', refreshCookie, { xsrf_r: t.jwt.getCsrfToken(refresh) }), 200, { id: 'alice' }, 'putRefresh');
      await expectResponse(put('/refresh', refreshCookie, { xsrf_a: t.jwt.getCsrfToken(refresh) }), 401, { msg: 'Missing CSRF token' }, []);
    });

    it('reads the configured query parameter and JSON keys', async () => {
      await expectResponse(
        request(t.url).get('/protected').query({ token: access }),
        200,
        { id: 'alice', location: 'query_string' },
        'getProtected',
      );
      await expectResponse(
        request(t.url).post('/protected').send({ at: access }),
        201,
        { id: 'alice', location: 'json', body: { at: access } },
        'postProtected',
      );
      await expectResponse(request(t.url).post('/refresh').send({ rt: refresh }), 201, { id: 'alice', location: 'json' }, 'refresh');
      await expectResponse(
        request(t.url).post('/refresh').send({ refresh_token: refresh }),
        401,
        {
          msg:
            'Missing JWT in cookies, query_string or json (Missing cookie "refresh_token_cookie"; ' +
            'Missing \'token\' query parameter; Missing "rt" key in json data.)',
        },
        [],
      );
    });

    it('refuses tokens longer than maxTokenLength', async () => {
      const long = await t.jwt.createAccessToken('alice', { additionalClaims: { pad: 'x'.repeat(600) } });
      await expectResponse(request(t.url).get('/protected').query({ token: long }), 422, { msg: 'Token is too long' }, []);
    });
  });
});
