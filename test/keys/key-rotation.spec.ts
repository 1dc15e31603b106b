import { type INestApplication, Injectable } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type KeyObject, createHash, generateKeyPairSync } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  type DecodeKeyLoader,
  JwtExtendedConfigError,
  JwtExtendedModule,
  type JwtExtendedOptions,
  type JwtExtendedService,
  type PublicJwks,
} from '../../lib/index.js';
import { ADAPTERS, SECRET, TOKEN_CACHE, type TestApp, createTestApp, withTestApp } from '../support/app.js';
import { forgeAsymmetric, now } from '../support/forge.js';
import { bearer, expectResponse } from '../support/http.js';
import { createService, keyPair } from '../support/service.js';
import { TargetController, protectedAnswer } from '../support/routes.js';

/** RFC 7638 §3.2, computed here without jose: SHA-256 of the required members, sorted, no whitespace. */
function thumbprint(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' }) as Record<string, string>;
  const required: Record<string, string[]> = { RSA: ['e', 'kty', 'n'], EC: ['crv', 'kty', 'x', 'y'], OKP: ['crv', 'kty', 'x'] };
  const members = Object.fromEntries(required[jwk.kty].map((name) => [name, jwk[name]]));
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

const headerOf = (jwt: JwtExtendedService, token: string) => jwt.getUnverifiedJwtHeaders(token);

async function startupError(options: JwtExtendedOptions, loaders?: Parameters<typeof createService>[1]): Promise<JwtExtendedConfigError> {
  try {
    await createService(options, loaders);
  } catch (error) {
    return error as JwtExtendedConfigError;
  }
  throw new Error('expected start-up to fail');
}

describe('kid on created tokens', () => {
  it.each([
    ['RS256', 'rsa'],
    ['ES256', 'ec256'],
    ['EdDSA', 'ed25519'],
  ] as const)('%s: the RFC 7638 thumbprint of the signing key by default', async (algorithm, kind) => {
    const { privateKey, publicKey } = keyPair(kind);
    const jwt = await createService({ algorithm, privateKey });
    const token = await jwt.createAccessToken('me');
    expect(headerOf(jwt, token)).toEqual({ alg: algorithm, typ: 'JWT', kid: thumbprint(publicKey) });
    // a verify-only configuration derives the same kid from the public key
    const verifier = await createService({ algorithm, publicKey });
    await expect(verifier.decodeToken(token)).resolves.toMatchObject({ sub: 'me' });
  });

  it('the configured keyId wins; HS256 tokens carry a kid only when one is configured', async () => {
    const rsa = await createService({ algorithm: 'RS256', privateKey: keyPair('rsa').privateKey, keyId: '2026-11' });
    expect(headerOf(rsa, await rsa.createAccessToken('me')).kid).toBe('2026-11');
    const hs = await createService({ secretKey: SECRET });
    expect(headerOf(hs, await hs.createAccessToken('me'))).toEqual({ alg: 'HS256', typ: 'JWT' });
    const hsWithKid = await createService({ secretKey: SECRET, keyId: 'hs-1' });
    const token = await hsWithKid.createAccessToken('me');
    expect(headerOf(hsWithKid, token)).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'hs-1' });
    await expect(hsWithKid.decodeToken(token)).resolves.toMatchObject({ sub: 'me' });
  });

  it('with an encodeKey loader, only a configured keyId is written (a thumbprint would describe another key)', async () => {
    const { privateKey } = keyPair('rsa');
    @Injectable()
    class Keys {
      encodeKey() {
        return privateKey;
      }
    }
    const jwt = await createService({ algorithm: 'RS256', publicKey: keyPair('rsa').publicKey }, { encodeKey: Keys });
    expect(headerOf(jwt, await jwt.createAccessToken('me')).kid).toBeUndefined();
  });
});

