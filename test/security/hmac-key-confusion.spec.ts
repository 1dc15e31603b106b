import { Controller, Get, Injectable } from '@nestjs/common';
import { beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import * as fc from 'fast-check';
import { type KeyObject, createHmac, createSecretKey, generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import {
  type DecodeKeyLoader,
  type EncodeKeyLoader,
  JwtExtendedConfigError,
  type JwtExtendedOptions,
  JwtIdentity,
  type JwtKey,
  JwtRequired,
} from '../../lib/index.js';
import { ADAPTERS, SECRET, useTestApp } from '../support/app.js';
import { forgeHmac, now } from '../support/forge.js';
import { bearer, expectResponse, handlerRuns } from '../support/http.js';
import { createService, keyPair } from '../support/service.js';

/*
 * Defects 9.4 and 9.5: an HMAC keyed with public-key material lets anyone who holds the public
 * key sign tokens. Whatever form a secret takes (string, Buffer, Uint8Array, secret KeyObject)
 * and wherever it comes from (secretKey, an encodeKey or decodeKey loader), key material in any
 * encoding is refused, and HS* keys meet the RFC 7518 §3.2 minimum.
 */

/** A self-signed P-256 certificate (openssl req -x509), public data only. */
const CERTIFICATE_PEM = `-----BEGIN CERTIFICATE-----
MIIBnTCCAUOgAwIBAgIUfB/Lh2Pk+k5+fUYV2kBcmM2wePowCgYIKoZIzj0EAwIw
IzEhMB8GA1UEAwwYbmVzdGpzLWp3dC1leHRlbmRlZCB0ZXN0MCAXDTI2MTEyOTEw
MzgxMloYDzIxMjYxMTA1MTAzODEyWjAjMSEwHwYDVQQDDBhuZXN0anMtand0LWV4
dGVuZGVkIHRlc3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATA3gmqTJi6GCHF
v6frb2QRF6nA0oRUXC56S1bWnJhVh7ui3vz9btUKStc2S51vKmwXYtl8abGrTWwK
XQiHKw2fo1MwUTAdBgNVHQ4EFgQUJpU2yLqF4WRmdrRbDvTZ90xhUlAwHwYDVR0j
BBgwFoAUJpU2yLqF4WRmdrRbDvTZ90xhUlAwDwYDVR0TAQH/BAUwAwEB/zAKBggq
hkjOPQQDAgNIADBFAiEAwOnNrF2haMZt9ui5ftJug4qHqARebwy6ltKTr7IzlFAC
IG+MkgGvinpP8NdRrSwj+i6BbRRZrRk+SUAJf3WVAPyJ
-----END CERTIFICATE-----
`;
const CERTIFICATE_DER = Buffer.from(CERTIFICATE_PEM.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');

/** `"kty"` → `"k\u0074y"`: the same member name, spelled with JSON escapes. */
function escapeMemberNames(json: string): string {
  return json.replace(
    /"([a-z]+)":/gi,
    (_m, name: string) => `"${name.replace(/[a-z]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}":`,
  );
}

/** Every encoding of a key pair's public half (and of its private half) an application might hold. */
function encodingsOf(pair: { privateKey: KeyObject; publicKey: KeyObject }): [string, string | Buffer][] {
  const pem = pair.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const der = pair.publicKey.export({ format: 'der', type: 'spki' });
  const jwk = pair.publicKey.export({ format: 'jwk' });
  const json = JSON.stringify(jwk);
  const reversed = JSON.stringify(Object.fromEntries(Object.entries(jwk).toReversed()), null, 2);
  const list: [string, string | Buffer][] = [
    ['PEM (SPKI)', pem],
    ['PEM, trimmed', pem.trim()],
    ['PEM, CRLF line ends', pem.replace(/\n/g, '\r\n')],
    ['PEM after a BOM and blank lines', `\uFEFF\n\n${pem}`],
    ['private key PEM (PKCS#8)', pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()],
    ['DER (SPKI)', der],
    ['base64 DER', der.toString('base64')],
    ['base64url DER, unpadded', der.toString('base64url')],
    ['base64 DER wrapped at 64 columns', der.toString('base64').replace(/(.{64})/g, '$1\n')],
    ['hex DER', der.toString('hex')],
    ['JWK', json],
    ['JWK, pretty-printed, members reversed', reversed],
    ['JWK with escaped member names', escapeMemberNames(json)],
    ['JWK after a BOM and whitespace', `\uFEFF \n\t${json}\n`],
    ['JWK Set', JSON.stringify({ keys: [jwk] })],
    ['private JWK', JSON.stringify(pair.privateKey.export({ format: 'jwk' }))],
  ];
  if (pair.publicKey.asymmetricKeyType === 'rsa') {
    list.push(
      ['PEM (PKCS#1)', pair.publicKey.export({ format: 'pem', type: 'pkcs1' }).toString()],
      ['DER (PKCS#1)', pair.publicKey.export({ format: 'der', type: 'pkcs1' })],
      ['base64 DER (PKCS#1)', pair.publicKey.export({ format: 'der', type: 'pkcs1' }).toString('base64')],
    );
  }
  return list;
}

const KEY_MATERIAL: [string, string | Buffer][] = [
  ...(['rsa', 'ec256', 'ed25519'] as const).flatMap((kind) =>
    encodingsOf(keyPair(kind)).map(([name, value]): [string, string | Buffer] => [`${kind} ${name}`, value]),
  ),
  ['certificate PEM', CERTIFICATE_PEM],
  ['certificate DER', CERTIFICATE_DER],
  ['certificate base64 DER', CERTIFICATE_DER.toString('base64')],
];

type SecretForm = 'string' | 'Buffer' | 'Uint8Array' | 'secret KeyObject';

/** The same bytes in each form a secret may take. */
function inForm(value: string | Buffer, form: SecretForm): string | Uint8Array | KeyObject {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  switch (form) {
    case 'string':
      return value as string;
    case 'Buffer':
      return Buffer.from(bytes);
    case 'Uint8Array':
      return new Uint8Array(bytes);
    case 'secret KeyObject':
      return createSecretKey(bytes);
  }
}

/** Every (material, form) pair: strings also as bytes; DER only as bytes (it is not text). */
const CASES: [string, SecretForm, string | Buffer][] = KEY_MATERIAL.flatMap(([name, value]) =>
  (typeof value === 'string'
    ? (['string', 'Buffer', 'Uint8Array', 'secret KeyObject'] as const)
    : (['Buffer', 'Uint8Array', 'secret KeyObject'] as const)
  ).map((form): [string, SecretForm, string | Buffer] => [name, form, value]),
);

async function startupError(options: JwtExtendedOptions): Promise<unknown> {
  return createService(options).then(
    () => undefined,
    (error: unknown) => error,
  );
}

/** Whatever the test puts here is what the key loaders return. */
const loaderKey: { value: unknown } = { value: undefined };

@Injectable()
class SwitchableKeys implements EncodeKeyLoader, DecodeKeyLoader {
  encodeKey() {
    return loaderKey.value as JwtKey;
  }
  decodeKey() {
    return loaderKey.value as JwtKey;
  }
}

const INVALID_KEY = { msg: 'Invalid key for the token algorithm' };

@Controller()
class ProtectedController {
  @Get('protected')
  @JwtRequired()
  get(@JwtIdentity() id: unknown) {
    handlerRuns.record('protected');
    return { id };
  }
}

describe('key material is never an HS* secret: start-up (secretKey)', () => {
  it.each(CASES)('refuses %s as a %s', async (_name, form, value) => {
    const error = await startupError({ secretKey: inForm(value, form) as string });
    expect(error).toBeInstanceOf(JwtExtendedConfigError);
    expect((error as JwtExtendedConfigError).option).toBe('secretKey');
    expect((error as Error).message).toMatch(/looks like .*(PEM|JWK|DER)/);
  });

  it('never echoes the material in the error', async () => {
    const pem = keyPair('rsa').publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const error = (await startupError({ secretKey: Buffer.from(pem) })) as Error;
    expect(error.message).not.toContain(pem.split('\n')[1]);
  });
});

describe('key material is never an HS* secret: encodeKey loader', () => {
  let jwt: Awaited<ReturnType<typeof createService>>;
  beforeAll(async () => {
    jwt = await createService({ secretKey: SECRET }, { encodeKey: SwitchableKeys });
  });

  it.each(CASES)('token creation rejects %s as a %s', async (_name, form, value) => {
    loaderKey.value = inForm(value, form);
    await expect(jwt.createAccessToken('x')).rejects.toThrow(/loaders\.encodeKey looks like .*(PEM|JWK|DER)/);
    await expect(jwt.createRefreshToken('x')).rejects.toThrow(/loaders\.encodeKey/);
  });
});

describe.each(ADAPTERS)('key material is never an HS* secret: decodeKey loader over HTTP (%s)', (adapter) => {
  const t = useTestApp(adapter, { controllers: [ProtectedController], loaders: { decodeKey: SwitchableKeys } });

  it.each(CASES)('a token signed with %s as a %s is refused with 422, handler never runs', async (_name, form, value) => {
    loaderKey.value = inForm(value, form);
    const forged = forgeHmac({ alg: 'HS256', typ: 'JWT' }, { sub: 'admin', iat: now(), exp: now() + 60 }, value);
    await expectResponse(request(t.url).get('/protected').set(bearer(forged)), 422, INVALID_KEY, []);
  });

  it('a genuine random key from the loader still works', async () => {
    loaderKey.value = Buffer.alloc(32, 9);
    const token = forgeHmac({ alg: 'HS256' }, { sub: 'me', iat: now(), exp: now() + 60 }, Buffer.alloc(32, 9));
    await expectResponse(request(t.url).get('/protected').set(bearer(token)), 200, { id: 'me' }, 'protected');
  });
});

describe('HS* keys from loaders meet the RFC 7518 §3.2 minimum', () => {
  const MIN = { HS256: 32, HS384: 48, HS512: 64 } as const;
  const FORMS: SecretForm[] = ['string', 'Buffer', 'Uint8Array', 'secret KeyObject'];
  const ALGORITHMS = Object.keys(MIN) as (keyof typeof MIN)[];

  describe('encodeKey: token creation rejects a short key, accepts the minimum', () => {
    it.each(ALGORITHMS.flatMap((alg) => FORMS.map((form) => [alg, form] as const)))('%s, key as a %s', async (algorithm, form) => {
      const jwt = await createService({ algorithm, secretKey: 's'.repeat(64) }, { encodeKey: SwitchableKeys });
      for (const size of [1, MIN[algorithm] - 1]) {
        loaderKey.value = inForm('k'.repeat(size), form);
        await expect(jwt.createAccessToken('x')).rejects.toThrow(
          new RegExp(`loaders\\.encodeKey is ${size} bytes; ${algorithm} needs at least ${MIN[algorithm]}`),
        );
      }
      const key = 'k'.repeat(MIN[algorithm]);
      loaderKey.value = inForm(key, form);
      const [header, payload, signature] = (await jwt.createAccessToken('x')).split('.');
      expect(signature).toBe(
        createHmac(`sha${algorithm.slice(2)}`, key)
          .update(`${header}.${payload}`)
          .digest('base64url'),
      );
    });
  });

  describe.each(ADAPTERS)('decodeKey over HTTP (%s): 422 for a short key, handler never runs', (adapter) => {
    const t = useTestApp(adapter, {
      controllers: [ProtectedController],
      loaders: { decodeKey: SwitchableKeys },
      options: { secretKey: 's'.repeat(64), decodeAlgorithms: ['HS256', 'HS384', 'HS512'] },
    });

    it.each(ALGORITHMS.flatMap((alg) => FORMS.map((form) => [alg, form] as const)))('%s, key as a %s', async (alg, form) => {
      const hash = `sha${alg.slice(2)}`;
      const claims = { sub: 'x', iat: now(), exp: now() + 60 };
      const send = (key: string) =>
        request(t.url)
          .get('/protected')
          .set(bearer(forgeHmac({ alg }, claims, key, hash)));
      for (const size of [1, MIN[alg] - 1]) {
        const key = 'k'.repeat(size);
        loaderKey.value = inForm(key, form);
        await expectResponse(send(key), 422, INVALID_KEY, [], { context: size });
      }
      const key = 'k'.repeat(MIN[alg]);
      loaderKey.value = inForm(key, form);
      await expectResponse(send(key), 200, { id: 'x' }, 'protected');
    });
  });

  it('start-up: a short secretKey is refused as string, Buffer and Uint8Array', async () => {
    for (const form of ['string', 'Buffer', 'Uint8Array'] as const) {
      const error = await startupError({ algorithm: 'HS384', secretKey: inForm('k'.repeat(47), form) as string });
      expect([form, (error as JwtExtendedConfigError).option, (error as Error).message]).toEqual([
        form,
        'secretKey',
        expect.stringMatching(/is 47 bytes; HS384 needs at least 48/),
      ]);
    }
  });
});

describe('properties: random secrets are accepted, key material in any spelling is refused', () => {
  let jwt: Awaited<ReturnType<typeof createService>>;
  beforeAll(async () => {
    jwt = await createService({ secretKey: SECRET }, { encodeKey: SwitchableKeys, decodeKey: SwitchableKeys });
  });
  beforeEach(() => {
    loaderKey.value = undefined;
  });

  /** Signs and verifies through both loaders: resolves when the key was accepted. */
  async function roundTrip(key: unknown): Promise<void> {
    loaderKey.value = key;
    await expect(jwt.decodeToken(await jwt.createAccessToken('p'))).resolves.toMatchObject({ sub: 'p' });
  }

  const randomSecrets = fc.oneof(
    fc.uint8Array({ minLength: 32, maxLength: 128 }),
    // DER-looking: an ASN.1 SEQUENCE tag first, then noise
    fc.uint8Array({ minLength: 31, maxLength: 128 }).map((rest) => Uint8Array.from([0x30, ...rest])),
    fc.string({ minLength: 32, maxLength: 128 }),
    fc.string({ unit: 'binary', minLength: 32, maxLength: 128 }),
    fc.uint8Array({ minLength: 24, maxLength: 96 }).map((bytes) => Buffer.from(bytes).toString('base64')),
    fc.uint8Array({ minLength: 16, maxLength: 64 }).map((bytes) => `30${Buffer.from(bytes).toString('hex')}`),
    fc.uint8Array({ minLength: 24, maxLength: 96 }).map((bytes) => `{"k":"${Buffer.from(bytes).toString('base64url')}"}`),
  );

  it('random bytes and strings of the right length are accepted by the loaders', async () => {
    await fc.assert(fc.asyncProperty(randomSecrets, roundTrip), { numRuns: 400 });
  });

  it('random bytes and strings of the right length are accepted at start-up', async () => {
    await fc.assert(
      fc.asyncProperty(randomSecrets, async (secretKey) => {
        const service = await createService({ secretKey: secretKey as string });
        await expect(service.decodeToken(await service.createAccessToken('p'))).resolves.toMatchObject({ sub: 'p' });
      }),
      { numRuns: 60 },
    );
  });

  const freshPair = fc
    .constantFrom('ec256', 'ec384', 'ec521', 'ed25519', 'ed448', 'x25519', 'rsa')
    .map((kind) =>
      kind === 'rsa'
        ? keyPair('rsa')
        : kind === 'x25519' || kind === 'ed25519' || kind === 'ed448'
          ? generateKeyPairSync(kind as 'ed25519')
          : generateKeyPairSync('ec', { namedCurve: { ec256: 'prime256v1', ec384: 'secp384r1', ec521: 'secp521r1' }[kind]! }),
    );

  it('every encoding of a real key, in every form, is refused by both loaders', async () => {
    await fc.assert(
      fc.asyncProperty(
        freshPair,
        fc.nat(),
        fc.constantFrom<SecretForm>('string', 'Buffer', 'Uint8Array', 'secret KeyObject'),
        async (pair, pick, form) => {
          const encodings = encodingsOf(pair);
          const [, value] = encodings[pick % encodings.length];
          loaderKey.value = inForm(value, typeof value === 'string' ? form : form === 'string' ? 'Buffer' : form);
          await expect(jwt.createAccessToken('p')).rejects.toThrow(/looks like/);
          await expect(jwt.decodeToken(forgeHmac({ alg: 'HS256' }, { sub: 'p' }, value))).rejects.toThrow(
            'Invalid key for the token algorithm',
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  /** A JWK's JSON as anyone might write it: members in any order, names escaped or not, any whitespace, a BOM. */
  const jwkSpelling = fc.record({
    order: fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
    escape: fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }),
    space: fc.constantFrom('', ' ', '\n', '\t', '\r\n  '),
    bom: fc.boolean(),
  });

  it('a JWK is refused however its JSON is spelled', async () => {
    const jwk = keyPair('ec256').publicKey.export({ format: 'jwk' }) as Record<string, string>;
    await fc.assert(
      fc.asyncProperty(jwkSpelling, async ({ order, escape, space, bom }) => {
        const entries = Object.entries(jwk)
          .map((entry, i) => ({ entry, rank: order[i % order.length] }))
          .toSorted((a, b) => a.rank - b.rank)
          .map(({ entry }) => entry);
        let bit = 0;
        const spellName = (name: string) =>
          [...name].map((c) => (escape[bit++ % escape.length] ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c)).join('');
        const members = entries.map(([name, value]) => `${space}"${spellName(name)}"${space}:${space}${JSON.stringify(value)}`);
        const json = `${bom ? '\uFEFF' : ''}${space}{${members.join(',')}${space}}${space}`;
        expect(JSON.parse(json.replace(/^\uFEFF/, ''))).toEqual(jwk);
        for (const form of ['string', 'Buffer', 'Uint8Array'] as const) {
          loaderKey.value = inForm(json, form);
          await expect(jwt.createAccessToken('p')).rejects.toThrow(/looks like a JWK/);
        }
      }),
      { numRuns: 200 },
    );
  });
});
