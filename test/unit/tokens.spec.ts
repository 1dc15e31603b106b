import { Injectable } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import * as jose from 'jose';
import { createSecretKey } from 'node:crypto';
import {
  type AdditionalClaimsLoader,
  type AdditionalHeadersLoader,
  CsrfException,
  type DecodeKeyLoader,
  type EncodeKeyLoader,
  ExpiredTokenException,
  JwtDecodeException,
  type JwtProtectedHeader,
  type TokenLifetime,
  type UserIdentityLoader,
} from '../../lib/index.js';
import { SECRET } from '../support/app.js';
import { forgeHmac, now, withAnotherSignature } from '../support/forge.js';
import { KEY_FOR, createService, keyPair } from '../support/service.js';

function parts(token: string) {
  const [h, p] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString()),
  };
}

async function decodeError(promise: Promise<unknown>): Promise<{ type: string; status: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { constructor: { name: string }; getStatus(): number; reason: string };
    return { type: e.constructor.name, status: e.getStatus(), message: e.reason };
  }
  throw new Error('expected the promise to reject');
}

describe('createAccessToken / createRefreshToken', () => {
  it('puts the Flask claims in an access token, in order', async () => {
    const jwt = await createService();
    const token = await jwt.createAccessToken('alice');
    const { header, payload } = parts(token);
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(Object.keys(payload)).toEqual(['fresh', 'iat', 'jti', 'type', 'sub', 'nbf', 'csrf', 'exp']);
    expect(payload).toMatchObject({ fresh: false, type: 'access', sub: 'alice' });
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(payload.csrf).toMatch(/^[0-9a-f-]{36}$/);
    expect(payload.nbf).toBe(payload.iat);
    expect(payload.exp - payload.iat).toBe(900);
    expect(Math.abs(payload.iat - now())).toBeLessThanOrEqual(1);
  });

  it('makes refresh tokens of type refresh, never fresh, 30 days by default', async () => {
    const jwt = await createService();
    const { payload } = parts(await jwt.createRefreshToken('alice'));
    expect(payload).toMatchObject({ type: 'refresh', fresh: false, sub: 'alice' });
    expect(payload.exp - payload.iat).toBe(2592000);
  });

  it('honours fresh as boolean or as seconds (negative = already stale)', async () => {
    const jwt = await createService();
    expect(parts(await jwt.createAccessToken('a', { fresh: true })).payload.fresh).toBe(true);
    const timed = parts(await jwt.createAccessToken('a', { fresh: 600 })).payload;
    expect(timed.fresh).toBe(timed.iat + 600);
    const stale = parts(await jwt.createAccessToken('a', { fresh: -5 })).payload;
    expect(stale.fresh).toBe(stale.iat - 5);
  });

  it('honours expiresDelta as seconds, duration string, negative, or false', async () => {
    const jwt = await createService();
    const span = async (expiresDelta: TokenLifetime) => {
      const p = parts(await jwt.createAccessToken('a', { expiresDelta })).payload;
      return p.exp === undefined ? undefined : p.exp - p.iat;
    };
    expect(await span(60)).toBe(60);
    expect(await span('2h')).toBe(7200);
    expect(await span('30d')).toBe(2592000);
    expect(await span(-10)).toBe(-10);
    expect(await span(false)).toBeUndefined();
    // @ts-expect-error not a duration: refused when compiling, and at runtime for untyped callers
    await expect(jwt.createAccessToken('a', { expiresDelta: 'soon' })).rejects.toThrow(/expiresDelta/);
  });

  it('uses configured lifetimes, audience, issuer, nbf and identity claim', async () => {
    const jwt = await createService({
      secretKey: SECRET,
      accessTokenExpires: '15m',
      refreshTokenExpires: 3600,
      encodeAudience: ['api', 'web'],
      encodeIssuer: 'issuer-1',
      encodeNbf: false,
      identityClaim: 'identity',
      cookieCsrfProtect: false,
    });
    const access = parts(await jwt.createAccessToken('bob')).payload;
    expect(access).toMatchObject({ aud: ['api', 'web'], iss: 'issuer-1', identity: 'bob' });
    expect(access.exp - access.iat).toBe(900);
    expect(access).not.toHaveProperty('nbf');
    expect(access).not.toHaveProperty('csrf');
    expect(access).not.toHaveProperty('sub');
    const refresh = parts(await jwt.createRefreshToken('bob')).payload;
    expect(refresh.exp - refresh.iat).toBe(3600);
  });

  it('adds per-call claims and headers after the loaders (later wins)', async () => {
    @Injectable()
    class Extras implements AdditionalClaimsLoader, AdditionalHeadersLoader {
      async additionalClaims(identity: unknown) {
        return { role: 'user', from: 'loader', who: identity };
      }
      additionalHeaders(identity: unknown) {
        return { kid: 'loader-kid', who: identity };
      }
    }
    // keyId names the signing key: a token's kid must be one this app verifies with (§11)
    const jwt = await createService({ secretKey: SECRET, keyId: 'call-kid' }, { additionalClaims: Extras, additionalHeaders: Extras });
    const token = await jwt.createAccessToken('carol', { additionalClaims: { from: 'call' }, additionalHeaders: { kid: 'call-kid' } });
    const { header, payload } = parts(token);
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'call-kid', who: 'carol' });
    expect(payload).toMatchObject({ role: 'user', from: 'call', who: 'carol' });
    expect(await jwt.decodeToken(token)).toMatchObject({ role: 'user', from: 'call' });
  });

  it('maps the identity through userIdentity (loaders still see the original)', async () => {
    @Injectable()
    class Identity implements UserIdentityLoader, AdditionalClaimsLoader {
      async userIdentity(user: unknown) {
        return (user as { id: string }).id;
      }
      additionalClaims(user: unknown) {
        return { name: (user as { name: string }).name };
      }
    }
    const jwt = await createService({ secretKey: SECRET }, { userIdentity: Identity, additionalClaims: Identity });
    const payload = parts(await jwt.createAccessToken({ id: 'u1', name: 'Uma' })).payload;
    expect(payload).toMatchObject({ sub: 'u1', name: 'Uma' });
  });

  it('refuses claims and headers that JSON cannot carry', async () => {
    const jwt = await createService();
    await expect(jwt.createAccessToken('a', { additionalClaims: { big: 10n } })).rejects.toThrow(/bigint/);
    await expect(jwt.createAccessToken('a', { additionalClaims: { f: () => 1 } })).rejects.toThrow(/function/);
    await expect(jwt.createAccessToken('a', { additionalClaims: { n: NaN } })).rejects.toThrow(/NaN/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(jwt.createAccessToken('a', { additionalClaims: { cyclic } })).rejects.toThrow(/cycles/);
    await expect(jwt.createAccessToken('a', { additionalHeaders: { u: undefined } })).rejects.toThrow(/undefined/);
    await expect(jwt.createAccessToken(undefined)).rejects.toThrow(/undefined/);
    await expect(jwt.createAccessToken('a', { additionalHeaders: { alg: 'none' } })).rejects.toThrow(/alg/);
  });

  it('accepts Date claims (serialised through toJSON)', async () => {
    const jwt = await createService();
    const payload = parts(await jwt.createAccessToken('a', { additionalClaims: { at: new Date(0) } })).payload;
    expect(payload.at).toBe('1970-01-01T00:00:00.000Z');
  });
});

