import { Injectable } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import * as fc from 'fast-check';
import request from 'supertest';
import { type AdditionalClaimsLoader, JwtDecodeException, type JwtExtendedOptions, type UserIdentityLoader } from '../../lib/index.js';
import { ADAPTERS, SECRET, useTestApp } from '../support/app.js';
import { forgeHmac } from '../support/forge.js';
import { bearer, expectResponse } from '../support/http.js';
import { createService } from '../support/service.js';
import { TargetController, protectedAnswer } from '../support/routes.js';

/*
 * Defect 9.11: with verifySub on, a non-string identity made tokens that every request then
 * refused ("Subject must be a string"). Creation now rejects them with a TypeError saying how
 * to fix it. The rule is the decoder's: verifySub checks the `sub` claim whatever identityClaim
 * is, so an additional `sub` claim is held to it too, and a non-`sub` identity claim is not.
 */

const NON_STRINGS: [string, unknown, RegExp][] = [
  ['a number', 42, /got number/],
  ['an object', { id: 7 }, /got object/],
  ['an array', ['u1'], /got object/],
  ['a boolean', true, /got boolean/],
  ['null', null, /got null/],
  ['undefined', undefined, /got undefined/],
];

describe('createAccessToken / createRefreshToken with verifySub on', () => {
  it.each(NON_STRINGS)('reject %s as the identity with a TypeError that says how to fix it', async (_name, identity, got) => {
    const jwt = await createService({ secretKey: SECRET });
    for (const create of [jwt.createAccessToken.bind(jwt), jwt.createRefreshToken.bind(jwt)]) {
      const error = await create(identity).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(got);
      expect((error as Error).message).toMatch(/pass a string, or add a userIdentity loader that returns one/);
    }
  });

  it('check the identity after the userIdentity loader', async () => {
    @Injectable()
    class ToId implements UserIdentityLoader {
      userIdentity(user: unknown) {
        return (user as { id: unknown }).id;
      }
    }
    const jwt = await createService({ secretKey: SECRET }, { userIdentity: ToId });
    await expect(jwt.createAccessToken({ id: 'u1' })).resolves.toEqual(expect.any(String));
    await expect(jwt.createAccessToken({ id: 7 })).rejects.toThrow(/identity must be a string .*got number/);
  });

  it('hold an additional sub claim to the same rule, whatever identityClaim is', async () => {
    @Injectable()
    class NumericSub implements AdditionalClaimsLoader {
      additionalClaims() {
        return { sub: 5 };
      }
    }
    const uid = await createService({ secretKey: SECRET, identityClaim: 'uid' });
    await expect(uid.createAccessToken('u1', { additionalClaims: { sub: 42 } })).rejects.toThrow(
      /additional claim "sub" must be a string while verifySub is on, got number/,
    );
    await expect(uid.createAccessToken('u1', { additionalClaims: { sub: 'u1' } })).resolves.toEqual(expect.any(String));
    const loaded = await createService({ secretKey: SECRET }, { additionalClaims: NumericSub });
    await expect(loaded.createAccessToken('u1')).rejects.toThrow(/additional claim "sub"/);
  });

  it('leave a non-sub identity claim alone, as the decoder does', async () => {
    const jwt = await createService({ secretKey: SECRET, identityClaim: 'uid' });
    await expect(jwt.decodeToken(await jwt.createAccessToken(42))).resolves.toMatchObject({ uid: 42 });
    await expect(jwt.decodeToken(await jwt.createAccessToken({ id: 7 }))).resolves.toMatchObject({ uid: { id: 7 } });
  });

  it('with verifySub off, any JSON identity is allowed', async () => {
    const jwt = await createService({ secretKey: SECRET, verifySub: false });
    await expect(jwt.decodeToken(await jwt.createAccessToken(42))).resolves.toMatchObject({ sub: 42 });
  });
});

describe.each(ADAPTERS)('tokens that can be created are accepted over HTTP (%s)', (adapter) => {
  const appWith = (options: JwtExtendedOptions) => useTestApp(adapter, { controllers: [TargetController], options });
  const apps = { default: appWith({}), uid: appWith({ identityClaim: 'uid' }), lax: appWith({ verifySub: false }) };

  it.each([
    ['default', 'alice'],
    ['uid', 42],
    ['uid', { id: 7, org: 'x' }],
    ['lax', 42],
    ['lax', ['a', 'b']],
  ] as const)('%s configuration, identity %j', async (setup, identity) => {
    const app = apps[setup];
    await expectResponse(
      request(app.url)
        .get('/protected')
        .set(bearer(await app.jwt.createAccessToken(identity))),
      200,
      protectedAnswer(identity),
      'protected',
    );
  });
});

describe('property: creation and decoding agree on the sub rule', () => {
  const identity = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }));
  const extraSub = fc.option(fc.oneof(fc.string(), fc.integer(), fc.constant(null)), { nil: undefined });

  it('a token can be created exactly when a request would accept its claims', async () => {
    const services = {
      sub: await createService({ secretKey: SECRET }),
      uid: await createService({ secretKey: SECRET, identityClaim: 'uid' }),
    };
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('sub', 'uid') as fc.Arbitrary<'sub' | 'uid'>, identity, extraSub, async (claim, id, sub) => {
        const jwt = services[claim];
        const additionalClaims = sub === undefined ? {} : { sub };
        const created = await jwt.createAccessToken(id, { additionalClaims }).then(
          (token) => token,
          (error: unknown) => error,
        );
        // the same claims, signed directly: what the decoder says of them
        const forged = forgeHmac({ alg: 'HS256' }, { [claim]: id, ...additionalClaims }, SECRET);
        const decoded = await jwt.decodeToken(forged).then(
          () => 'accepted',
          (error: unknown) => (error as JwtDecodeException).reason,
        );
        if (typeof created === 'string') {
          expect(decoded).toBe('accepted');
          await expect(jwt.decodeToken(created)).resolves.toBeTruthy();
        } else {
          expect(created).toBeInstanceOf(TypeError);
          expect(decoded).toBe('Subject must be a string');
        }
      }),
      { numRuns: 300 },
    );
  });
});
