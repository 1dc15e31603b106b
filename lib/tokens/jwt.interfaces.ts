import type { KeyObject } from 'node:crypto';

/** HMAC algorithms: need `secretKey`. */
export type SymmetricAlgorithm = 'HS256' | 'HS384' | 'HS512';
/** Algorithms with a key pair: `privateKey` signs, `publicKey` verifies. */
export type AsymmetricAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA';
/** JWS algorithms the library signs and verifies. `none` is never one of them. */
export type JwtAlgorithm = SymmetricAlgorithm | AsymmetricAlgorithm;

/** A JSON Web Key as a plain object (RFC 7517). */
export interface JsonWebKeyInput {
  kty: string;
  [member: string]: unknown;
}

/**
 * A signing or verification key: a secret (string or bytes) for HS*, or for the
 * asymmetric algorithms a PEM string (PKCS#8, SPKI, PKCS#1, SEC1 or a certificate),
 * a JWK object or a `KeyObject`.
 */
export type JwtKey = string | Uint8Array | JsonWebKeyInput | KeyObject;

/** Protected header of a token. */
export interface JwtHeader {
  alg?: string;
  typ?: string;
  kid?: string;
  [parameter: string]: unknown;
}

/** Where a token can be read from in a request. */
export type TokenLocation = 'headers' | 'cookies' | 'query_string' | 'json';

/** The claims the library reads and writes; `type`, `fresh` and `jti` are always present after decoding. */
export interface JwtRegisteredClaims {
  /** Default `'access'` when a token has none. */
  type: 'access' | 'refresh';
  /** `true`/`false`, or the time until which the token is fresh. Default `false`. */
  fresh: boolean | number;
  /** Default `null`. */
  jti: string | null;
  iat?: number;
  nbf?: number;
  exp?: number;
  sub?: unknown;
  csrf?: string;
  /** The refresh-token family (`refreshTokenRotation`): on refresh tokens, and on access tokens minted by rotation. */
  fam?: string;
  aud?: string | string[];
  iss?: string;
}

/**
 * A decoded token payload: `Claims` plus the registered claims. With an explicit
 * `Claims` type only its claims exist (a misspelt one does not compile); without
 * one, any claim reads as `unknown`.
 */
export type JwtPayload<Claims extends object = Record<string, unknown>> = Claims & JwtRegisteredClaims;

/** A verified token as the guard and `verifyJwtInRequest` see it. */
export interface VerifiedJwt<Claims extends object = Record<string, unknown>> {
  header: JwtHeader;
  payload: JwtPayload<Claims>;
}
