import type { KeyObject } from 'node:crypto';
import { fail } from '../config/config-error.js';
import type { JwtExtendedConfig, ResolvedVerificationKey } from '../config/jwt-extended-config.js';
import { algorithmName } from '../config/option-checks.js';
import type { JwtExtendedOptions } from '../config/jwt-extended-options.interface.js';
import { createSignature, verifySignature } from '../tokens/jws.js';
import type { AsymmetricAlgorithm, JwtAlgorithm } from '../tokens/jwt.interfaces.js';
import {
  KeyError,
  assertKeyFitsAlgorithm,
  assertSecretFitsAlgorithm,
  importKey,
  isSymmetric,
  toPrivateKey,
  toPublicKey,
  toSecretKey,
} from './keys.js';

/** Which key loaders stand in for configured keys. */
export interface KeyLoaderPresence {
  encodeKey: boolean;
  decodeKey: boolean;
}

/** Signs and verifies a probe: a private and public key that do not belong together fail here. */
function assertKeyPair(alg: AsymmetricAlgorithm, privateKey: KeyObject, publicKey: KeyObject): void {
  const probe = 'nestjs-jwt-extended key pair self-test';
  if (!verifySignature(alg, publicKey, probe, createSignature(alg, privateKey, probe))) {
    throw new KeyError('publicKey', 'does not match privateKey (a token signed with privateKey would not verify)');
  }
}

function importConfiguredKeys(
  options: JwtExtendedOptions,
  algorithm: JwtAlgorithm,
  allowed: ReadonlySet<JwtAlgorithm>,
  loaders: KeyLoaderPresence,
): JwtExtendedConfig['keys'] {
  const keys: JwtExtendedConfig['keys'] = {};
  const symmetric = [...allowed].filter(isSymmetric);
  const asymmetric = [...allowed].filter((alg): alg is AsymmetricAlgorithm => !isSymmetric(alg));

  if (options.secretKey !== undefined) {
    const secret = toSecretKey(options.secretKey, 'secretKey');
    for (const alg of symmetric) assertSecretFitsAlgorithm(secret, alg, 'secretKey');
    keys.secret = secret;
  } else if (symmetric.length > 0 && !loaders.decodeKey) {
    fail('secretKey', `is required for ${symmetric.join(', ')} (or provide a decodeKey loader)`);
  }

  if (options.privateKey !== undefined) keys.private = toPrivateKey(options.privateKey, 'privateKey');
  // Without publicKey the verification key is derived from privateKey, so privateKey is the option at fault.
  const publicSource = options.publicKey === undefined ? 'privateKey' : 'publicKey';
  if (options.publicKey !== undefined) keys.public = toPublicKey(options.publicKey, 'publicKey');
  else if (keys.private) keys.public = toPublicKey(keys.private, 'privateKey');

  if (asymmetric.length > 0 && !keys.public && !loaders.decodeKey) {
    fail(
      !isSymmetric(algorithm) && !loaders.encodeKey ? 'privateKey' : 'publicKey',
      `is required for ${asymmetric.join(', ')}: give privateKey to sign and publicKey to verify (or provide key loaders)`,
    );
  }
  for (const alg of asymmetric) {
    if (keys.private && alg === algorithm) assertKeyFitsAlgorithm(keys.private, alg, 'privateKey');
    if (keys.public) assertKeyFitsAlgorithm(keys.public, alg, publicSource);
  }
  if (!isSymmetric(algorithm) && keys.private && keys.public) assertKeyPair(algorithm, keys.private, keys.public);
  return keys;
}

/** Imports the configured keys once; a key that does not fit fails start-up naming its own option. */
export function importKeys(
  options: JwtExtendedOptions,
  algorithm: JwtAlgorithm,
  allowed: ReadonlySet<JwtAlgorithm>,
  loaders: KeyLoaderPresence,
): JwtExtendedConfig['keys'] {
  try {
    return importConfiguredKeys(options, algorithm, allowed, loaders);
  } catch (error) {
    if (error instanceof KeyError) fail(error.option, error.problem);
    throw error;
  }
}

/**
 * `verificationKeys`: each key imported for its own algorithm with every check a configured key
 * gets; kids unique among them and apart from `keyId`.
 */
export function importVerificationKeys(options: JwtExtendedOptions, loaders: KeyLoaderPresence): ResolvedVerificationKey[] {
  const value: unknown = options.verificationKeys;
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail('verificationKeys', 'must be an array of { kid, algorithm, key }');
  // The loader is asked for every token's key: keys configured beside it would silently never be used.
  if (loaders.decodeKey) fail('verificationKeys', 'cannot be combined with a decodeKey loader (the loader chooses keys by kid itself)');
  const kids = new Set<string>(typeof options.keyId === 'string' ? [options.keyId] : []);
  return value.map((entry: unknown, index): ResolvedVerificationKey => {
    const option = `verificationKeys[${index}]` as const;
    if (typeof entry !== 'object' || entry === null) fail(option, 'must be an object { kid, algorithm, key }');
    const { kid, algorithm, key } = entry as Record<string, unknown>;
    if (typeof kid !== 'string' || kid === '') fail(`${option}.kid`, 'must be a non-empty string');
    if (kids.has(kid)) fail(`${option}.kid`, `${JSON.stringify(kid)} is used by another key: kids must be unique`);
    kids.add(kid);
    const alg = algorithmName(algorithm, `${option}.algorithm`);
    try {
      return Object.freeze({ kid, algorithm: alg, key: importKey(key, alg, 'verify', `${option}.key`) });
    } catch (error) {
      if (error instanceof KeyError) fail(error.option, error.problem);
      throw error;
    }
  });
}
