import { Controller, Delete, Post, Res } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { describe, expect, it } from '@jest/globals';
import fastifyCookie from '@fastify/cookie';
import cookieParser from 'cookie-parser';
import request from 'supertest';
import { JwtExtendedService, JwtIdentity, JwtRequired, type JwtExtendedOptions } from '../../lib/index.js';
import { ADAPTERS, type AdapterName, createTestApp, useTestApp } from '../support/app.js';

@Controller()
class CookieController {
  constructor(private readonly jwt: JwtExtendedService) {}

  @Post('login')
  async login(@Res({ passthrough: true }) res: object) {
    this.jwt.setAccessCookies(res, await this.jwt.createAccessToken('alice'));
    this.jwt.setRefreshCookies(res, await this.jwt.createRefreshToken('alice'));
    return { ok: true };
  }
  @Post('login-with-options')
  async loginWithOptions(@Res({ passthrough: true }) res: object) {
    this.jwt.setAccessCookies(res, await this.jwt.createAccessToken('alice'), { maxAge: 60, domain: 'override.test' });
    return { ok: true };
  }
  @Delete('logout')
  logout(@Res({ passthrough: true }) res: object) {
    this.jwt.unsetJwtCookies(res);
    return { ok: true };
  }
  @Delete('logout-access')
  logoutAccess(@Res({ passthrough: true }) res: object) {
    this.jwt.unsetAccessCookies(res, { domain: 'other.test' });
    return { ok: true };
  }
  @Delete('logout-refresh')
  logoutRefresh(@Res({ passthrough: true }) res: object) {
    this.jwt.unsetRefreshCookies(res);
    return { ok: true };
  }
  @Post('protected')
  @JwtRequired()
  protectedRoute(@JwtIdentity() id: unknown) {
    return { id };
  }
  @Post('refresh')
  @JwtRequired({ refresh: true })
  async refresh(@JwtIdentity() id: unknown, @Res({ passthrough: true }) res: object) {
    this.jwt.setAccessCookies(res, await this.jwt.createAccessToken(id));
    return { id };
  }
}

/** Parses Set-Cookie lines into name → { value, attributes (lower-cased keys) }. */
function parseSetCookies(header: string[] | string | undefined) {
  const lines = header === undefined ? [] : Array.isArray(header) ? header : [header];
  return lines.map((line) => {
    const [pair, ...attrs] = line.split(';').map((s) => s.trim());
    const eq = pair.indexOf('=');
    const attributes: Record<string, string | true> = {};
    for (const attr of attrs) {
      const i = attr.indexOf('=');
      attributes[(i < 0 ? attr : attr.slice(0, i)).toLowerCase()] = i < 0 ? true : attr.slice(i + 1);
    }
    return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
  });
}

function cookieJar(setCookie: ReturnType<typeof parseSetCookies>) {
  return setCookie.map((c) => `${c.name}=${c.value}`).join('; ');
}

const withPlugins = async (app: INestApplication, adapter: AdapterName) => {
  if (adapter === 'express') (app as NestExpressApplication).use(cookieParser());
  else await (app as NestFastifyApplication).register(fastifyCookie as never);
};

