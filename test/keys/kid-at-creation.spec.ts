import { Injectable } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import type { AdditionalHeadersLoader, DecodeKeyLoader, EncodeKeyLoader } from '../../lib/index.js';
import { ADAPTERS, SECRET, withTestApp } from '../support/app.js';
import { forgeHmac, now } from '../support/forge.js';
import { bearer, expectResponse } from '../support/http.js';
import { TargetController, protectedAnswer } from '../support/routes.js';

/*
 * CONTRACT §11: a token with a `kid` is verified with the key of that kid only; an unknown kid is
 * 422 `Unknown key id` — also in an app that knows no kid at all. So, without a decodeKey loader,
 * an app refuses to create a token whose additional headers name a kid other than the one of its
 * signing key (none, or `keyId`): it would sign tokens that every request refuses. With
 * encodeKey/decodeKey loaders the loaders choose keys by kid, and any kid is the loaders' business.
 */

const OTHER_SECRET = 'another-secret-that-is-32-bytes-long';

/** The kid `KidHeader` sets (none when undefined): `additionalHeaders` loaders are where apps set kids. */
let loaderKid: string | undefined;

@Injectable()
class KidHeader implements AdditionalHeadersLoader {
  additionalHeaders() {
    return loaderKid === undefined ? {} : { kid: loaderKid };
  }
}

/** Two HS256 keys by kid, the way a loader-driven app keeps them. */
const LOADER_KEYS: Record<string, string> = { alpha: SECRET, beta: OTHER_SECRET };

@Injectable()
class KeysByKid implements AdditionalHeadersLoader, EncodeKeyLoader, DecodeKeyLoader {
  additionalHeaders(identity: unknown) {
    return { kid: identity === 'alice' ? 'alpha' : 'beta' };
  }
  encodeKey(identity: unknown) {
    return LOADER_KEYS[identity === 'alice' ? 'alpha' : 'beta'];
  }
  decodeKey(header: Record<string, unknown>) {
    return Object.hasOwn(LOADER_KEYS, String(header.kid)) ? LOADER_KEYS[String(header.kid)] : '';
  }
}

const refusal = (kid: string, signer: string) =>
  `additional headers cannot set "kid" to "${kid}": a token with a kid is verified with the key of that kid only, ` +
  `and this app signs with ${signer} (name the signing key with keyId, or choose keys per kid with encodeKey and decodeKey loaders)`;

describe.each(ADAPTERS)('kids on created tokens are kids the app verifies with (%s)', (adapter) => {
  it('an app with no kid refuses to create a token naming one (loader or call), and refuses such a token when presented', async () => {
    await withTestApp(adapter, { controllers: [TargetController], loaders: { additionalHeaders: KidHeader } }, async (t) => {
      loaderKid = 'v1';
      await expect(t.jwt.createAccessToken('alice')).rejects.toThrow(new TypeError(refusal('v1', 'a key without a kid')));
      await expect(t.jwt.createRefreshToken('alice')).rejects.toThrow(TypeError);
      loaderKid = undefined;
      await expect(t.jwt.createAccessToken('alice', { additionalHeaders: { kid: 'v2' } })).rejects.toThrow(
        new TypeError(refusal('v2', 'a key without a kid')),
      );
      // no kid: created and accepted, as before
      const token = await t.jwt.createAccessToken('alice');
      expect(t.jwt.getUnverifiedJwtHeaders(token)).not.toHaveProperty('kid');
      await expectResponse(request(t.url).get('/protected').set(bearer(token)), 200, protectedAnswer('alice'), 'protected');
      // the same token signed under a kid: the app knows no kid, so it is unknown
      const withKid = forgeHmac({ alg: 'HS256', typ: 'JWT', kid: 'v1' }, { sub: 'alice', iat: now(), exp: now() + 60 }, SECRET);
      await expectResponse(request(t.url).get('/protected').set(bearer(withKid)), 422, { msg: 'Unknown key id' }, []);
    });
  });

  it('with keyId, the signing key’s kid is the only kid a created token may carry', async () => {
    await withTestApp(
      adapter,
      { controllers: [TargetController], loaders: { additionalHeaders: KidHeader }, options: { keyId: 'v1' } },
      async (t) => {
        loaderKid = 'v1';
        const named = await t.jwt.createAccessToken('alice');
        expect(t.jwt.getUnverifiedJwtHeaders(named)).toMatchObject({ kid: 'v1' });
        await expectResponse(request(t.url).get('/protected').set(bearer(named)), 200, protectedAnswer('alice'), 'protected');
        loaderKid = 'v2';
        await expect(t.jwt.createAccessToken('alice')).rejects.toThrow(new TypeError(refusal('v2', 'the key of kid "v1"')));
      },
    );
  });

  it('a verification key’s kid is refused too: the token would be signed with the current key', async () => {
    await withTestApp(
      adapter,
      {
        controllers: [TargetController],
        options: { keyId: 'current', verificationKeys: [{ kid: 'previous', algorithm: 'HS256', key: OTHER_SECRET }] },
      },
      async (t) => {
        await expect(t.jwt.createAccessToken('alice', { additionalHeaders: { kid: 'previous' } })).rejects.toThrow(
          new TypeError(refusal('previous', 'the key of kid "current"')),
        );
        await expect(t.jwt.createAccessToken('alice', { additionalHeaders: { kid: 42 } })).rejects.toThrow(TypeError);
      },
    );
  });

  it('with encodeKey and decodeKey loaders, the loaders’ kids keep working', async () => {
    await withTestApp(
      adapter,
      {
        controllers: [TargetController],
        options: { secretKey: undefined },
        loaders: { additionalHeaders: KeysByKid, encodeKey: KeysByKid, decodeKey: KeysByKid },
      },
      async (t) => {
        for (const [who, kid] of [
          ['alice', 'alpha'],
          ['bob', 'beta'],
        ]) {
          const token = await t.jwt.createAccessToken(who);
          expect(t.jwt.getUnverifiedJwtHeaders(token)).toMatchObject({ kid });
          await expectResponse(request(t.url).get('/protected').set(bearer(token)), 200, protectedAnswer(who), 'protected');
        }
      },
    );
  });
});
