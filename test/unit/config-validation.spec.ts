import { Injectable, Module } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { type KeyObject, createSecretKey, generateKeyPairSync } from 'node:crypto';
import { JwtExtendedConfigError, JwtExtendedModule, type JwtExtendedOptions, JwtExtendedService } from '../../lib/index.js';
import { SECRET } from '../support/app.js';
import { createService, keyPair } from '../support/service.js';

async function startupError(options: unknown): Promise<Error> {
  try {
    await createService(options as JwtExtendedOptions);
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected start-up to fail');
}

describe('start-up validation', () => {
  const rsa = keyPair('rsa');
  const rsaPem = rsa.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const refusals: [string, unknown, string, RegExp][] = [
    ['missing secret for HS256', {}, 'secretKey', /required for HS256/],
    ['HS256 secret under 32 bytes', { secretKey: 'short' }, 'secretKey', /at least 32/],
    ['HS384 secret under 48 bytes', { algorithm: 'HS384', secretKey: 'x'.repeat(47) }, 'secretKey', /at least 48/],
    ['HS512 secret under 64 bytes', { algorithm: 'HS512', secretKey: new Uint8Array(63) }, 'secretKey', /at least 64/],
    ['decode algorithm HS512 with a 32-byte secret', { secretKey: SECRET, decodeAlgorithms: ['HS512'] }, 'secretKey', /HS512/],
    ['PEM as HS secret', { secretKey: rsaPem }, 'secretKey', /PEM/],
    ['certificate-like PEM as HS secret', { secretKey: '-----BEGIN CERTIFICATE-----\nabc' + 'x'.repeat(40) }, 'secretKey', /PEM/],
    ['JWK string as HS secret', { secretKey: JSON.stringify(rsa.publicKey.export({ format: 'jwk' })) }, 'secretKey', /JWK/],
    ['JWK object as HS secret', { secretKey: rsa.publicKey.export({ format: 'jwk' }) }, 'secretKey', /string or a Uint8Array/],
    ['algorithm none', { algorithm: 'none', secretKey: SECRET }, 'algorithm', /none/],
    ['algorithm NoNe', { algorithm: 'NoNe', secretKey: SECRET }, 'algorithm', /none/],
    ['none among decodeAlgorithms', { secretKey: SECRET, decodeAlgorithms: ['HS256', 'NONE'] }, 'decodeAlgorithms', /none/],
    ['unknown algorithm', { algorithm: 'HS1024', secretKey: SECRET }, 'algorithm', /unknown algorithm/],
    ['empty decodeAlgorithms', { secretKey: SECRET, decodeAlgorithms: [] }, 'decodeAlgorithms', /non-empty/],
    ['RS256 without keys', { algorithm: 'RS256' }, 'privateKey', /required for RS256/],
    ['RSA key under 2048 bits', { algorithm: 'RS256', privateKey: keyPair('rsa1024').privateKey }, 'privateKey', /2048/],
    ['EC key for RS256', { algorithm: 'RS256', privateKey: keyPair('ec256').privateKey }, 'privateKey', /RSA/],
    ['P-384 key for ES256', { algorithm: 'ES256', privateKey: keyPair('ec384').privateKey }, 'privateKey', /prime256v1/],
    ['RSA key for EdDSA', { algorithm: 'EdDSA', publicKey: rsa.publicKey }, 'publicKey', /Ed25519/],
    [
      'mismatched key pair',
      {
        algorithm: 'ES256',
        privateKey: keyPair('ec256').privateKey,
        publicKey: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ format: 'jwk' }),
      },
      'publicKey',
      /does not match privateKey/,
    ],
    [
      'unparsable private PEM',
      { algorithm: 'RS256', privateKey: '-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----' },
      'privateKey',
      /not a valid private key/,
    ],
    ['public key given as private key', { algorithm: 'RS256', privateKey: rsa.publicKey }, 'privateKey', /must be a private key/],
    ['unknown token location', { secretKey: SECRET, tokenLocation: ['headers', 'body'] }, 'tokenLocation', /unknown location "body"/],
    ['empty token location list', { secretKey: SECRET, tokenLocation: [] }, 'tokenLocation', /at least one/],
    ['duplicated token location', { secretKey: SECRET, tokenLocation: ['cookies', 'cookies'] }, 'tokenLocation', /twice/],
    ['empty header name', { secretKey: SECRET, headerName: '' }, 'headerName', /empty/],
    ['header name with a space', { secretKey: SECRET, headerName: 'X Auth' }, 'headerName', /valid HTTP header/],
    ['header type with a space', { secretKey: SECRET, headerType: 'Bearer token' }, 'headerType', /single word/],
    ['unparsable duration', { secretKey: SECRET, accessTokenExpires: 'fortnight-ish' }, 'accessTokenExpires', /duration/],
    ['zero lifetime', { secretKey: SECRET, refreshTokenExpires: 0 }, 'refreshTokenExpires', /positive/],
    ['NaN lifetime', { secretKey: SECRET, accessTokenExpires: Number.NaN }, 'accessTokenExpires', /duration/],
    ['SameSite None without Secure', { secretKey: SECRET, cookieSameSite: 'None' }, 'cookieSameSite', /cookieSecure/],
    ['unknown SameSite', { secretKey: SECRET, cookieSameSite: 'Sometimes' }, 'cookieSameSite', /Lax/],
    ['negative leeway', { secretKey: SECRET, decodeLeeway: -1 }, 'decodeLeeway', />= 0/],
    ['infinite leeway', { secretKey: SECRET, decodeLeeway: Infinity }, 'decodeLeeway', /finite/],
    ['non-boolean flag', { secretKey: SECRET, cookieSecure: 'yes' }, 'cookieSecure', /true or false/],
    ['cookie path without slash', { secretKey: SECRET, accessCookiePath: 'api' }, 'accessCookiePath', /starting with/],
    ['cookie name with ;', { secretKey: SECRET, accessCookieName: 'a;b' }, 'accessCookieName', /valid HTTP header or cookie name/],
    ['cookie domain with ;', { secretKey: SECRET, cookieDomain: 'a.com; Secure' }, 'cookieDomain', /domain/],
    ['bad csrfMethods', { secretKey: SECRET, csrfMethods: 'POST' }, 'csrfMethods', /array/],
    ['empty decodeAudience', { secretKey: SECRET, decodeAudience: [] }, 'decodeAudience', /non-empty/],
    ['maxTokenLength 0', { secretKey: SECRET, maxTokenLength: 0 }, 'maxTokenLength', />= 1/],
    ['negative loaderTimeout', { secretKey: SECRET, loaderTimeout: -5 }, 'loaderTimeout', />= 0/],
    // Node turns a delay over 2^31−1 ms into 1 ms: such a deadline would fail every loader call at once.
    ['loaderTimeout of 2^31 ms', { secretKey: SECRET, loaderTimeout: 2 ** 31 }, 'loaderTimeout', /<= 2147483647/],
    ['loaderTimeout of 30 days', { secretKey: SECRET, loaderTimeout: 30 * 86400 * 1000 }, 'loaderTimeout', /<= 2147483647/],
    ['infinite loaderTimeout', { secretKey: SECRET, loaderTimeout: Infinity }, 'loaderTimeout', /finite/],
    ['NaN loaderTimeout', { secretKey: SECRET, loaderTimeout: Number.NaN }, 'loaderTimeout', /finite/],
    ['an unknown option (typo)', { secretKey: SECRET, secretkey: SECRET }, 'secretkey', /not an option/],
    ['empty errorMessageKey', { secretKey: SECRET, errorMessageKey: '' }, 'errorMessageKey', /empty/],
    ['unknown errorFormat', { secretKey: SECRET, errorFormat: 'json' }, 'errorFormat', /'flask' or 'nest'/],
    ['errorFormat in the wrong case', { secretKey: SECRET, errorFormat: 'Nest' }, 'errorFormat', /'flask' or 'nest'/],
  ];

  it.each(refusals)('refuses %s, naming the option', async (_name, options, option, problem) => {
    const error = await startupError(options);
    expect(error).toBeInstanceOf(JwtExtendedConfigError);
    expect((error as JwtExtendedConfigError).option).toBe(option);
    expect(error.message).toContain(`"${option}"`);
    expect(error.message).toMatch(problem);
  });

  it('accepts loaderTimeout from 0 (no deadline) to 2^31−1 ms', async () => {
    for (const loaderTimeout of [0, 1, 2 ** 31 - 1]) {
      await expect(createService({ secretKey: SECRET, loaderTimeout })).resolves.toBeInstanceOf(JwtExtendedService);
    }
  });

  it('never puts the secret in the error message', async () => {
    const error = await startupError({ secretKey: 'supersecretvalue' });
    expect(error.message).not.toContain('supersecretvalue');
  });

  it('accepts the defaults with a good secret, and a single-string tokenLocation', async () => {
    await expect(createService({ secretKey: SECRET })).resolves.toBeInstanceOf(JwtExtendedService);
    await expect(createService({ secretKey: SECRET, tokenLocation: 'cookies' })).resolves.toBeInstanceOf(JwtExtendedService);
    await expect(createService({ secretKey: SECRET, cookieSameSite: 'None', cookieSecure: true })).resolves.toBeTruthy();
  });

  it('accepts a verify-only asymmetric configuration (public key alone)', async () => {
    await expect(createService({ algorithm: 'RS256', publicKey: keyPair('rsa').publicKey })).resolves.toBeTruthy();
  });

  it('fails at bootstrap, not on the first request (forRootAsync too)', async () => {
    const compile = Test.createTestingModule({
      imports: [JwtExtendedModule.forRootAsync({ useFactory: async () => ({ secretKey: 'short' }) })],
    }).compile();
    await expect(compile).rejects.toThrow(/"secretKey"/);
  });

  it('refuses unknown loader roles and loaders missing their method', async () => {
    expect(() => JwtExtendedModule.forRoot({ secretKey: SECRET, loaders: { userLoader: class {} } as never })).toThrow(/not a loader role/);
    @Injectable()
    class Empty {}
    await expect(createService({ secretKey: SECRET }, { userLookup: Empty as never })).rejects.toThrow(/must implement lookupUser/);
  });

  it('logs warnings for risky but legal settings', async () => {
    const warnings: string[] = [];
    await Test.createTestingModule({
      imports: [
        JwtExtendedModule.forRoot({
          secretKey: SECRET,
          tokenLocation: ['cookies', 'query_string'],
          cookieCsrfProtect: false,
          accessTokenExpires: false,
        }),
      ],
    })
      .setLogger({ log() {}, error() {}, debug() {}, verbose() {}, warn: (m: unknown) => void warnings.push(String(m)) })
      .compile();
    expect(warnings.join('\n')).toMatch(/CSRF/);
    expect(warnings.join('\n')).toMatch(/query string/);
    expect(warnings.join('\n')).toMatch(/never expire/);
  });
});

