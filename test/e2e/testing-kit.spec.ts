import { Controller, Get, Injectable, Module, Post } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import {
  type AdditionalClaimsLoader,
  Jwt,
  JwtExtendedModule,
  JwtIdentity,
  JwtLocation,
  JwtRequired,
  type JwtExtendedOptions,
  type UserIdentityLoader,
} from '../../lib/index.js';
import { JwtTestKit } from '../../lib/testing/index.js';
import { ADAPTERS, type AdapterName, createTestApp, SECRET, type TestApp } from '../support/app.js';

@Controller()
class KitController {
  @Get('me')
  @JwtRequired()
  me(@JwtIdentity() identity: unknown, @JwtLocation() location: unknown, @Jwt() jwt: Record<string, unknown>) {
    return { identity, location, role: jwt.role ?? null };
  }
  @Post('me')
  @JwtRequired()
  postMe(@JwtIdentity() identity: unknown, @JwtLocation() location: unknown) {
    return { identity, location };
  }
  @Get('fresh')
  @JwtRequired({ fresh: true })
  fresh(@JwtIdentity() identity: unknown) {
    return { identity };
  }
  @Post('refresh')
  @JwtRequired({ refresh: true })
  refresh(@JwtIdentity() identity: unknown, @JwtLocation() location: unknown) {
    return { identity, location };
  }
}

/** The app's own token loaders: the kit's tokens must go through them too. */
@Injectable()
class UserTokens implements AdditionalClaimsLoader<{ id: string }>, UserIdentityLoader<{ id: string }> {
  additionalClaims() {
    return { role: 'member' };
  }
  userIdentity(user: { id: string }) {
    return user.id;
  }
}

