import { Controller, Get, Injectable, type Type } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from '@jest/globals';
import {
  InMemoryBlocklist,
  type JwtExtendedLoaders,
  type JwtExtendedOptions,
  JwtExtendedModule,
  JwtExtendedService,
  JwtGuard,
  JwtRequired,
  type UserLookupLoader,
} from '../../lib/index.js';
import { SECRET } from '../support/app.js';

@Controller()
class RouteController {
  @Get()
  @JwtRequired()
  me() {
    return 'me';
  }
}

@Injectable()
class Users implements UserLookupLoader {
  lookupUser(_header: unknown, payload: { sub?: unknown }) {
    return { id: payload.sub };
  }
}

@Injectable()
class SlowUsers implements UserLookupLoader {
  async lookupUser(_header: unknown, payload: { sub?: unknown }) {
    await new Promise((resolve) => setImmediate(resolve));
    return { id: payload.sub };
  }
}

const asyncSchema = {
  '~standard': { version: 1 as const, vendor: 'test', validate: async (value: unknown) => ({ value: value as object }) },
};

async function setUp(options: Partial<JwtExtendedOptions>, loaders: JwtExtendedLoaders) {
  const moduleRef = await Test.createTestingModule({
    imports: [JwtExtendedModule.forRoot({ secretKey: SECRET, ...options, loaders })],
    controllers: [RouteController],
  }).compile();
  const guard = moduleRef.get(JwtGuard);
  const jwt = moduleRef.get(JwtExtendedService);
  const handler = Object.getOwnPropertyDescriptor(RouteController.prototype, 'me')!.value as () => unknown;
  const canActivate = (authorization: string) => {
    const req = { method: 'GET', headers: { authorization } };
    const context = new ExecutionContextHost([req, {}, () => undefined], RouteController as Type, handler);
    context.setType('http');
    return guard.canActivate(context);
  };
  return { jwt, canActivate, moduleRef };
}

/*
 * Nest awaits a guard only when it returns a promise: the guard answers `true` directly when every
 * step does (decoding, the store, the loaders), a promise as soon as one step is one, and fails
 * with a rejected promise, never a throw.
 */
describe('JwtGuard answers directly when it can', () => {
  it('true, not a promise: a new token and the same token again, synchronous store and user lookup', async () => {
    const { jwt, canActivate } = await setUp({}, { blocklist: InMemoryBlocklist, userLookup: Users });
    const token = await jwt.createAccessToken('alice');
    expect(canActivate(`Bearer ${token}`)).toBe(true);
    expect(canActivate(`Bearer ${token}`)).toBe(true);
  });

  it('a promise that resolves to true with an async user lookup, every time', async () => {
    const { jwt, canActivate } = await setUp({}, { blocklist: InMemoryBlocklist, userLookup: SlowUsers });
    const token = await jwt.createAccessToken('alice');
    for (let i = 0; i < 2; i++) {
      const answer = canActivate(`Bearer ${token}`);
      expect(answer).toBeInstanceOf(Promise);
      await expect(answer).resolves.toBe(true);
    }
  });

  it('an async claims schema: a promise for a new token, true once its validated payload is cached', async () => {
    const { jwt, canActivate } = await setUp({ claimsSchema: asyncSchema }, { userLookup: Users });
    const token = await jwt.createAccessToken('alice');
    const answer = canActivate(`Bearer ${token}`);
    expect(answer).toBeInstanceOf(Promise);
    await expect(answer).resolves.toBe(true);
    expect(canActivate(`Bearer ${token}`)).toBe(true);
  });

  it('a failure found at once is a rejected promise, never a throw', async () => {
    const { jwt, canActivate, moduleRef } = await setUp({}, { blocklist: InMemoryBlocklist, userLookup: Users });
    const token = await jwt.createAccessToken('alice');
    const revoked = await jwt.createAccessToken('bob');
    expect(canActivate(`Bearer ${revoked}`)).toBe(true);
    await moduleRef.get(InMemoryBlocklist).revokeToken(await jwt.decodeToken(revoked));
    for (const [header, name] of [
      ['Bearer not.a.jwt', 'JwtDecodeException'],
      [`Bearer ${token} x`, 'InvalidHeaderException'],
      ['', 'NoAuthorizationException'],
      [`Bearer ${revoked}`, 'RevokedTokenException'],
    ]) {
      let answer: unknown;
      expect(() => (answer = canActivate(header))).not.toThrow();
      expect(answer).toBeInstanceOf(Promise);
      await expect(answer).rejects.toMatchObject({ name });
    }
  });
});

/*
 * Loaders get the request's own payload and may change it (a `sub` put into canonical form): the
 * identity is read after the blocklist and `tokenVerification`, just before the user lookup, on the
 * synchronous path as on the asynchronous one, cached token or not.
 */
describe('the identity follows what the loaders before the user lookup did to the payload', () => {
  @Injectable()
  class Canonical {
    verifyToken(_header: unknown, payload: { sub?: unknown }) {
      payload.sub = String(payload.sub).toLowerCase();
      return true;
    }
  }
  @Injectable()
  class AsyncCanonical {
    async verifyToken(_header: unknown, payload: { sub?: unknown }) {
      payload.sub = String(payload.sub).toLowerCase();
      return true;
    }
  }
  @Injectable()
  class NoUser implements UserLookupLoader {
    lookupUser() {
      return null;
    }
  }

  it.each([
    ['synchronous', Canonical],
    ['asynchronous', AsyncCanonical],
  ])('%s tokenVerification: getJwtIdentity and the user lookup see the changed sub', async (_, tokenVerification) => {
    for (const userLookup of [Users, undefined]) {
      const { jwt } = await setUp({}, { blocklist: InMemoryBlocklist, tokenVerification, ...(userLookup ? { userLookup } : {}) });
      const token = await jwt.createAccessToken('ALICE');
      for (let i = 0; i < 2; i++) {
        const req = { method: 'GET', headers: { authorization: `Bearer ${token}` } };
        await jwt.verifyJwtInRequest(req);
        expect(jwt.getJwtIdentity(req)).toBe('alice');
        if (userLookup) expect(jwt.getCurrentUser(req)).toEqual({ id: 'alice' });
      }
    }
    const { jwt } = await setUp({}, { tokenVerification, userLookup: NoUser });
    const token = await jwt.createAccessToken('BOB');
    await expect(jwt.verifyJwtInRequest({ method: 'GET', headers: { authorization: `Bearer ${token}` } })).rejects.toMatchObject({
      message: 'Error loading the user bob',
    });
  });
});