describe('RSA-PSS-restricted keys (no JWK form)', () => {
  const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });

  it('sign and verify as before, without a default kid, and are not published', async () => {
    const jwt = await createService({ algorithm: 'PS256', privateKey: pss.privateKey });
    const token = await jwt.createAccessToken('me');
    expect(headerOf(jwt, token)).toEqual({ alg: 'PS256', typ: 'JWT' });
    await expect(jwt.decodeToken(token)).resolves.toMatchObject({ sub: 'me' });
    expect(jwt.getPublicJwks()).toEqual({ keys: [] });
  });

  it('serve as a verification key by kid; jwksPath is refused when nothing else can be published', async () => {
    const old = await createService({ algorithm: 'PS256', privateKey: pss.privateKey, keyId: 'pss-1' });
    const token = await old.createAccessToken('me');
    const current = keyPair('ed25519');
    const jwt = await createService({
      algorithm: 'EdDSA',
      privateKey: current.privateKey,
      verificationKeys: [{ kid: 'pss-1', algorithm: 'PS256', key: pss.publicKey }],
    });
    await expect(jwt.decodeToken(token)).resolves.toMatchObject({ sub: 'me' });
    expect(jwt.getPublicJwks().keys.map((key) => key.alg)).toEqual(['EdDSA']);
    const error = await startupError({ algorithm: 'PS256', privateKey: pss.privateKey, jwksPath: '/jwks' });
    expect(error.option).toBe('jwksPath');
  });
});

describe('getPublicJwks', () => {
  it('publishes the current public key and asymmetric verification keys, never a private key or a secret', async () => {
    const current = keyPair('ed25519');
    const old = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const jwt = await createService({
      algorithm: 'EdDSA',
      privateKey: current.privateKey,
      verificationKeys: [
        { kid: 'old-ec', algorithm: 'ES256', key: old.privateKey }, // given as a private key: its public half is used
        { kid: 'old-hs', algorithm: 'HS256', key: SECRET },
      ],
    });
    const jwks = jwt.getPublicJwks();
    const currentJwk = current.publicKey.export({ format: 'jwk' });
    const oldJwk = old.publicKey.export({ format: 'jwk' });
    expect(jwks).toEqual({
      keys: [
        { ...currentJwk, kid: thumbprint(current.publicKey), alg: 'EdDSA', use: 'sig' },
        { ...oldJwk, kid: 'old-ec', alg: 'ES256', use: 'sig' },
      ],
    });
    expect(JSON.stringify(jwks)).not.toMatch(/"d"|"k"|"p"|"q"/);
    // each call is a copy of its own
    (jwks.keys[0] as { kid: string }).kid = 'tampered';
    jwks.keys.pop();
    expect(jwt.getPublicJwks().keys.map((key) => key.kid)).toEqual([thumbprint(current.publicKey), 'old-ec']);
  });

  it('is empty for an HS-only configuration', async () => {
    expect((await createService({ secretKey: SECRET })).getPublicJwks()).toEqual({ keys: [] });
  });
});