describe('decodeToken', () => {
  it('round-trips and fills Flask defaults for type/fresh/jti', async () => {
    const jwt = await createService();
    const decoded = await jwt.decodeToken(forgeHmac({ alg: 'HS256' }, { sub: 'x', iat: now() }, SECRET));
    expect(decoded).toMatchObject({ sub: 'x', type: 'access', fresh: false, jti: null });
  });

  const cases: [string, Record<string, unknown>, string, string][] = [
    ['expired', { sub: 'x', exp: now() - 10 }, 'ExpiredTokenException', 'Token has expired'],
    ['nbf in the future', { sub: 'x', nbf: now() + 60 }, 'JwtDecodeException', 'The token is not yet valid (nbf)'],
    ['iat in the future', { sub: 'x', iat: now() + 60 }, 'JwtDecodeException', 'The token is not yet valid (iat)'],
    ['no identity claim', { foo: 1 }, 'JwtDecodeException', 'Missing claim: sub'],
    ['numeric sub', { sub: 123 }, 'JwtDecodeException', 'Subject must be a string'],
    ['string exp', { sub: 'x', exp: '9999999999' }, 'JwtDecodeException', 'The exp claim must be a finite number'],
    ['null nbf', { sub: 'x', nbf: null }, 'JwtDecodeException', 'The nbf claim must be a finite number'],
    ['string iat', { sub: 'x', iat: 'now' }, 'JwtDecodeException', 'The iat claim must be a finite number'],
  ];
  it.each(cases)('refuses a token with %s', async (_name, payload, type, message) => {
    const jwt = await createService();
    const result = await decodeError(jwt.decodeToken(forgeHmac({ alg: 'HS256', typ: 'JWT' }, payload, SECRET)));
    expect(result).toMatchObject({ type, message, status: type === 'ExpiredTokenException' ? 401 : 422 });
  });

  it('refuses exp written as 1e999 (Infinity after parsing)', async () => {
    const jwt = await createService();
    const raw = `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from('{"sub":"x","exp":1e999}').toString('base64url')}`;
    const { createHmac } = await import('node:crypto');
    const token = `${raw}.${createHmac('sha256', SECRET).update(raw).digest('base64url')}`;
    expect(await decodeError(jwt.decodeToken(token))).toMatchObject({ status: 422, message: 'The exp claim must be a finite number' });
  });

  it('carries the verified header and payload on claim errors', async () => {
    const jwt = await createService({ secretKey: SECRET, keyId: 'k1' });
    try {
      await jwt.decodeToken(forgeHmac({ alg: 'HS256', kid: 'k1' }, { sub: 'x', exp: now() - 10 }, SECRET));
      throw new Error('should fail');
    } catch (error) {
      expect(error).toBeInstanceOf(ExpiredTokenException);
      const e = error as ExpiredTokenException;
      expect(e.jwtHeader).toEqual({ alg: 'HS256', kid: 'k1' });
      expect(e.jwtPayload).toMatchObject({ sub: 'x', type: 'access' });
      expect(e.getResponse()).toEqual({ msg: 'Token has expired' });
    }
  });

  it('allowExpired accepts an expired token but still checks everything else', async () => {
    const jwt = await createService();
    const expired = await jwt.createAccessToken('x', { expiresDelta: -30 });
    expect(await jwt.decodeToken(expired, { allowExpired: true })).toMatchObject({ sub: 'x' });
    const other = await createService({ secretKey: 'another-secret-that-is-32-bytes-long' });
    expect(await decodeError(other.decodeToken(expired, { allowExpired: true }))).toMatchObject({
      message: 'Signature verification failed',
    });
  });

  it('applies decodeLeeway to exp and nbf', async () => {
    const jwt = await createService({ secretKey: SECRET, decodeLeeway: 60 });
    await expect(
      jwt.decodeToken(forgeHmac({ alg: 'HS256' }, { sub: 'x', exp: now() - 30, nbf: now() + 30 }, SECRET)),
    ).resolves.toBeTruthy();
    await expect(jwt.decodeToken(forgeHmac({ alg: 'HS256' }, { sub: 'x', exp: now() - 90 }, SECRET))).rejects.toBeInstanceOf(
      ExpiredTokenException,
    );
  });

  it('checks audience and issuer when configured', async () => {
    const jwt = await createService({ secretKey: SECRET, decodeAudience: ['api', 'web'], decodeIssuer: 'me' });
    const tok = (claims: object) => forgeHmac({ alg: 'HS256' }, { sub: 'x', ...claims }, SECRET);
    await expect(jwt.decodeToken(tok({ aud: 'web', iss: 'me' }))).resolves.toBeTruthy();
    await expect(jwt.decodeToken(tok({ aud: ['other', 'api'], iss: 'me' }))).resolves.toBeTruthy();
    expect(await decodeError(jwt.decodeToken(tok({ aud: 'other', iss: 'me' })))).toMatchObject({ message: 'Invalid audience' });
    expect(await decodeError(jwt.decodeToken(tok({ iss: 'me' })))).toMatchObject({ message: 'Invalid audience', status: 422 });
    expect(await decodeError(jwt.decodeToken(tok({ aud: 'api', iss: 'you' })))).toMatchObject({ message: 'Invalid issuer' });
    expect(await decodeError(jwt.decodeToken(tok({ aud: 'api' })))).toMatchObject({ message: 'Invalid issuer' });
  });

  it('uses the configured identity claim and lets verifySub be switched off', async () => {
    const custom = await createService({ secretKey: SECRET, identityClaim: 'uid' });
    expect(await decodeError(custom.decodeToken(forgeHmac({ alg: 'HS256' }, { sub: 'x' }, SECRET)))).toMatchObject({
      message: 'Missing claim: uid',
    });
    // verifySub checks sub whatever the identity claim is.
    expect(await decodeError(custom.decodeToken(forgeHmac({ alg: 'HS256' }, { uid: 1, sub: 2 }, SECRET)))).toMatchObject({
      message: 'Subject must be a string',
    });
    const lax = await createService({ secretKey: SECRET, verifySub: false });
    expect(await lax.decodeToken(forgeHmac({ alg: 'HS256' }, { sub: 42 }, SECRET))).toMatchObject({ sub: 42 });
    expect(await lax.decodeToken(await lax.createAccessToken({ id: 7 }))).toMatchObject({ sub: { id: 7 } });
  });

  it('checks csrfValue in constant time against the csrf claim', async () => {
    const jwt = await createService();
    const token = await jwt.createAccessToken('x');
    const csrf = jwt.getCsrfToken(token);
    await expect(jwt.decodeToken(token, { csrfValue: csrf })).resolves.toMatchObject({ csrf });
    for (const wrong of ['nope', `${csrf}x`, csrf.slice(1), 'é'.repeat(40), '']) {
      const error = await decodeError(jwt.decodeToken(token, { csrfValue: wrong }));
      expect(error).toMatchObject({ type: 'CsrfException', status: 401, message: 'CSRF double submit tokens do not match' });
    }
    const noCsrf = forgeHmac({ alg: 'HS256' }, { sub: 'x' }, SECRET);
    expect(await decodeError(jwt.decodeToken(noCsrf, { csrfValue: csrf }))).toMatchObject({ message: 'Missing claim: csrf', status: 422 });
  });

  it('refuses algorithms outside the allowed list, and allows decodeAlgorithms', async () => {
    const strict = await createService({ secretKey: 'x'.repeat(64) });
    const hs512 = forgeHmac({ alg: 'HS512' }, { sub: 'x' }, 'x'.repeat(64), 'sha512');
    expect(await decodeError(strict.decodeToken(hs512))).toMatchObject({ message: 'The specified alg value is not allowed' });
    const wide = await createService({ secretKey: 'x'.repeat(64), decodeAlgorithms: ['HS512'] });
    await expect(wide.decodeToken(hs512)).resolves.toMatchObject({ sub: 'x' });
    // algorithm is always allowed, even when decodeAlgorithms leaves it out
    await expect(wide.decodeToken(await wide.createAccessToken('y'))).resolves.toMatchObject({ sub: 'y' });
  });

  it('refuses a bad signature and malformed tokens with short reasons', async () => {
    const jwt = await createService();
    const good = await jwt.createAccessToken('x');
    const [h, p, s] = good.split('.');
    const flipped = withAnotherSignature(good);
    const table: [unknown, string][] = [
      [flipped, 'Signature verification failed'],
      [`${h}.${p}`, 'Not enough segments'],
      [`${h}.${p}.${s}.x`, 'Too many segments'],
      [`${h}!.${p}.${s}`, 'Invalid header padding'],
      [`${b('not json')}.${p}.${s}`, 'Invalid header string'],
      [`${b('[1]')}.${p}.${s}`, 'Invalid header string: must be a json object'],
      [`${h}.${b('"str"')}.${s}`, 'Invalid payload string: must be a json object'],
      [`${h}.${p}.a$b`, 'Invalid crypto padding'],
      ['', 'Not enough segments'],
      [42, 'Invalid token type. Token must be a string'],
      ['a'.repeat(9000), 'Token is too long'],
    ];
    for (const [token, message] of table) {
      const error = await decodeError(jwt.decodeToken(token as string));
      expect({ token: String(token).slice(0, 20), ...error }).toEqual({
        token: String(token).slice(0, 20),
        type: 'JwtDecodeException',
        status: 422,
        message,
      });
    }
  });

  it('uses errorMessageKey in exception bodies', async () => {
    const jwt = await createService({ secretKey: SECRET, errorMessageKey: 'error' });
    try {
      await jwt.decodeToken('a.b');
      throw new Error('should fail');
    } catch (error) {
      expect((error as JwtDecodeException).getResponse()).toEqual({ error: 'Not enough segments' });
    }
  });
});

