import type { Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { JwtExtendedModule, type JwtExtendedLoaders, type JwtExtendedOptions, JwtExtendedService } from '../../lib/index.js';
import { SECRET } from './app.js';

/** Compiles a module with these options and returns its service (start-up validation included). */
export async function createService(
  options: JwtExtendedOptions = { secretKey: SECRET },
  loaders?: JwtExtendedLoaders,
  providers: Type[] = [],
): Promise<JwtExtendedService> {
  const moduleRef = await Test.createTestingModule({
    imports: [JwtExtendedModule.forRoot({ ...options, loaders })],
    providers,
  })
    .setLogger({ log() {}, error() {}, warn() {}, debug() {}, verbose() {} })
    .compile();
  return moduleRef.get(JwtExtendedService);
}

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

const cache = new Map<string, KeyPair>();

/** Key pairs per algorithm family, generated once per test file. */
export function keyPair(kind: 'rsa' | 'rsa1024' | 'ec256' | 'ec384' | 'ec521' | 'ed25519' | 'ed448'): KeyPair {
  let pair = cache.get(kind);
  if (!pair) {
    switch (kind) {
      case 'rsa':
        pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
        break;
      case 'rsa1024':
        pair = generateKeyPairSync('rsa', { modulusLength: 1024 });
        break;
      case 'ec256':
        pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
        break;
      case 'ec384':
        pair = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
        break;
      case 'ec521':
        pair = generateKeyPairSync('ec', { namedCurve: 'secp521r1' });
        break;
      case 'ed25519':
        pair = generateKeyPairSync('ed25519');
        break;
      case 'ed448':
        pair = generateKeyPairSync('ed448');
        break;
    }
    cache.set(kind, pair);
  }
  return pair;
}

/** Key family for each algorithm. */
export const KEY_FOR = {
  RS256: 'rsa',
  RS384: 'rsa',
  RS512: 'rsa',
  PS256: 'rsa',
  PS384: 'rsa',
  PS512: 'rsa',
  ES256: 'ec256',
  ES384: 'ec384',
  ES512: 'ec521',
  EdDSA: 'ed25519',
} as const;