describe('key errors name the key at fault', () => {
  const pem = (key: KeyObject, type: 'spki' | 'pkcs8') => key.export({ format: 'pem', type }).toString();
  const rsa = keyPair('rsa');
  const ec256 = keyPair('ec256');
  const ec384 = keyPair('ec384');
  const ed = keyPair('ed25519');
  const weak = keyPair('rsa1024');
  // Each option in turn is the wrong one while the others are right.
  const cases: [string, JwtExtendedOptions, string, RegExp][] = [
    [
      'EC privateKey, RSA publicKey for RS256',
      { algorithm: 'RS256', privateKey: ec256.privateKey, publicKey: rsa.publicKey },
      'privateKey',
      /ec key; RS256 needs an RSA key/,
    ],
    [
      'RSA privateKey, EC publicKey for RS256',
      { algorithm: 'RS256', privateKey: rsa.privateKey, publicKey: ec256.publicKey },
      'publicKey',
      /ec key; RS256 needs an RSA key/,
    ],
    [
      '1024-bit privateKey, 2048-bit publicKey',
      { algorithm: 'PS256', privateKey: weak.privateKey, publicKey: rsa.publicKey },
      'privateKey',
      /1024-bit/,
    ],
    [
      '2048-bit privateKey, 1024-bit publicKey',
      { algorithm: 'PS256', privateKey: rsa.privateKey, publicKey: weak.publicKey },
      'publicKey',
      /1024-bit/,
    ],
    [
      'P-384 privateKey, P-256 publicKey for ES256',
      { algorithm: 'ES256', privateKey: ec384.privateKey, publicKey: ec256.publicKey },
      'privateKey',
      /secp384r1 key; ES256/,
    ],
    [
      'P-256 privateKey, P-384 publicKey for ES256',
      { algorithm: 'ES256', privateKey: ec256.privateKey, publicKey: ec384.publicKey },
      'publicKey',
      /secp384r1 key; ES256/,
    ],
    [
      'Ed25519 privateKey, RSA publicKey for EdDSA',
      { algorithm: 'EdDSA', privateKey: ed.privateKey, publicKey: rsa.publicKey },
      'publicKey',
      /EdDSA needs/,
    ],
    [
      'RSA privateKey PEM, Ed25519 publicKey PEM for EdDSA',
      { algorithm: 'EdDSA', privateKey: pem(rsa.privateKey, 'pkcs8'), publicKey: pem(ed.publicKey, 'spki') },
      'privateKey',
      /EdDSA needs/,
    ],
    [
      'unparsable privateKey, good publicKey',
      { algorithm: 'RS256', privateKey: 'not a key', publicKey: rsa.publicKey },
      'privateKey',
      /not a valid private key/,
    ],
    [
      'good privateKey, unparsable publicKey',
      { algorithm: 'RS256', privateKey: rsa.privateKey, publicKey: 'not a key' },
      'publicKey',
      /not a valid public key/,
    ],
    [
      'public KeyObject as privateKey',
      { algorithm: 'RS256', privateKey: rsa.publicKey, publicKey: rsa.publicKey },
      'privateKey',
      /must be a private key/,
    ],
    [
      'secret KeyObject as publicKey',
      { algorithm: 'RS256', privateKey: rsa.privateKey, publicKey: createSecretKey(Buffer.alloc(32)) },
      'publicKey',
      /public or private key/,
    ],
    [
      'publicKey that does not fit a decode algorithm',
      { algorithm: 'RS256', privateKey: rsa.privateKey, publicKey: rsa.publicKey, decodeAlgorithms: ['ES256'] },
      'publicKey',
      /ES256 needs an EC key/,
    ],
    [
      'derived public key that does not fit a decode algorithm',
      { algorithm: 'RS256', privateKey: rsa.privateKey, decodeAlgorithms: ['ES256'] },
      'privateKey',
      /ES256 needs an EC key/,
    ],
    [
      'key material as secretKey beside good asymmetric keys',
      {
        algorithm: 'RS256',
        privateKey: rsa.privateKey,
        publicKey: rsa.publicKey,
        decodeAlgorithms: ['HS256'],
        secretKey: pem(rsa.publicKey, 'spki'),
      },
      'secretKey',
      /PEM/,
    ],
    [
      'short secretKey beside good asymmetric keys',
      { algorithm: 'RS256', privateKey: rsa.privateKey, decodeAlgorithms: ['HS256'], secretKey: new Uint8Array(31) },
      'secretKey',
      /31 bytes/,
    ],
    [
      'a key pair that does not match',
      { algorithm: 'ES256', privateKey: ec256.privateKey, publicKey: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey },
      'publicKey',
      /does not match privateKey/,
    ],
  ];

  it.each(cases)('%s', async (_name, options, option, problem) => {
    const error = await startupError(options);
    expect(error).toBeInstanceOf(JwtExtendedConfigError);
    expect((error as JwtExtendedConfigError).option).toBe(option);
    expect(error.message).toMatch(new RegExp(`^JwtExtendedModule: option "${option}" `));
    expect(error.message).toMatch(problem);
  });
});