function b(text: string) {
  return Buffer.from(text).toString('base64url');
}

describe('algorithms and key forms', () => {
  it.each(['HS256', 'HS384', 'HS512'] as const)('%s with a string secret and with bytes', async (algorithm) => {
    const size = { HS256: 32, HS384: 48, HS512: 64 }[algorithm];
    for (const secretKey of ['s'.repeat(size), new Uint8Array(size).fill(7)]) {
      const jwt = await createService({ algorithm, secretKey });
      const token = await jwt.createAccessToken('x');
      expect(parts(token).header.alg).toBe(algorithm);
      expect(await jwt.decodeToken(token)).toMatchObject({ sub: 'x' });
      // interoperates with jose
      const verified = await jose.jwtVerify(token, typeof secretKey === 'string' ? new TextEncoder().encode(secretKey) : secretKey);
      expect(verified.payload.sub).toBe('x');
    }
  });

  const asymmetric = Object.keys(KEY_FOR) as (keyof typeof KEY_FOR)[];
  it.each(asymmetric)('%s with KeyObject, PEM and JWK keys, interoperable with jose', async (algorithm) => {
    const { privateKey, publicKey } = keyPair(KEY_FOR[algorithm]);
    const forms = [
      { privateKey, publicKey },
      {
        privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
        publicKey: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
      },
      { privateKey: privateKey.export({ format: 'jwk' }) as never, publicKey: publicKey.export({ format: 'jwk' }) as never },
    ];
    for (const keys of forms) {
      const jwt = await createService({ algorithm, ...keys });
      const token = await jwt.createAccessToken('x', { fresh: true });
      expect(parts(token).header.alg).toBe(algorithm);
      expect(await jwt.decodeToken(token)).toMatchObject({ sub: 'x', fresh: true });
      const verified = await jose.jwtVerify(token, publicKey, { algorithms: [algorithm] });
      expect(verified.payload.sub).toBe('x');
    }
    // tokens made by jose verify here
    const joseToken = await new jose.SignJWT({ sub: 'from-jose' }).setProtectedHeader({ alg: algorithm }).sign(privateKey);
    const verifier = await createService({ algorithm, publicKey });
    expect(await verifier.decodeToken(joseToken)).toMatchObject({ sub: 'from-jose' });
  });

  it('accepts PKCS#1 RSA PEMs and derives the public key from the private one', async () => {
    const { privateKey, publicKey } = keyPair('rsa');
    const jwt = await createService({
      algorithm: 'RS256',
      privateKey: privateKey.export({ format: 'pem', type: 'pkcs1' }).toString(),
    });
    const token = await jwt.createAccessToken('x');
    const verifier = await createService({
      algorithm: 'RS256',
      publicKey: publicKey.export({ format: 'pem', type: 'pkcs1' }).toString(),
    });
    expect(await verifier.decodeToken(token)).toMatchObject({ sub: 'x' });
  });

  it('verifies with only a public key, and says privateKey is needed to create', async () => {
    const { publicKey } = keyPair('ec256');
    const jwt = await createService({ algorithm: 'ES256', publicKey });
    await expect(jwt.createAccessToken('x')).rejects.toThrow(/privateKey/);
  });

  it('never verifies an RS256 token with the HMAC of its public key (algorithm confusion)', async () => {
    const { privateKey, publicKey } = keyPair('rsa');
    const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const jwt = await createService({ algorithm: 'RS256', privateKey, decodeAlgorithms: ['RS256'] });
    const forged = forgeHmac({ alg: 'HS256' }, { sub: 'admin' }, pem);
    expect(await decodeError(jwt.decodeToken(forged))).toMatchObject({ message: 'The specified alg value is not allowed' });
  });
});