const BOTH_LOCATIONS: JwtExtendedOptions = { tokenLocation: ['headers', 'cookies'] };
const JWT = /^ey[\w-]+\.[\w-]+\.[\w-]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe.each(ADAPTERS)('JwtTestKit (%s)', (adapter: AdapterName) => {
  describe('with the default names', () => {
    let t: TestApp;
    let kit: JwtTestKit;
    beforeAll(async () => {
      t = await createTestApp(adapter, { controllers: [KitController], options: BOTH_LOCATIONS });
      kit = JwtTestKit.from(t.app);
    });
    afterAll(() => t.close());

    it('bearer() is the Authorization header the guard accepts', async () => {
      const headers = await kit.bearer('alice');
      expect(Object.keys(headers)).toEqual(['Authorization']);
      expect(headers.Authorization).toMatch(/^Bearer ey/);
      const res = await request(t.url).get('/me').set(headers).expect(200);
      expect(res.body).toEqual({ identity: 'alice', location: 'headers', role: null });
      await request(t.url).get('/me').expect(401);
    });

    it('cookies() carries the access cookie, the CSRF cookie and the CSRF header a POST needs', async () => {
      const headers = await kit.cookies('bob');
      expect(Object.keys(headers).toSorted()).toEqual(['Cookie', 'X-CSRF-TOKEN']);
      const [access, csrfCookie] = headers.Cookie.split('; ');
      expect(access.slice(0, 'access_token_cookie='.length)).toBe('access_token_cookie=');
      expect(access.slice('access_token_cookie='.length)).toMatch(JWT);
      expect(csrfCookie).toBe(`csrf_access_token=${headers['X-CSRF-TOKEN']}`);
      expect(headers['X-CSRF-TOKEN']).toMatch(UUID);
      expect(headers['X-CSRF-TOKEN']).toBe((await t.jwt.decodeToken(access.slice('access_token_cookie='.length))).csrf);

      const res = await request(t.url).post('/me').set(headers).expect(201);
      expect(res.body).toEqual({ identity: 'bob', location: 'cookies' });
      // The double submit really is checked: the cookie alone is refused on a POST.
      const noCsrf = await request(t.url).post('/me').set('Cookie', headers.Cookie).expect(401);
      expect(noCsrf.body).toEqual({ msg: 'Missing CSRF token' });
    });

    it('fresh tokens pass a fresh-only route; default ones do not', async () => {
      await request(t.url)
        .get('/fresh')
        .set(await kit.bearer('carol', { fresh: true }))
        .expect(200, { identity: 'carol' });
      const stale = await request(t.url)
        .get('/fresh')
        .set(await kit.bearer('carol'))
        .expect(401);
      expect(stale.body).toEqual({ msg: 'Fresh token required' });
    });

    it('refreshToken() and refreshCookies() reach a refresh route; an access token does not', async () => {
      const refresh = await kit.refreshToken('dave');
      expect((await t.jwt.decodeToken(refresh)).type).toBe('refresh');
      await request(t.url)
        .post('/refresh')
        .set('Authorization', `Bearer ${refresh}`)
        .expect(201, { identity: 'dave', location: 'headers' });

      const cookies = await kit.refreshCookies('dave');
      expect(cookies.Cookie).toMatch(/^refresh_token_cookie=ey[\w.-]+; csrf_refresh_token=[0-9a-f-]{36}$/);
      await request(t.url).post('/refresh').set(cookies).expect(201, { identity: 'dave', location: 'cookies' });

      const wrong = await request(t.url)
        .post('/refresh')
        .set('Authorization', `Bearer ${await kit.accessToken('dave')}`)
        .expect(422);
      expect(wrong.body).toEqual({ msg: 'Only refresh tokens are allowed' });
    });

    it('expiredAccessToken() is refused with 401 Token has expired', async () => {
      const res = await request(t.url)
        .get('/me')
        .set('Authorization', `Bearer ${await kit.expiredAccessToken('erin')}`)
        .expect(401);
      expect(res.body).toEqual({ msg: 'Token has expired' });
    });

    it('additionalClaims and expiresDelta reach the token the handler sees', async () => {
      const res = await request(t.url)
        .get('/me')
        .set(await kit.bearer('frank', { additionalClaims: { role: 'admin' } }))
        .expect(200);
      expect(res.body.role).toBe('admin');
      const payload = await t.jwt.decodeToken(await kit.accessToken('frank', { expiresDelta: 120 }));
      expect(Number(payload.exp) - Number(payload.iat)).toBe(120);
    });

    it('from() also takes the compiled TestingModule the app came from', async () => {
      const fromModule = JwtTestKit.from(t.moduleRef);
      await request(t.url)
        .get('/me')
        .set(await fromModule.bearer('gina'))
        .expect(200);
    });
  });

  describe('with the app token loaders', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(adapter, {
        controllers: [KitController],
        loaders: { additionalClaims: UserTokens, userIdentity: UserTokens },
      });
    });
    afterAll(() => t.close());

    it('tokens carry what the loaders add; per-call claims win', async () => {
      const kit = JwtTestKit.from(t.app);
      await request(t.url)
        .get('/me')
        .set(await kit.bearer({ id: 'nora' }))
        .expect(200, { identity: 'nora', location: 'headers', role: 'member' });
      await request(t.url)
        .get('/me')
        .set(await kit.bearer({ id: 'nora' }, { additionalClaims: { role: 'admin' } }))
        .expect(200, { identity: 'nora', location: 'headers', role: 'admin' });
    });
  });

  describe('with custom header and cookie names', () => {
    let t: TestApp;
    let kit: JwtTestKit;
    beforeAll(async () => {
      t = await createTestApp(adapter, {
        controllers: [KitController],
        options: {
          ...BOTH_LOCATIONS,
          headerName: 'X-Api-Token',
          headerType: 'Token',
          accessCookieName: 'sid',
          accessCsrfCookieName: 'xsrf',
          accessCsrfHeaderName: 'X-XSRF',
          decodeLeeway: 300,
        },
      });
      kit = JwtTestKit.from(t.app);
    });
    afterAll(() => t.close());

    it('bearer() uses the configured header name and type', async () => {
      const headers = await kit.bearer('hana');
      expect(Object.keys(headers)).toEqual(['X-Api-Token']);
      expect(headers['X-Api-Token']).toMatch(/^Token ey/);
      await request(t.url).get('/me').set(headers).expect(200, { identity: 'hana', location: 'headers', role: null });
    });

    it('cookies() uses the configured cookie and CSRF names', async () => {
      const headers = await kit.cookies('ivan');
      expect(Object.keys(headers).toSorted()).toEqual(['Cookie', 'X-XSRF']);
      expect(headers.Cookie).toMatch(new RegExp(`^sid=ey[\\w.-]+; xsrf=${headers['X-XSRF']}$`));
      await request(t.url).post('/me').set(headers).expect(201, { identity: 'ivan', location: 'cookies' });
    });

    it('expiredAccessToken() is expired beyond the configured leeway', async () => {
      const res = await request(t.url)
        .get('/me')
        .set('X-Api-Token', `Token ${await kit.expiredAccessToken('jack')}`)
        .expect(401);
      expect(res.body).toEqual({ msg: 'Token has expired' });
    });
  });

  describe('with a bare header type and no CSRF protection', () => {
    let t: TestApp;
    let kit: JwtTestKit;
    beforeAll(async () => {
      t = await createTestApp(adapter, {
        controllers: [KitController],
        options: { ...BOTH_LOCATIONS, headerType: '', cookieCsrfProtect: false },
      });
      kit = JwtTestKit.from(t.app);
    });
    afterAll(() => t.close());

    it('bearer() holds the bare token', async () => {
      const headers = await kit.bearer('kate');
      expect(headers.Authorization).toMatch(JWT);
      await request(t.url).get('/me').set(headers).expect(200, { identity: 'kate', location: 'headers', role: null });
    });

    it('cookies() is the access cookie alone', async () => {
      const headers = await kit.cookies('liam');
      expect(Object.keys(headers)).toEqual(['Cookie']);
      expect(headers.Cookie).toMatch(/^access_token_cookie=ey[\w.-]+$/);
      await request(t.url).post('/me').set(headers).expect(201, { identity: 'liam', location: 'cookies' });
    });
  });

  describe('with RS256 keys, JwtExtendedModule imported by a feature module', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    @Module({
      imports: [JwtExtendedModule.forRoot({ algorithm: 'RS256', privateKey, publicKey, isGlobal: false })],
      controllers: [KitController],
    })
    class FeatureModule {}

    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(adapter, { module: { module: FeatureModule } });
    });
    afterAll(() => t.close());

    it('signs with the app private key, and the guard accepts it', async () => {
      const kit = JwtTestKit.from(t.app);
      const token = await kit.accessToken('mia');
      expect(t.jwt.getUnverifiedJwtHeaders(token).alg).toBe('RS256');
      await request(t.url)
        .get('/me')
        .set('Authorization', `Bearer ${token}`)
        .expect(200, { identity: 'mia', location: 'headers', role: null });
    });

    it('a kit from an app with other keys makes tokens this app refuses', async () => {
      const other = await Test.createTestingModule({ imports: [JwtExtendedModule.forRoot({ secretKey: SECRET })] }).compile();
      const res = await request(t.url)
        .get('/me')
        .set(await JwtTestKit.from(other).bearer('mia'))
        .expect(422);
      expect(res.body).toEqual({ msg: 'The specified alg value is not allowed' });
      await other.close();
    });
  });

  it('from() on an app without JwtExtendedModule says what is missing', async () => {
    const moduleRef = await Test.createTestingModule({}).compile();
    const app = moduleRef.createNestApplication(adapter === 'express' ? new ExpressAdapter() : new FastifyAdapter(), { logger: false });
    for (const target of [moduleRef, app]) {
      expect(() => JwtTestKit.from(target)).toThrow(
        'JwtTestKit.from(): the application does not use JwtExtendedModule; import JwtExtendedModule.forRoot() or forRootAsync() in the module under test',
      );
    }
    await app.close();
  });
});
