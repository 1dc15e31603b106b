import { type KeyObject, constants, createHmac, sign, timingSafeEqual, verify } from 'node:crypto';
import type { JwtAlgorithm } from './jwt.interfaces.js';

/*
 * JWS compact serialisation on node:crypto. Keys are KeyObjects imported once, and
 * every call is synchronous: WebCrypto's async round trip would cost more than the
 * signature itself for HMAC.
 */

const HASH: Record<JwtAlgorithm, string | null> = {
  HS256: 'sha256',
  HS384: 'sha384',
  HS512: 'sha512',
  RS256: 'sha256',
  RS384: 'sha384',
  RS512: 'sha512',
  PS256: 'sha256',
  PS384: 'sha384',
  PS512: 'sha512',
  ES256: 'sha256',
  ES384: 'sha384',
  ES512: 'sha512',
  EdDSA: null,
};

function asymmetricKeyOptions(alg: JwtAlgorithm, key: KeyObject) {
  switch (alg[0]) {
    case 'P':
      return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
    case 'E':
      return alg === 'EdDSA' ? key : { key, dsaEncoding: 'ieee-p1363' as const };
    default:
      return key;
  }
}

export function createSignature(alg: JwtAlgorithm, key: KeyObject, signingInput: string): Buffer {
  if (alg[0] === 'H') return createHmac(HASH[alg]!, key).update(signingInput).digest();
  return sign(HASH[alg], Buffer.from(signingInput), asymmetricKeyOptions(alg, key));
}

export function verifySignature(alg: JwtAlgorithm, key: KeyObject, signingInput: string, signature: Buffer): boolean {
  if (alg[0] === 'H') {
    const expected = createHmac(HASH[alg]!, key).update(signingInput).digest();
    return expected.length === signature.length && timingSafeEqual(expected, signature);
  }
  try {
    return verify(HASH[alg], Buffer.from(signingInput), asymmetricKeyOptions(alg, key), signature);
  } catch {
    // node:crypto throws on some malformed signatures (e.g. bad DER lengths): that is a failed check.
    return false;
  }
}

/** `base64url(JSON)` of a header or payload. */
export function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function signCompact(alg: JwtAlgorithm, key: KeyObject, header: object, payload: object): string {
  const signingInput = `${encodeSegment(header)}.${encodeSegment(payload)}`;
  return `${signingInput}.${createSignature(alg, key, signingInput).toString('base64url')}`;
}
