import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { JwtDecodeException, type JwtExtendedOptions } from '../../lib/index.js';
import { ADAPTERS, SECRET, type TestApp, useTestApp } from '../support/app.js';
import { forgeHmac, now } from '../support/forge.js';
import { bearer, handlerRuns } from '../support/http.js';
import { createService } from '../support/service.js';
import { TargetController } from '../support/routes.js';

/*
 * Defect 9.10: with no audience configured, a token issued for another service (same secret or
 * key, different `aud`) was accepted. `decodeAudience` now defaults to `encodeAudience`; with
 * neither, a token that carries any `aud` claim is refused (RFC 7519 §4.1.3).
 */

const claims = (extra: object) => ({ sub: 'aud-test', iat: now(), exp: now() + 600, ...extra });
const signed = (extra: object) => forgeHmac({ alg: 'HS256', typ: 'JWT' }, claims(extra), SECRET);

describe.each(ADAPTERS)('audience over HTTP (%s)', (adapter) => {
  const appWith = (options: JwtExtendedOptions) => useTestApp(adapter, { controllers: [TargetController], options });
  const apps = {
    none: appWith({}),
    encodeOnly: appWith({ encodeAudience: 'api' }),
    encodeList: appWith({ encodeAudience: ['api', 'web'] }),
    both: appWith({ encodeAudience: 'api', decodeAudience: 'gateway' }),
  };

  /** The status (with the message of a 422); a refused request must not run the handler, an accepted one must. */
  async function status(app: TestApp, token: string, path = '/protected', method: 'get' | 'post' = 'get') {
    const { result: res, ran } = await handlerRuns.during(() => request(app.url)[method](path).set(bearer(token)));
    expect(ran).toEqual(res.status >= 400 ? [] : [path.slice(1)]);
    return res.status === 422 ? `422 ${res.body.msg}` : res.status;
  }

  it.each([
    ['a foreign string', { aud: 'other-service' }],
    ['a foreign list', { aud: ['other-service', 'billing'] }],
    ['an empty string', { aud: '' }],
    ['an empty list', { aud: [] }],
    ['null', { aud: null }],
    ['a number', { aud: 42 }],
    ['an object', { aud: { service: 'x' } }],
  ])('no audience configured: a token whose aud is %s is refused with 422 Invalid audience', async (_name, extra) => {
    expect(await status(apps.none, signed(extra))).toBe('422 Invalid audience');
  });

  it('no audience configured: tokens without aud, the app’s own included, are accepted', async () => {
    expect(await status(apps.none, signed({}))).toBe(200);
    expect(await status(apps.none, await apps.none.jwt.createAccessToken('me'))).toBe(200);
  });

  it('no audience configured: a refresh token for another service is refused too', async () => {
    const refresh = forgeHmac({ alg: 'HS256' }, claims({ type: 'refresh', aud: 'other-service' }), SECRET);
    expect(await status(apps.none, refresh, '/refresh', 'post')).toBe('422 Invalid audience');
  });

  it('encodeAudience alone: the app’s own tokens pass, foreign or missing aud is refused', async () => {
    const app = apps.encodeOnly;
    expect(await status(app, await app.jwt.createAccessToken('me'))).toBe(200);
    expect(await status(app, await app.jwt.createRefreshToken('me'), '/refresh', 'post')).toBe(201);
    expect(await status(app, signed({ aud: 'api' }))).toBe(200);
    expect(await status(app, signed({ aud: ['other', 'api'] }))).toBe(200);
    expect(await status(app, signed({ aud: 'other-service' }))).toBe('422 Invalid audience');
    expect(await status(app, signed({ aud: ['other', 'API'] }))).toBe('422 Invalid audience');
    expect(await status(app, signed({}))).toBe('422 Invalid audience');
  });

  it('encodeAudience as a list: any of its values matches', async () => {
    const app = apps.encodeList;
    expect(await status(app, await app.jwt.createAccessToken('me'))).toBe(200);
    expect(await status(app, signed({ aud: 'web' }))).toBe(200);
    expect(await status(app, signed({ aud: 'mobile' }))).toBe('422 Invalid audience');
  });

  it('an explicit decodeAudience wins over encodeAudience', async () => {
    const app = apps.both;
    expect(await status(app, signed({ aud: 'gateway' }))).toBe(200);
    expect(await status(app, await app.jwt.createAccessToken('me'))).toBe('422 Invalid audience');
  });
});

describe('decodeToken applies the same rule', () => {
  it('refuses a foreign aud with JwtDecodeException when no audience is configured', async () => {
    const jwt = await createService({ secretKey: SECRET });
    const error = await jwt.decodeToken(signed({ aud: 'other-service' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JwtDecodeException);
    expect((error as JwtDecodeException).reason).toBe('Invalid audience');
    expect((error as JwtDecodeException).getStatus()).toBe(422);
    await expect(jwt.decodeToken(signed({}))).resolves.toMatchObject({ sub: 'aud-test' });
  });

  it('verifies its own encodeAudience tokens without decodeAudience', async () => {
    const jwt = await createService({ secretKey: SECRET, encodeAudience: ['api', 'web'] });
    await expect(jwt.decodeToken(await jwt.createAccessToken('me'))).resolves.toMatchObject({ aud: ['api', 'web'] });
    await expect(jwt.decodeToken(signed({ aud: 'other' }))).rejects.toThrow('Invalid audience');
  });
});
