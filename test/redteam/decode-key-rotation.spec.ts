import { Injectable } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type JsonWebKey, type KeyObject, generateKeyPairSync, verify } from 'node:crypto';
import request from 'supertest';
import type { DecodeKeyLoader, EncodeKeyLoader } from '../../lib/index.js';
import { ADAPTERS, createTestApp, type TestApp } from '../support/app.js';
import { forgeAsymmetric, now } from '../support/forge.js';
import { createService } from '../support/service.js';
import { TargetController } from '../support/routes.js';

/*
 * Finding: keys returned by a decodeKey loader are cached by object identity (LoaderKeyCache
 * keeps a WeakMap from the returned object to the imported KeyObject). A loader that rotates
 * its key by updating the JWK object it returns (a key set reloaded in place) keeps verifying
 * with the retired key: tokens signed with a retired (e.g. leaked) private key are still
 * accepted. Plain security sense: the key the loader returns for a token is the key it is
 * verified with (the cache may only save work, never change the answer).
 */

const oldPair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const newPair = generateKeyPairSync('rsa', { modulusLength: 2048 });
/** The loader's current verification key, updated in place on rotation. */
const currentJwk: JsonWebKey = oldPair.publicKey.export({ format: 'jwk' });

@Injectable()
class KeySetLoader implements DecodeKeyLoader {
  decodeKey() {
    return currentJwk as never;
  }
}

const claims = () => ({ sub: 'alice', iat: now(), exp: now() + 600, type: 'access', fresh: false, jti: 'j' });

describe.each(ADAPTERS)('a decodeKey loader that rotates its key in place (%s)', (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(adapter, {
      options: { algorithm: 'RS256', publicKey: oldPair.publicKey },
      loaders: { decodeKey: KeySetLoader },
      controllers: [TargetController],
    });
  });
  afterAll(() => {
    Object.assign(currentJwk, oldPair.publicKey.export({ format: 'jwk' }));
    return t.close();
  });

  it('after rotation a token signed with the retired key is refused, and one signed with the new key accepted', async () => {
    const oldToken = forgeAsymmetric({ alg: 'RS256', typ: 'JWT' }, claims(), oldPair.privateKey, 'sha256');
    const newToken = forgeAsymmetric({ alg: 'RS256', typ: 'JWT' }, claims(), newPair.privateKey, 'sha256');
    await request(t.url).get('/protected').set('Authorization', `Bearer ${oldToken}`).expect(200);

    Object.assign(currentJwk, newPair.publicKey.export({ format: 'jwk' }));

    const retired = await request(t.url).get('/protected').set('Authorization', `Bearer ${oldToken}`);
    const current = await request(t.url).get('/protected').set('Authorization', `Bearer ${newToken}`);
    expect({ retired: retired.status, current: current.status }).toEqual({ retired: 422, current: 200 });
  });
});

/** The signing key of an encodeKey loader, updated in place on rotation. */
const signingJwk: JsonWebKey = oldPair.privateKey.export({ format: 'jwk' });

@Injectable()
class SigningKeyLoader implements EncodeKeyLoader {
  encodeKey() {
    return signingJwk as never;
  }
}

describe('an encodeKey loader that rotates its key in place', () => {
  it('signs with the key it returns now, not the one it returned first', async () => {
    const jwt = await createService({ algorithm: 'RS256', publicKey: oldPair.publicKey }, { encodeKey: SigningKeyLoader });
    const before = await jwt.createAccessToken('alice');
    Object.assign(signingJwk, newPair.privateKey.export({ format: 'jwk' }));
    const after = await jwt.createAccessToken('alice');
    const signedBy = (token: string, key: KeyObject) => {
      const [header, payload, signature] = token.split('.');
      return verify('sha256', Buffer.from(`${header}.${payload}`), key, Buffer.from(signature, 'base64url'));
    };
    expect([signedBy(before, oldPair.publicKey), signedBy(after, newPair.publicKey), signedBy(after, oldPair.publicKey)]).toEqual([
      true,
      true,
      false,
    ]);
  });
});
