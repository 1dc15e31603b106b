/**
 * The typed surface. `npm run typecheck` compiles this file: each `@ts-expect-error`
 * line must fail to compile, or the type-check fails. Jest runs the runtime halves.
 */
import { Controller, Get, Injectable } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import {
  type CreateAccessTokenOptions,
  CurrentUser,
  Jwt,
  JwtExtendedModule,
  type JwtExtendedModuleOptions,
  type JwtPayload,
  type TokenLifetime,
  type UserLookupLoader,
} from '../../lib/index.js';
import { SECRET } from '../support/app.js';
import { createService } from '../support/service.js';

/** `true` only when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

interface AppClaims {
  role: 'admin' | 'user';
  tenant: number;
}

describe('JwtPayload<Claims>', () => {
  it('with explicit Claims: only those claims and the registered ones, each with its type', () => {
    const payload: JwtPayload<AppClaims> = { role: 'admin', tenant: 7, type: 'access', fresh: false, jti: null };
    const role: Equal<typeof payload.role, 'admin' | 'user'> = true;
    const type: Equal<typeof payload.type, 'access' | 'refresh'> = true;
    const exp: Equal<typeof payload.exp, number | undefined> = true;
    // @ts-expect-error a misspelt claim does not compile
    const misspelt = payload.rol;
    // @ts-expect-error a claim keeps its declared type
    const tenant: string = payload.tenant;
    // @ts-expect-error a wrong claim value does not compile
    const wrongRole: JwtPayload<AppClaims> = { ...payload, role: 'root' };
    // @ts-expect-error `type` is 'access' | 'refresh'
    const wrongType: JwtPayload<AppClaims> = { ...payload, type: 'id' };
    expect([role, type, exp, misspelt, tenant, wrongRole.role, wrongType.type]).toEqual([true, true, true, undefined, 7, 'root', 'id']);
  });

  it('without Claims: any claim reads as unknown', () => {
    const payload: JwtPayload = { type: 'refresh', fresh: false, jti: 'j', scope: 'read' };
    const scope: Equal<typeof payload.scope, unknown> = true;
    const type: Equal<typeof payload.type, 'access' | 'refresh'> = true;
    // @ts-expect-error unknown until narrowed
    const text: string = payload.scope;
    expect([scope, type, text]).toEqual([true, true, 'read']);
  });
});

interface User {
  id: string;
}

@Injectable()
class Users implements UserLookupLoader<User> {
  lookupUser(): User {
    return { id: 'u' };
  }
}

describe('param decorators', () => {
  it('@Jwt<Claims>() takes only claim names of Claims; @CurrentUser() is typed by its annotation', () => {
    @Controller()
    class Handlers {
      @Get('typed')
      typed(@Jwt<AppClaims>('role') role: AppClaims['role'], @Jwt() jwt: JwtPayload<AppClaims>, @CurrentUser() user: User) {
        return { role, jwt, user };
      }
      @Get('misspelt')
      misspelt(
        // @ts-expect-error a misspelt claim name does not compile
        @Jwt<AppClaims>('rol') role: unknown,
        // any claim name without a Claims type
        @Jwt('scope') scope: unknown,
      ) {
        return { role, scope };
      }
    }
    expect(Handlers).toBeDefined();
  });
});

describe('typed durations', () => {
  it("'15x' and other non-durations do not compile", () => {
    const lifetimes: TokenLifetime[] = [900, '15m', '1.5h', '30d', '2w', '10s', false];
    // @ts-expect-error unknown unit
    const unit: TokenLifetime = '15x';
    // @ts-expect-error a bare number string has no unit
    const bare: TokenLifetime = '15';
    // @ts-expect-error `true` is not a lifetime
    const always: TokenLifetime = true;
    // @ts-expect-error expiresDelta is typed too
    const delta: CreateAccessTokenOptions = { expiresDelta: '1 fortnight' };
    expect([lifetimes.length, unit, bare, always, delta.expiresDelta]).toEqual([7, '15x', '15', true, '1 fortnight']);
  });

  it('every form the type allows parses at runtime, at start-up and per token', async () => {
    const jwt = await createService({ secretKey: SECRET, accessTokenExpires: '.5h', refreshTokenExpires: '2w' });
    const span = async (token: Promise<string>) => {
      const { exp, iat } = await jwt.decodeToken(await token);
      return exp! - iat!;
    };
    expect(await span(jwt.createAccessToken('a'))).toBe(1800);
    expect(await span(jwt.createRefreshToken('a'))).toBe(1209600);
    const forms: [TokenLifetime, number][] = [
      ['1e3s', 1000],
      ['0x10m', 960],
      ['1.5h', 5400],
      ['+2d', 172800],
      ['5.m', 300],
    ];
    for (const [expiresDelta, seconds] of forms) expect(await span(jwt.createAccessToken('a', { expiresDelta }))).toBe(seconds);
  });
});

describe('module options', () => {
  it('wrong option values do not compile', () => {
    class NotALoader {
      find() {
        return null;
      }
    }
    const wrong: JwtExtendedModuleOptions[] = [
      // @ts-expect-error unknown algorithm
      { secretKey: SECRET, algorithm: 'HS257' },
      // @ts-expect-error unknown token location
      { secretKey: SECRET, tokenLocation: ['header'] },
      // @ts-expect-error SameSite is capitalised
      { secretKey: SECRET, cookieSameSite: 'lax' },
      // @ts-expect-error a duration needs a known unit
      { secretKey: SECRET, refreshTokenExpires: '30 days please' },
      // @ts-expect-error a userLookup loader must implement lookupUser()
      { secretKey: SECRET, loaders: { userLookup: NotALoader } },
      // @ts-expect-error imports are modules
      { secretKey: SECRET, imports: ['UsersModule'] },
    ];
    const right: JwtExtendedModuleOptions = { secretKey: SECRET, accessTokenExpires: '15m', imports: [], loaders: { userLookup: Users } };
    expect([wrong.length, JwtExtendedModule.forRoot(right).module]).toEqual([6, JwtExtendedModule]);
  });
});
