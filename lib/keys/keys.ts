import { KeyObject, X509Certificate, createPrivateKey, createPublicKey, createSecretKey } from 'node:crypto';
import type { AsymmetricAlgorithm, JwtAlgorithm, SymmetricAlgorithm } from '../tokens/jwt.interfaces.js';

/** Where a key came from: a module option, or what a key loader returned. */
export type KeySource =
  | 'secretKey'
  | 'privateKey'
  | 'publicKey'
  | 'loaders.encodeKey'
  | 'loaders.decodeKey'
  | `verificationKeys[${number}].key`
  | 'a remote key set';

/** A key that cannot serve the algorithm it was given for. `option` is the key at fault; `problem` says why. */
export class KeyError extends Error {
  override name = 'KeyError';
  constructor(
    readonly option: KeySource,
    readonly problem: string,
  ) {
    super(`${option.startsWith('loaders.') ? `the key returned by ${option}` : option} ${problem}`);
  }
}

export function isSymmetric(alg: JwtAlgorithm): alg is SymmetricAlgorithm {
  return alg.startsWith('HS');
}

/** RFC 7518 §3.2: an HMAC key must be at least as long as the hash output. */
const MIN_SECRET_BYTES: Record<SymmetricAlgorithm, number> = { HS256: 32, HS384: 48, HS512: 64 };

function describe(input: unknown): string {
  if (input === null) return 'null';
  if (input instanceof KeyObject) return `a ${input.type} KeyObject`;
  if (input instanceof Uint8Array) return 'bytes';
  return typeof input === 'object' ? 'an object' : `a ${typeof input}`;
}

function isJwkLike(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (Object.hasOwn(value, 'kty')) return true;
  const keys = (value as { keys?: unknown }).keys;
  return Object.hasOwn(value, 'keys') && Array.isArray(keys) && keys.some(isJwkLike);
}

/** Parsers for the DER forms of a public key (SPKI, PKCS#1) and of a certificate; each throws on anything else. */
const DER_PARSERS: ((der: Buffer) => unknown)[] = [
  (der) => createPublicKey({ key: der, format: 'der', type: 'spki' }),
  (der) => createPublicKey({ key: der, format: 'der', type: 'pkcs1' }),
  (der) => new X509Certificate(der),
];

function isDerKeyOrCertificate(der: Buffer): boolean {
  // All of them are an ASN.1 SEQUENCE: random bytes rarely get as far as a parser.
  if (der[0] !== 0x30) return false;
  return DER_PARSERS.some((parse) => {
    try {
      parse(der);
      return true;
    } catch {
      return false;
    }
  });
}

const BASE64_TEXT = /^[A-Za-z0-9+/_-]+={0,2}$/;
const HEX_TEXT = /^(?:[0-9a-fA-F]{2})+$/;

/**
 * What kind of key material `bytes` is, when it is recognisably a key, a certificate or a JWK,
 * in any spelling: such material is often public, and an HMAC keyed with a public value lets
 * anyone sign tokens. Random secrets do not match: each test needs structure that random bytes lack.
 */
function keyMaterialKind(bytes: Buffer): string | undefined {
  const text = bytes.toString('utf8');
  if (text.includes('-----BEGIN')) return 'a PEM key or certificate';
  // trim() also drops a byte-order mark; JSON.parse reads escaped member names ("k\u0074y") and any member order.
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      if (isJwkLike(JSON.parse(trimmed))) return 'a JWK';
    } catch {
      // not JSON: an ordinary secret that happens to start with "{"
    }
  }
  if (isDerKeyOrCertificate(bytes)) return 'a DER-encoded key or certificate';
  const compact = trimmed.replace(/\s+/g, '');
  if (HEX_TEXT.test(compact) && isDerKeyOrCertificate(Buffer.from(compact, 'hex'))) return 'a hex-encoded DER key or certificate';
  if (BASE64_TEXT.test(compact) && isDerKeyOrCertificate(Buffer.from(compact, 'base64'))) {
    return 'a base64-encoded DER key or certificate';
  }
  return undefined;
}

/**
 * Turns an HS* secret (string, bytes or secret KeyObject) into a secret KeyObject. Whatever its
 * form, the bytes must not be key material (PEM, certificate, JWK, DER) and must not be empty.
 */
