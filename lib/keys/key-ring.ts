import type { KeyObject } from 'node:crypto';
import { type JWK, calculateJwkThumbprint, exportJWK } from 'jose';
import { fail } from '../config/config-error.js';
import type { JwtExtendedConfig } from '../config/jwt-extended-config.js';
import type { JwtAlgorithm } from '../tokens/jwt.interfaces.js';
import { isSymmetric } from './keys.js';

/** One public key as `getPublicJwks()` and the `jwksPath` route publish it. */
export interface PublicJwk {
  kty: string;
  kid: string;
  alg: JwtAlgorithm;
  use: 'sig';
  [member: string]: unknown;
}

/** A JSON Web Key Set of public keys (RFC 7517 §5). */
export interface PublicJwks {
  keys: PublicJwk[];
}

/** A key that tokens naming its `kid` are verified with, and the one algorithm they may use. */
export interface KidKey {
  readonly algorithm: JwtAlgorithm;
  readonly key: KeyObject;
}

/**
 * The module's keys by `kid`: the current key (its `keyId`, else its RFC 7638 thumbprint)
 * and the `verificationKeys`. Built once at start-up, because jose's thumbprint and JWK
 * export are asynchronous; lookups afterwards are a Map read.
 */
export class KeyRing {
  private constructor(
    /** The `kid` of tokens this module signs; undefined when none is configured or derivable. */
    readonly currentKid: string | undefined,
    private readonly byKid: ReadonlyMap<string, KidKey>,
    private readonly jwks: readonly Readonly<PublicJwk>[],
  ) {}

  static async create(config: JwtExtendedConfig): Promise<KeyRing> {
    const { algorithm, keys } = config;
    const currentKey = isSymmetric(algorithm) ? keys.secret : keys.public;
    const currentJwk = keys.public ? await publicJwk(algorithm, keys.public) : undefined;
    const currentKid = config.keyId ?? (currentJwk && (await calculateJwkThumbprint(currentJwk, 'sha256')));

    const entries: [string, KidKey][] = config.verificationKeys.map(({ kid, algorithm: alg, key }) => [kid, { algorithm: alg, key }]);
    if (currentKid !== undefined && currentKey) {
      // keyId clashes were refused with the options; a derived thumbprint can only be checked now.
      const clash = entries.findIndex(([kid]) => kid === currentKid);
      if (clash >= 0) fail(`verificationKeys[${clash}].kid`, `is the kid of the current signing key (its thumbprint): kids must be unique`);
      entries.unshift([currentKid, { algorithm, key: currentKey }]);
    }
    const jwks: PublicJwk[] = [];
    for (const [kid, { algorithm: alg, key }] of entries) {
      const jwk = await publicJwk(alg, key);
      if (jwk) jwks.push(Object.freeze({ ...jwk, kid, alg, use: 'sig' as const }) as PublicJwk);
    }
    return new KeyRing(currentKid, new Map(entries), jwks);
  }

  /** The key a `kid` names; undefined for an unknown one. */
  get(kid: string): KidKey | undefined {
    return this.byKid.get(kid);
  }

  /** The public keys: a fresh object every call, so no caller can change another's. */
  publicJwks(): PublicJwks {
    return { keys: this.jwks.map((jwk) => ({ ...jwk })) };
  }
}

/** Whether a key of `alg` can be published: asymmetric, with a JWK form (an RSA-PSS-restricted key has none). */
export function isPublishable(alg: JwtAlgorithm, key: KeyObject): boolean {
  return !isSymmetric(alg) && key.asymmetricKeyType !== 'rsa-pss';
}

/** The public JWK of a publishable key; none otherwise (then no default kid either). */
async function publicJwk(alg: JwtAlgorithm, key: KeyObject): Promise<JWK | undefined> {
  return isPublishable(alg, key) ? exportJWK(key) : undefined;
}