describe('forRootAsync', () => {
  @Injectable()
  class Settings {
    readonly secret = SECRET;
  }
  @Module({ providers: [Settings], exports: [Settings] })
  class SettingsModule {}

  it('useFactory with imports and inject', async () => {
    const ref = await Test.createTestingModule({
      imports: [
        JwtExtendedModule.forRootAsync({
          imports: [SettingsModule],
          inject: [Settings],
          useFactory: (s: Settings) => ({ secretKey: s.secret, identityClaim: 'uid' }),
        }),
      ],
    }).compile();
    const jwt = ref.get(JwtExtendedService);
    expect(await jwt.decodeToken(await jwt.createAccessToken('x'))).toMatchObject({ uid: 'x' });
  });

  it('useClass and useExisting with createJwtExtendedOptions()', async () => {
    @Injectable()
    class Factory {
      createJwtExtendedOptions(): JwtExtendedOptions {
        return { secretKey: SECRET, encodeIssuer: 'factory' };
      }
    }
    @Module({ providers: [Factory], exports: [Factory] })
    class FactoryModule {}
    const viaClass = await Test.createTestingModule({ imports: [JwtExtendedModule.forRootAsync({ useClass: Factory })] }).compile();
    const jwt1 = viaClass.get(JwtExtendedService);
    expect(await jwt1.decodeToken(await jwt1.createAccessToken('x'))).toMatchObject({ iss: 'factory' });
    const viaExisting = await Test.createTestingModule({
      imports: [JwtExtendedModule.forRootAsync({ imports: [FactoryModule], useExisting: Factory })],
    }).compile();
    const jwt2 = viaExisting.get(JwtExtendedService);
    expect(await jwt2.decodeToken(await jwt2.createAccessToken('y'))).toMatchObject({ iss: 'factory' });
  });

  it('loaders can inject what the module imports provide', async () => {
    @Injectable()
    class ClaimsFromSettings {
      constructor(private readonly settings: Settings) {}
      additionalClaims() {
        return { secretLength: this.settings.secret.length };
      }
    }
    const ref = await Test.createTestingModule({
      imports: [
        JwtExtendedModule.forRootAsync({
          imports: [SettingsModule],
          inject: [Settings],
          useFactory: (s: Settings) => ({ secretKey: s.secret }),
          loaders: { additionalClaims: ClaimsFromSettings },
        }),
      ],
    }).compile();
    const jwt = ref.get(JwtExtendedService);
    expect(await jwt.decodeToken(await jwt.createAccessToken('x'))).toMatchObject({ secretLength: SECRET.length });
  });

  it('is global by default and can be made non-global', () => {
    expect(JwtExtendedModule.forRoot({ secretKey: SECRET }).global).toBe(true);
    expect(JwtExtendedModule.forRootAsync({ useFactory: () => ({ secretKey: SECRET }) }).global).toBe(true);
    expect(JwtExtendedModule.forRoot({ secretKey: SECRET, isGlobal: false }).global).toBe(false);
  });
});
