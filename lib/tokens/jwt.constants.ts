import type { AsymmetricAlgorithm, SymmetricAlgorithm, TokenLocation } from './jwt.interfaces.js';

/** Every JWS algorithm the library signs and verifies, by kind. */
export const SYMMETRIC_ALGORITHMS: readonly SymmetricAlgorithm[] = ['HS256', 'HS384', 'HS512'];
export const ASYMMETRIC_ALGORITHMS: readonly AsymmetricAlgorithm[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

/** Every place a token can travel in a request (option `tokenLocation`). */
export const TOKEN_LOCATIONS: readonly TokenLocation[] = ['headers', 'cookies', 'query_string', 'json'];