describe('key loaders', () => {
  const keys = { k1: 'k'.repeat(32), k2: 'q'.repeat(32) } as Record<string, string>;

  @Injectable()
  class KidKeys implements EncodeKeyLoader, DecodeKeyLoader, AdditionalHeadersLoader {
    encodeKey(identity: unknown) {
      return keys[identity === 'alice' ? 'k1' : 'k2'];
    }
    additionalHeaders(identity: unknown) {
      return { kid: identity === 'alice' ? 'k1' : 'k2' };
    }
    async decodeKey(header: JwtProtectedHeader) {
      return Object.hasOwn(keys, String(header.kid)) ? keys[String(header.kid)] : '';
    }
  }

  it('signs with encodeKey and verifies with decodeKey (no secretKey configured)', async () => {
    const jwt = await createService({}, { encodeKey: KidKeys, decodeKey: KidKeys, additionalHeaders: KidKeys });
    const alice = await jwt.createAccessToken('alice');
    const bob = await jwt.createAccessToken('bob');
    expect(await jwt.decodeToken(alice)).toMatchObject({ sub: 'alice' });
    expect(await jwt.decodeToken(bob)).toMatchObject({ sub: 'bob' });
    expect(parts(alice).header.kid).toBe('k1');
    // a token claiming kid k1 but signed with k2 fails
    const forged = forgeHmac({ alg: 'HS256', kid: 'k1' }, { sub: 'alice' }, keys.k2);
    expect(await decodeError(jwt.decodeToken(forged))).toMatchObject({ message: 'Signature verification failed' });
    // an unknown kid gets an empty key: refused with 422
    const unknown = forgeHmac({ alg: 'HS256', kid: '../../etc/passwd' }, { sub: 'alice' }, keys.k1);
    expect(await decodeError(jwt.decodeToken(unknown))).toMatchObject({ status: 422 });
  });

  it('refuses a decode key loader that returns a PEM for an HS token', async () => {
    const pem = keyPair('rsa').publicKey.export({ format: 'pem', type: 'spki' }).toString();
    @Injectable()
    class PemLoader implements DecodeKeyLoader {
      decodeKey() {
        return pem;
      }
    }
    const jwt = await createService({}, { decodeKey: PemLoader });
    const forged = forgeHmac({ alg: 'HS256' }, { sub: 'x' }, pem);
    expect(await decodeError(jwt.decodeToken(forged))).toMatchObject({ status: 422, type: 'JwtDecodeException' });
  });

  it('accepts KeyObjects and bytes from key loaders', async () => {
    const secret = createSecretKey(Buffer.alloc(32, 3));
    @Injectable()
    class ObjLoader implements EncodeKeyLoader, DecodeKeyLoader {
      encodeKey() {
        return secret;
      }
      decodeKey() {
        return new Uint8Array(32).fill(3);
      }
    }
    const jwt = await createService({}, { encodeKey: ObjLoader, decodeKey: ObjLoader });
    expect(await jwt.decodeToken(await jwt.createAccessToken('x'))).toMatchObject({ sub: 'x' });
  });
});

describe('unverified helpers', () => {
  it('getUnverifiedJwtHeaders, getJti and getCsrfToken read without verifying', async () => {
    const jwt = await createService({ secretKey: SECRET, keyId: 'abc' });
    const token = await jwt.createAccessToken('x', { additionalHeaders: { kid: 'abc' } });
    expect(jwt.getUnverifiedJwtHeaders(token)).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'abc' });
    expect(jwt.getJti(token)).toBe(parts(token).payload.jti);
    expect(jwt.getCsrfToken(token)).toBe(parts(token).payload.csrf);
    expect(jwt.getJti(forgeHmac({ alg: 'HS256' }, { sub: 'x' }, 'whatever'))).toBeNull();
    expect(() => jwt.getUnverifiedJwtHeaders('garbage')).toThrow(JwtDecodeException);
    expect(() => jwt.getCsrfToken(forgeHmac({ alg: 'HS256' }, { sub: 'x' }, 'k'))).toThrow('Missing claim: csrf');
  });
});

describe('csrf exception class', () => {
  it('is exported and is a 401', () => {
    expect(new CsrfException('Missing CSRF token').getStatus()).toBe(401);
  });
});
