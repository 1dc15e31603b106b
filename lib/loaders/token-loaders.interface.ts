import type { JwtHeader, JwtKey } from '../tokens/jwt.interfaces.js';
import type { MaybePromise } from './maybe-promise.js';

/** Adds claims to every token created for `identity` (Flask `additional_claims_loader`). */
export interface AdditionalClaimsLoader<Identity = unknown> {
  additionalClaims(identity: Identity): MaybePromise<Record<string, unknown>>;
}

/** Adds protected-header parameters to every token (Flask `additional_headers_loader`). */
export interface AdditionalHeadersLoader<Identity = unknown> {
  additionalHeaders(identity: Identity): MaybePromise<Record<string, unknown>>;
}

/**
 * Picks the verification key from the UNVERIFIED header and payload (Flask
 * `decode_key_loader`). Treat every value as attacker-controlled, `kid` included.
 */
export interface DecodeKeyLoader {
  decodeKey(unverifiedHeader: JwtHeader, unverifiedPayload: Record<string, unknown>): MaybePromise<JwtKey>;
}

/** Picks the signing key for `identity` (Flask `encode_key_loader`). */
export interface EncodeKeyLoader<Identity = unknown> {
  encodeKey(identity: Identity): MaybePromise<JwtKey>;
}

/** Turns the identity given to `create*Token` into the JSON value stored in the token (Flask `user_identity_loader`). */
export interface UserIdentityLoader<Identity = unknown> {
  userIdentity(identity: Identity): MaybePromise<unknown>;
}