export function toSecretKey(input: unknown, option: KeySource): KeyObject {
  let bytes: Buffer;
  if (input instanceof KeyObject) {
    if (input.type !== 'secret') throw new KeyError(option, `must be a secret for HS* algorithms, got ${describe(input)}`);
    bytes = input.export();
  } else if (typeof input === 'string') {
    bytes = Buffer.from(input, 'utf8');
  } else if (input instanceof Uint8Array) {
    bytes = Buffer.from(input);
  } else {
    throw new KeyError(option, `must be a string or a Uint8Array for HS* algorithms, got ${describe(input)}`);
  }
  if (bytes.length === 0) throw new KeyError(option, 'must not be empty');
  const kind = keyMaterialKind(bytes);
  if (kind !== undefined) {
    throw new KeyError(option, `looks like ${kind}; HS* algorithms need a random secret, never key material such as a public key`);
  }
  return input instanceof KeyObject ? input : createSecretKey(bytes);
}

/** Refuses a secret shorter than `alg`'s hash output. */
export function assertSecretFitsAlgorithm(key: KeyObject, alg: SymmetricAlgorithm, option: KeySource): void {
  const size = key.symmetricKeySize ?? 0;
  if (size < MIN_SECRET_BYTES[alg]) {
    throw new KeyError(option, `is ${size} bytes; ${alg} needs at least ${MIN_SECRET_BYTES[alg]} random bytes (RFC 7518 §3.2)`);
  }
}

function isJwk(input: unknown): input is { kty: string } {
  return typeof input === 'object' && input !== null && typeof (input as { kty?: unknown }).kty === 'string';
}

/** Turns a PEM (PKCS#8, PKCS#1, SEC1), a JWK or a KeyObject into a private KeyObject. */
export function toPrivateKey(input: unknown, option: KeySource): KeyObject {
  if (input instanceof KeyObject) {
    if (input.type !== 'private') throw new KeyError(option, `must be a private key, got ${describe(input)}`);
    return input;
  }
  try {
    if (typeof input === 'string') return createPrivateKey(input);
    if (isJwk(input)) return createPrivateKey({ key: input as never, format: 'jwk' });
  } catch {
    throw new KeyError(option, 'is not a valid private key (expected a PEM in PKCS#8, PKCS#1 or SEC1 form, or a private JWK)');
  }
  throw new KeyError(option, `must be a PEM string, a JWK object or a KeyObject, got ${describe(input)}`);
}

/** Turns a PEM (SPKI, PKCS#1, certificate, or a private key), a JWK or a KeyObject into a public KeyObject. */
export function toPublicKey(input: unknown, option: KeySource): KeyObject {
  if (input instanceof KeyObject) {
    if (input.type === 'public') return input;
    if (input.type === 'private') return createPublicKey(input);
    throw new KeyError(option, `must be a public or private key, got ${describe(input)}`);
  }
  try {
    if (typeof input === 'string') return createPublicKey(input);
    if (isJwk(input)) return createPublicKey({ key: input as never, format: 'jwk' });
  } catch {
    throw new KeyError(option, 'is not a valid public key (expected a PEM in SPKI, PKCS#1 or certificate form, or a JWK)');
  }
  throw new KeyError(option, `must be a PEM string, a JWK object or a KeyObject, got ${describe(input)}`);
}

const EC_CURVES: Record<string, string> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };

/** Refuses a key whose type, curve or size does not fit `alg` (RSA under 2048 bits included). */
export function assertKeyFitsAlgorithm(key: KeyObject, alg: AsymmetricAlgorithm, option: KeySource): void {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (alg.startsWith('RS') || alg.startsWith('PS')) {
    const fits = type === 'rsa' || (alg.startsWith('PS') && type === 'rsa-pss');
    if (!fits) throw new KeyError(option, `is a ${type} key; ${alg} needs an RSA key`);
    if ((details.modulusLength ?? 0) < 2048) {
      throw new KeyError(option, `is a ${details.modulusLength}-bit RSA key; ${alg} needs at least 2048 bits`);
    }
  } else if (alg === 'EdDSA') {
    if (type !== 'ed25519' && type !== 'ed448') throw new KeyError(option, `is a ${type} key; EdDSA needs an Ed25519 or Ed448 key`);
  } else {
    const curve = EC_CURVES[alg];
    if (type !== 'ec' || details.namedCurve !== curve) {
      throw new KeyError(option, `is a ${type} ${details.namedCurve ?? ''} key; ${alg} needs an EC key on ${curve}`.replace('  ', ' '));
    }
  }
}

/** Key material for `alg`: secret for HS* (long enough for it), private (signing) or public (verifying) otherwise. */
export function importKey(input: unknown, alg: JwtAlgorithm, use: 'sign' | 'verify', option: KeySource): KeyObject {
  if (isSymmetric(alg)) {
    const secret = toSecretKey(input, option);
    assertSecretFitsAlgorithm(secret, alg, option);
    return secret;
  }
  const key = use === 'sign' ? toPrivateKey(input, option) : toPublicKey(input, option);
  assertKeyFitsAlgorithm(key, alg, option);
  return key;
}