describe('start-up refuses keys and key options that do not fit', () => {
  const rsa = keyPair('rsa');
  const ec = keyPair('ec256');
  const url = 'https://idp.example.com/jwks.json';
  const issuer = { issuer: 'https://idp.example.com', jwksUri: url, algorithms: ['RS256' as const] };
  const refusals: [string, JwtExtendedOptions, string, RegExp][] = [
    ['empty keyId', { secretKey: SECRET, keyId: '' }, 'keyId', /non-empty/],
    [
      'duplicate kids among verificationKeys',
      {
        secretKey: SECRET,
        verificationKeys: [
          { kid: 'a', algorithm: 'RS256', key: rsa.publicKey },
          { kid: 'a', algorithm: 'ES256', key: ec.publicKey },
        ],
      },
      'verificationKeys[1].kid',
      /unique/,
    ],
    [
      'a verification key with the keyId of the current key',
      { secretKey: SECRET, keyId: 'k', verificationKeys: [{ kid: 'k', algorithm: 'RS256', key: rsa.publicKey }] },
      'verificationKeys[0].kid',
      /unique/,
    ],
    [
      'a verification key with the thumbprint of the current key',
      {
        algorithm: 'ES256',
        privateKey: ec.privateKey,
        verificationKeys: [{ kid: thumbprint(ec.publicKey), algorithm: 'RS256', key: rsa.publicKey }],
      },
      'verificationKeys[0].kid',
      /thumbprint/,
    ],
    [
      'a missing kid',
      { secretKey: SECRET, verificationKeys: [{ algorithm: 'RS256', key: rsa.publicKey } as never] },
      'verificationKeys[0].kid',
      /non-empty/,
    ],
    [
      'a small RSA verification key',
      { secretKey: SECRET, verificationKeys: [{ kid: 'a', algorithm: 'RS256', key: keyPair('rsa1024').publicKey }] },
      'verificationKeys[0].key',
      /2048/,
    ],
    [
      'a verification key on the wrong curve',
      { secretKey: SECRET, verificationKeys: [{ kid: 'a', algorithm: 'ES256', key: keyPair('ec384').publicKey }] },
      'verificationKeys[0].key',
      /prime256v1/,
    ],
    [
      'a public key as an HS* verification key',
      {
        secretKey: SECRET,
        verificationKeys: [{ kid: 'a', algorithm: 'HS256', key: rsa.publicKey.export({ format: 'pem', type: 'spki' }).toString() }],
      },
      'verificationKeys[0].key',
      /PEM/,
    ],
    [
      'a short HS* verification secret',
      { secretKey: SECRET, verificationKeys: [{ kid: 'a', algorithm: 'HS256', key: 'short' }] },
      'verificationKeys[0].key',
      /32/,
    ],
    [
      'none as a verification key algorithm',
      { secretKey: SECRET, verificationKeys: [{ kid: 'a', algorithm: 'none' as never, key: SECRET }] },
      'verificationKeys[0].algorithm',
      /none/,
    ],
    ['jwksPath for an HS-only configuration', { secretKey: SECRET, jwksPath: '/.well-known/jwks.json' }, 'jwksPath', /no public key/],
    ['a relative jwksPath', { algorithm: 'RS256', privateKey: rsa.privateKey, jwksPath: 'jwks.json' }, 'jwksPath', /starting with/],
    [
      'HS256 from a trusted issuer',
      { secretKey: SECRET, trustedIssuers: [{ ...issuer, algorithms: ['HS256' as never] }] },
      'trustedIssuers[0].algorithms',
      /asymmetric/,
    ],
    ['no algorithms', { secretKey: SECRET, trustedIssuers: [{ ...issuer, algorithms: [] }] }, 'trustedIssuers[0].algorithms', /non-empty/],
    [
      'an ftp: jwksUri',
      { secretKey: SECRET, trustedIssuers: [{ ...issuer, jwksUri: 'ftp://idp/jwks' }] },
      'trustedIssuers[0].jwksUri',
      /https: or http:/,
    ],
    [
      'a jwksUri that is no URL',
      { secretKey: SECRET, trustedIssuers: [{ ...issuer, jwksUri: '/jwks.json' }] },
      'trustedIssuers[0].jwksUri',
      /URL/,
    ],
    ['no issuer', { secretKey: SECRET, trustedIssuers: [{ ...issuer, issuer: '' }] }, 'trustedIssuers[0].issuer', /non-empty/],
    ['cacheMaxAge 0', { secretKey: SECRET, trustedIssuers: [{ ...issuer, cacheMaxAge: 0 }] }, 'trustedIssuers[0].cacheMaxAge', /seconds/],
    [
      'cacheMaxAge Infinity',
      { secretKey: SECRET, trustedIssuers: [{ ...issuer, cacheMaxAge: Infinity }] },
      'trustedIssuers[0].cacheMaxAge',
      /seconds/,
    ],
    [
      'cooldown past 2^31 ms',
      { secretKey: SECRET, trustedIssuers: [{ ...issuer, cooldown: 2 ** 31 }] },
      'trustedIssuers[0].cooldown',
      /2147483/,
    ],
    ['a negative cooldown', { secretKey: SECRET, trustedIssuers: [{ ...issuer, cooldown: -1 }] }, 'trustedIssuers[0].cooldown', /seconds/],
    ['timeout 0', { secretKey: SECRET, trustedIssuers: [{ ...issuer, timeout: 0 }] }, 'trustedIssuers[0].timeout', /milliseconds/],
    [
      'timeout NaN',
      { secretKey: SECRET, trustedIssuers: [{ ...issuer, timeout: Number.NaN }] },
      'trustedIssuers[0].timeout',
      /milliseconds/,
    ],
    ['an issuer named twice', { secretKey: SECRET, trustedIssuers: [issuer, issuer] }, 'trustedIssuers[1].issuer', /twice/],
    [
      'an unknown member',
      { secretKey: SECRET, trustedIssuers: [{ ...issuer, jku: url } as never] },
      'trustedIssuers[0].jku',
      /not a member/,
    ],
    [
      "the module's own encodeIssuer",
      { secretKey: SECRET, encodeIssuer: issuer.issuer, trustedIssuers: [issuer] },
      'trustedIssuers[0].issuer',
      /encodeIssuer/,
    ],
  ];

  it.each(refusals)('%s', async (_name, options, option, problem) => {
    const error = await startupError(options);
    expect(error).toBeInstanceOf(JwtExtendedConfigError);
    expect(error.option).toBe(option);
    expect(error.message).toMatch(problem);
  });

  it("warns at start-up when a trusted issuer's key set is fetched over plain http beyond loopback", async () => {
    const warnings: string[] = [];
    const logged = async (jwksUri: string) => {
      warnings.length = 0;
      await Test.createTestingModule({
        imports: [JwtExtendedModule.forRoot({ secretKey: SECRET, trustedIssuers: [{ ...issuer, jwksUri }] })],
      })
        .setLogger({ log() {}, error() {}, debug() {}, verbose() {}, warn: (m: unknown) => void warnings.push(String(m)) })
        .compile();
      return warnings.join('\n');
    };
    expect(await logged('http://idp.example.com/jwks.json')).toMatch(/plain http/);
    expect(await logged('http://127.0.0.1:8080/jwks.json')).not.toMatch(/plain http/);
    expect(await logged(url)).not.toMatch(/plain http/);
  });

  it('verificationKeys beside a decodeKey loader (which would silently never use them)', async () => {
    @Injectable()
    class Keys implements DecodeKeyLoader {
      decodeKey() {
        return SECRET;
      }
    }
    const error = await startupError(
      { secretKey: SECRET, verificationKeys: [{ kid: 'a', algorithm: 'HS256', key: SECRET }] },
      { decodeKey: Keys },
    );
    expect(error.option).toBe('verificationKeys');
  });
});

