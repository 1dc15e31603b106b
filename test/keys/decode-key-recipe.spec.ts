import { Injectable } from '@nestjs/common';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { KeyObject } from 'node:crypto';
import { createRemoteJWKSet, errors } from 'jose';
import request from 'supertest';
import { type DecodeKeyLoader, JwtDecodeException, type JwtProtectedHeader, JwtUnavailableException } from '../../lib/index.js';
import { ADAPTERS, type TestApp, createTestApp } from '../support/app.js';
import { bearer, expectResponse } from '../support/http.js';
import { TargetController, protectedAnswer } from '../support/routes.js';
import { IdpKey, JwksServer } from './jwks-server.js';

const server = new JwksServer();

/** The README recipe: a remote key set plugged into decodeKey through jose's createRemoteJWKSet. */
@Injectable()
class RemoteKeys implements DecodeKeyLoader {
  private readonly jwks = createRemoteJWKSet(new URL(server.url()), {
    cooldownDuration: 30_000,
    cacheMaxAge: 600_000,
    timeoutDuration: 300,
  });

  async decodeKey(header: JwtProtectedHeader) {
    try {
      // jose picks the key by kid and alg from the issuer's set; the library then checks it like any key
      return KeyObject.from(await this.jwks({ alg: header.alg, kid: header.kid }));
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
        throw new JwtDecodeException('Unknown key id');
      }
      throw new JwtUnavailableException('Key set unavailable'); // unreachable, timed out, not a JWKS: fail closed
    }
  }
}

describe.each(ADAPTERS)('README recipe: a remote key set in a decodeKey loader (%s)', (adapter) => {
  const key = new IdpKey('recipe-1', 'ES256');
  let t: TestApp;
  beforeAll(async () => {
    await server.start();
    server.setKeys(key.jwk());
    t = await createTestApp(adapter, {
      controllers: [TargetController],
      options: { algorithm: 'ES256', publicKey: key.publicKey },
      loaders: { decodeKey: RemoteKeys },
    });
  });
  afterAll(async () => {
    await t?.close();
    await server.stop();
  });

  const get = (token: string) => request(t.url).get('/protected').set(bearer(token));

  it('an unreachable key set fails closed with 503', async () => {
    server.down = true; // before the set was ever fetched
    try {
      await expectResponse(get(key.sign({ sub: 'x' })), 503, { msg: 'Key set unavailable' }, []);
    } finally {
      server.down = false;
    }
  });

  it('verifies tokens with the key the set holds for their kid; an unknown kid is 422', async () => {
    await expectResponse(get(key.sign({ sub: 'alice' })), 200, protectedAnswer('alice'), 'protected');
    await expectResponse(get(new IdpKey('recipe-2', 'ES256').sign({ sub: 'mallory' })), 422, { msg: 'Unknown key id' }, []);
  });
});
