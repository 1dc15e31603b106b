import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import type { JwtExtendedOptions } from 'nestjs-jwt-extended';

/** Where the sample's key options come from (environment variables in `main.ts`). */
export interface SampleKeySettings {
  /** PEM of the EdDSA signing key (`JWT_PRIVATE_KEY`). Default: a key pair made in memory at start-up. */
  privateKey?: string;
  /** PEM of the public key that signed before the last rotation (`JWT_PREVIOUS_PUBLIC_KEY`): its tokens stay valid. */
  previousPublicKey?: string;
}

/** The public JWKS path the sample serves (and other services fetch). */
export const SAMPLE_JWKS_PATH = '/.well-known/jwks.json';

/**
 * The sample signs with an EdDSA key and publishes its public keys at `SAMPLE_JWKS_PATH`.
 * Rotating is configuration only: deploy with a new `JWT_PRIVATE_KEY`, put the old public key in
 * `JWT_PREVIOUS_PUBLIC_KEY` (its tokens carry its thumbprint as `kid`, so they still verify), and
 * remove it once the longest token lifetime (30 days here) has passed. The HS256 `secret` the
 * sample signed with before it moved to a key pair is still accepted for tokens without `kid`.
 */
export async function sampleKeyOptions(settings: SampleKeySettings): Promise<JwtExtendedOptions> {
  const privateKey = settings.privateKey ? createPrivateKey(settings.privateKey) : generateKeyPairSync('ed25519').privateKey;
  const previous = settings.previousPublicKey ? createPublicKey(settings.previousPublicKey) : undefined;
  return {
    algorithm: 'EdDSA',
    privateKey,
    decodeAlgorithms: ['HS256'],
    // The kid the previous key's tokens carry: its RFC 7638 thumbprint, the library's default kid.
    verificationKeys: previous ? [{ kid: await calculateJwkThumbprint(previous), algorithm: 'EdDSA', key: previous }] : [],
    jwksPath: SAMPLE_JWKS_PATH,
  };
}