describe.each(ADAPTERS)('key rotation over HTTP (%s)', (adapter) => {
  // Stage 1: the app signs with an ES256 key. Stage 2: an EdDSA key is current, the ES256 key verifies only.
  const oldKey = keyPair('ec256');
  const newKey = keyPair('ed25519');
  const oldKid = thumbprint(oldKey.publicKey);
  const stage1: JwtExtendedOptions = { algorithm: 'ES256', privateKey: oldKey.privateKey };
  const stage2: JwtExtendedOptions = {
    algorithm: 'EdDSA',
    privateKey: newKey.privateKey,
    verificationKeys: [{ kid: oldKid, algorithm: 'ES256', key: oldKey.publicKey }],
    jwksPath: '/.well-known/jwks.json',
  };
  const setup = (options: JwtExtendedOptions) => ({ controllers: [TargetController], options });
  const expectRefused = (t: TestApp, token: string, msg: string) =>
    expectResponse(request(t.url).get('/protected').set(bearer(token)), 422, { msg }, [], { hides: token.slice(0, 40) });
  const expectAccepted = (t: TestApp, token: string, id: string) =>
    expectResponse(request(t.url).get('/protected').set(bearer(token)), 200, protectedAnswer(id), 'protected');

  let oldToken: string;
  beforeAll(async () => {
    oldToken = await withTestApp(adapter, setup(stage1), async (t) => {
      const token = await t.jwt.createAccessToken('old-user');
      await expectAccepted(t, token, 'old-user');
      return token;
    });
  });

  describe('during the rotation', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(adapter, setup(stage2));
    });
    afterAll(() => t?.close());

    it('tokens of the old key (by kid, with its own algorithm) and of the new key are both accepted', async () => {
      await expectAccepted(t, oldToken, 'old-user');
      const token = await t.jwt.createAccessToken('new-user');
      expect(t.jwt.getUnverifiedJwtHeaders(token).kid).toBe(thumbprint(newKey.publicKey));
      await expectAccepted(t, token, 'new-user');
    });

    it("a kid is verified with its key only, with that key's algorithm only; unknown kids are refused", async () => {
      const claims = { sub: 'mallory', iat: now(), exp: now() + 60 };
      const es = { dsaEncoding: 'ieee-p1363' };
      // the old key without kid: only the current key verifies kid-less tokens
      await expectRefused(
        t,
        forgeAsymmetric({ alg: 'ES256' }, claims, oldKey.privateKey, 'sha256', es),
        'The specified alg value is not allowed',
      );
      await expectRefused(t, forgeAsymmetric({ alg: 'EdDSA' }, claims, oldKey.privateKey, null), 'Signature verification failed');
      // the old kid with another algorithm than the one pinned to it
      await expectRefused(
        t,
        forgeAsymmetric({ alg: 'EdDSA', kid: oldKid }, claims, newKey.privateKey, null),
        'The specified alg value is not allowed',
      );
      // the new key's kid on a token the old key signed
      const newKid = thumbprint(newKey.publicKey);
      await expectRefused(
        t,
        forgeAsymmetric({ alg: 'ES256', kid: newKid }, claims, oldKey.privateKey, 'sha256', es),
        'The specified alg value is not allowed',
      );
      await expectRefused(t, forgeAsymmetric({ alg: 'EdDSA', kid: oldKid.slice(1) }, claims, newKey.privateKey, null), 'Unknown key id');
      for (const kid of [42, null, ['x'], { $ne: '' }, '__proto__', 'constructor']) {
        await expectRefused(t, forgeAsymmetric({ alg: 'EdDSA', kid }, claims, newKey.privateKey, null), 'Unknown key id');
      }
      // a correct kid-less token of the current key still works
      await expectAccepted(t, forgeAsymmetric({ alg: 'EdDSA' }, { ...claims, sub: 'plain' }, newKey.privateKey, null), 'plain');
    });

    it("serves the JWKS at jwksPath with Cache-Control, and a verifier of its own accepts the app's tokens with it", async () => {
      const res = await request(t.url).get('/.well-known/jwks.json').expect(200);
      expect(res.headers['cache-control']).toBe('public, max-age=300');
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual(t.jwt.getPublicJwks());
      expect((res.body as PublicJwks).keys.map((key) => key.kid)).toEqual([thumbprint(newKey.publicKey), oldKid]);
      const keySet = createLocalJWKSet(res.body as PublicJwks as never);
      await expect(jwtVerify(await t.jwt.createAccessToken('x'), keySet)).resolves.toMatchObject({ payload: { sub: 'x' } });
      await expect(jwtVerify(oldToken, keySet)).resolves.toMatchObject({ payload: { sub: 'old-user' } });
    });
  });

  it('no global guard stands in front of the JWKS route, and no global prefix moves it', async () => {
    const prefixed = { ...setup(stage2), globalGuard: true, beforeInit: (app: INestApplication) => void app.setGlobalPrefix('api') };
    await withTestApp(adapter, prefixed, async (t) => {
      await expectResponse(request(t.url).get('/api/protected'), 401, { msg: 'Missing Authorization Header' }, []);
      const res = await request(t.url).get('/.well-known/jwks.json').expect(200);
      expect(res.body).toEqual(t.jwt.getPublicJwks());
    });
  });

  it('jwksPath from forRootAsync options is served too', async () => {
    const module = JwtExtendedModule.forRootAsync({ useFactory: async () => ({ ...TOKEN_CACHE, ...stage2, jwksPath: '/keys' }) });
    await withTestApp(adapter, { controllers: [TargetController], module }, async (t) => {
      const res = await request(t.url).get('/keys').expect(200);
      expect(res.headers['cache-control']).toBe('public, max-age=300');
      expect((res.body as PublicJwks).keys).toHaveLength(2);
    });
  });

  it('after the rotation, the old key is dropped and its tokens are refused', async () => {
    await withTestApp(adapter, setup({ algorithm: 'EdDSA', privateKey: newKey.privateKey }), async (t) => {
      await expectRefused(t, oldToken, 'Unknown key id');
      await expectAccepted(t, await t.jwt.createAccessToken('new-user'), 'new-user');
      await expectResponse(request(t.url).get('/.well-known/jwks.json'), 404, expect.anything(), []);
    });
  });

  it('another app trusts this one as an issuer through its jwksPath', async () => {
    await withTestApp(adapter, setup({ ...stage2, encodeIssuer: 'https://auth.internal' }), async (auth) => {
      const trusted = { issuer: 'https://auth.internal', jwksUri: `${auth.url}/.well-known/jwks.json`, algorithms: ['EdDSA' as const] };
      await withTestApp(adapter, setup({ secretKey: SECRET, trustedIssuers: [trusted] }), async (api) => {
        await expectAccepted(api, await auth.jwt.createAccessToken('sso-user'), 'sso-user');
      });
    });
  });
});
