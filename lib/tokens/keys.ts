import { KeyObject, createPrivateKey, createPublicKey, createSecretKey } from 'node:crypto';
import type { AsymmetricAlgorithm, JwtAlgorithm, SymmetricAlgorithm } from './jwt.interfaces.js';

/** A key that cannot serve the algorithm it was given for. The message names the key. */
export class KeyError extends Error {
  override name = 'KeyError';
}

export function isSymmetric(alg: JwtAlgorithm): alg is SymmetricAlgorithm {
  return alg.startsWith('HS');
}

/** RFC 7518 §3.2: an HMAC key must be at least as long as the hash output. */
export const MIN_SECRET_BYTES: Record<SymmetricAlgorithm, number> = { HS256: 32, HS384: 48, HS512: 64 };

const PEM_OR_JWK = /-----BEGIN [A-Z0-9 ]+-----|^\s*\{[\s\S]*"kty"\s*:/;

function describe(input: unknown): string {
  if (input === null) return 'null';
  if (input instanceof KeyObject) return `a ${input.type} KeyObject`;
  if (input instanceof Uint8Array) return 'bytes';
  return typeof input === 'object' ? 'an object' : `a ${typeof input}`;
}

/** Turns an HS* secret into a secret KeyObject; refuses asymmetric material given as a secret. */
export function toSecretKey(input: unknown, what: string): KeyObject {
  if (input instanceof KeyObject) {
    if (input.type !== 'secret') throw new KeyError(`${what} must be a secret for HS* algorithms, got ${describe(input)}`);
    if (input.symmetricKeySize === 0) throw new KeyError(`${what} must not be empty`);
    return input;
  }
  let bytes: Buffer;
  if (typeof input === 'string') {
    if (PEM_OR_JWK.test(input)) {
      throw new KeyError(`${what} looks like a PEM key or a JWK; HS* algorithms need a random secret, not a public key`);
    }
    bytes = Buffer.from(input, 'utf8');
  } else if (input instanceof Uint8Array) {
    bytes = Buffer.from(input);
  } else {
    throw new KeyError(`${what} must be a string or a Uint8Array for HS* algorithms, got ${describe(input)}`);
  }
  if (bytes.length === 0) throw new KeyError(`${what} must not be empty`);
  return createSecretKey(bytes);
}

function isJwk(input: unknown): input is { kty: string } {
  return typeof input === 'object' && input !== null && typeof (input as { kty?: unknown }).kty === 'string';
}

/** Turns a PEM (PKCS#8, PKCS#1, SEC1), a JWK or a KeyObject into a private KeyObject. */
export function toPrivateKey(input: unknown, what: string): KeyObject {
  if (input instanceof KeyObject) {
    if (input.type !== 'private') throw new KeyError(`${what} must be a private key, got ${describe(input)}`);
    return input;
  }
  try {
    if (typeof input === 'string') return createPrivateKey(input);
    if (isJwk(input)) return createPrivateKey({ key: input as never, format: 'jwk' });
  } catch {
    throw new KeyError(`${what} is not a valid private key (expected a PEM in PKCS#8, PKCS#1 or SEC1 form, or a private JWK)`);
  }
  throw new KeyError(`${what} must be a PEM string, a JWK object or a KeyObject, got ${describe(input)}`);
}

/** Turns a PEM (SPKI, PKCS#1, certificate, or a private key), a JWK or a KeyObject into a public KeyObject. */
export function toPublicKey(input: unknown, what: string): KeyObject {
  if (input instanceof KeyObject) {
    if (input.type === 'public') return input;
    if (input.type === 'private') return createPublicKey(input);
    throw new KeyError(`${what} must be a public or private key, got ${describe(input)}`);
  }
  try {
    if (typeof input === 'string') return createPublicKey(input);
    if (isJwk(input)) return createPublicKey({ key: input as never, format: 'jwk' });
  } catch {
    throw new KeyError(`${what} is not a valid public key (expected a PEM in SPKI, PKCS#1 or certificate form, or a JWK)`);
  }
  throw new KeyError(`${what} must be a PEM string, a JWK object or a KeyObject, got ${describe(input)}`);
}

const EC_CURVES: Record<string, string> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };

/** Refuses a key whose type, curve or size does not fit `alg` (RSA under 2048 bits included). */
export function assertKeyFitsAlgorithm(key: KeyObject, alg: AsymmetricAlgorithm, what: string): void {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (alg.startsWith('RS') || alg.startsWith('PS')) {
    const fits = type === 'rsa' || (alg.startsWith('PS') && type === 'rsa-pss');
    if (!fits) throw new KeyError(`${what} is a ${type} key; ${alg} needs an RSA key`);
    if ((details.modulusLength ?? 0) < 2048) {
      throw new KeyError(`${what} is a ${details.modulusLength}-bit RSA key; ${alg} needs at least 2048 bits`);
    }
  } else if (alg === 'EdDSA') {
    if (type !== 'ed25519' && type !== 'ed448') throw new KeyError(`${what} is a ${type} key; EdDSA needs an Ed25519 or Ed448 key`);
  } else {
    const curve = EC_CURVES[alg];
    if (type !== 'ec' || details.namedCurve !== curve) {
      throw new KeyError(`${what} is a ${type} ${details.namedCurve ?? ''} key; ${alg} needs an EC key on ${curve}`.replace('  ', ' '));
    }
  }
}

/** Key material for `alg`: secret for HS*, private (signing) or public (verifying) otherwise. */
export function importKey(input: unknown, alg: JwtAlgorithm, use: 'sign' | 'verify', what: string): KeyObject {
  if (isSymmetric(alg)) return toSecretKey(input, what);
  const key = use === 'sign' ? toPrivateKey(input, what) : toPublicKey(input, what);
  assertKeyFitsAlgorithm(key, alg, what);
  return key;
}