describe.each(ADAPTERS)('cookie helpers (%s)', (adapter) => {
  describe.each([
    ['without cookie middleware', false],
    ['with cookie middleware', true],
  ])('%s', (_title, plugins) => {
    const t = useTestApp(adapter, {
      controllers: [CookieController],
      options: { tokenLocation: ['cookies'] },
      beforeInit: plugins ? (app) => withPlugins(app, adapter) : undefined,
    });

    it('sets the token cookies HttpOnly and the CSRF cookies readable, as session cookies', async () => {
      const res = await request(t.url).post('/login').expect(201);
      const cookies = parseSetCookies(res.headers['set-cookie']);
      expect(cookies.map((c) => c.name)).toEqual([
        'access_token_cookie',
        'csrf_access_token',
        'refresh_token_cookie',
        'csrf_refresh_token',
      ]);
      const [access, csrfAccess, refresh, csrfRefresh] = cookies;
      expect(access.attributes).toEqual({ path: '/', httponly: true });
      expect(csrfAccess.attributes).toEqual({ path: '/' });
      expect(refresh.attributes).toEqual({ path: '/', httponly: true });
      expect(csrfRefresh.attributes).toEqual({ path: '/' });
      expect(csrfAccess.value).toBe(t.jwt.getCsrfToken(access.value));
      expect(csrfRefresh.value).toBe(t.jwt.getCsrfToken(refresh.value));
    });

    it('runs the whole cookie + CSRF flow', async () => {
      const login = parseSetCookies((await request(t.url).post('/login')).headers['set-cookie']);
      const jar = cookieJar(login);
      const csrfAccess = login.find((c) => c.name === 'csrf_access_token')!.value;
      const csrfRefresh = login.find((c) => c.name === 'csrf_refresh_token')!.value;
      await request(t.url).post('/protected').set('Cookie', jar).expect(401, { msg: 'Missing CSRF token' });
      await request(t.url).post('/protected').set('Cookie', jar).set('X-CSRF-TOKEN', csrfRefresh).expect(401);
      await request(t.url).post('/protected').set('Cookie', jar).set('X-CSRF-TOKEN', csrfAccess).expect(201, { id: 'alice' });
      const refreshed = await request(t.url).post('/refresh').set('Cookie', jar).set('X-CSRF-TOKEN', csrfRefresh).expect(201);
      expect(parseSetCookies(refreshed.headers['set-cookie']).map((c) => c.name)).toEqual(['access_token_cookie', 'csrf_access_token']);
    });

    it('unsetJwtCookies expires all four cookies', async () => {
      const res = await request(t.url).delete('/logout').expect(200);
      const cookies = parseSetCookies(res.headers['set-cookie']);
      expect(cookies.map((c) => c.name)).toEqual([
        'access_token_cookie',
        'csrf_access_token',
        'refresh_token_cookie',
        'csrf_refresh_token',
      ]);
      for (const c of cookies) {
        expect(c.value).toBe('');
        expect(c.attributes['max-age']).toBe('0');
        expect(c.attributes.expires).toBe('Thu, 01 Jan 1970 00:00:00 GMT');
      }
    });

    it('unsetAccessCookies and unsetRefreshCookies send two lines each, with a domain override', async () => {
      const access = parseSetCookies((await request(t.url).delete('/logout-access')).headers['set-cookie']);
      expect(access.map((c) => [c.name, c.attributes.domain])).toEqual([
        ['access_token_cookie', 'other.test'],
        ['csrf_access_token', 'other.test'],
      ]);
      const refresh = parseSetCookies((await request(t.url).delete('/logout-refresh')).headers['set-cookie']);
      expect(refresh.map((c) => c.name)).toEqual(['refresh_token_cookie', 'csrf_refresh_token']);
    });

    it('maxAge and domain per call', async () => {
      const cookies = parseSetCookies((await request(t.url).post('/login-with-options')).headers['set-cookie']);
      for (const c of cookies) {
        expect(c.attributes['max-age']).toBe('60');
        expect(c.attributes.domain).toBe('override.test');
        expect(new Date(String(c.attributes.expires)).getTime()).toBeGreaterThan(Date.now());
      }
    });
  });

  describe('every cookie option', () => {
    const options: JwtExtendedOptions = {
      tokenLocation: ['cookies'],
      accessCookieName: 'at',
      accessCookiePath: '/api/',
      refreshCookieName: 'rt',
      refreshCookiePath: '/refresh',
      accessCsrfCookieName: 'c_at',
      accessCsrfCookiePath: '/c1',
      refreshCsrfCookieName: 'c_rt',
      refreshCsrfCookiePath: '/c2',
      accessCsrfHeaderName: 'X-A',
      refreshCsrfHeaderName: 'X-R',
      cookieDomain: 'example.test',
      cookieSecure: true,
      cookieSameSite: 'Strict',
      sessionCookie: false,
    };
    const t = useTestApp(adapter, { controllers: [CookieController], options });

    it('uses names, paths, domain, Secure, SameSite and the persistent Max-Age', async () => {
      const cookies = parseSetCookies((await request(t.url).post('/login')).headers['set-cookie']);
      expect(cookies.map((c) => [c.name, c.attributes.path])).toEqual([
        ['at', '/api/'],
        ['c_at', '/c1'],
        ['rt', '/refresh'],
        ['c_rt', '/c2'],
      ]);
      for (const c of cookies) {
        expect(c.attributes).toMatchObject({ domain: 'example.test', secure: true, samesite: 'Strict', 'max-age': '31540000' });
        expect(c.attributes.httponly).toBe(c.name.startsWith('c_') ? undefined : true);
      }
    });

    it('reads the configured cookie and CSRF header names', async () => {
      const cookies = parseSetCookies((await request(t.url).post('/login')).headers['set-cookie']);
      const jar = cookieJar(cookies);
      const csrf = cookies.find((c) => c.name === 'c_at')!.value;
      await request(t.url).post('/protected').set('Cookie', jar).set('X-CSRF-TOKEN', csrf).expect(401, { msg: 'Missing CSRF token' });
      await request(t.url).post('/protected').set('Cookie', jar).set('X-A', csrf).expect(201, { id: 'alice' });
      await request(t.url).post('/refresh').set('Cookie', jar).expect(401, { msg: 'Missing CSRF token' });
      const refreshCsrf = cookies.find((c) => c.name === 'c_rt')!.value;
      await request(t.url).post('/refresh').set('Cookie', jar).set('X-R', refreshCsrf).expect(201);
    });
  });

  describe('csrfInCookies: false and CSRF off', () => {
    it('csrfInCookies: false sets only the token cookies; the token still carries csrf', async () => {
      const t = await createTestApp(adapter, {
        controllers: [CookieController],
        options: { tokenLocation: 'cookies', csrfInCookies: false },
      });
      try {
        const cookies = parseSetCookies((await request(t.url).post('/login')).headers['set-cookie']);
        expect(cookies.map((c) => c.name)).toEqual(['access_token_cookie', 'refresh_token_cookie']);
        expect(t.jwt.getCsrfToken(cookies[0].value)).toMatch(/^[0-9a-f-]{36}$/);
        const unset = parseSetCookies((await request(t.url).delete('/logout')).headers['set-cookie']);
        expect(unset.map((c) => c.name)).toEqual(['access_token_cookie', 'refresh_token_cookie']);
      } finally {
        await t.close();
      }
    });
    it('cookieCsrfProtect: false sets no CSRF cookies', async () => {
      const t = await createTestApp(adapter, {
        controllers: [CookieController],
        options: { tokenLocation: 'cookies', cookieCsrfProtect: false },
      });
      try {
        const cookies = parseSetCookies((await request(t.url).post('/login')).headers['set-cookie']);
        expect(cookies.map((c) => c.name)).toEqual(['access_token_cookie', 'refresh_token_cookie']);
        await request(t.url).post('/protected').set('Cookie', cookieJar(cookies)).expect(201, { id: 'alice' });
      } finally {
        await t.close();
      }
    });
  });
});

describe('cookie helpers on a plain Node response', () => {
  it('append Set-Cookie lines', async () => {
    const { createService } = await import('../support/service.js');
    const { ServerResponse, IncomingMessage } = await import('node:http');
    const { Socket } = await import('node:net');
    const jwt = await createService();
    const res = new ServerResponse(new IncomingMessage(new Socket()));
    jwt.setAccessCookies(res, await jwt.createAccessToken('x'));
    expect((res.getHeader('set-cookie') as string[]).length).toBe(2);
  });
});
