/** The README's migration from @nestjs/jwt + passport-jwt, as written there. */
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import jsonwebtoken from 'jsonwebtoken';
import request from 'supertest';
import {
  CurrentUser,
  JwtExtendedModule,
  type JwtPayload,
  type JwtProtectedHeader,
  JwtRequired,
  type UserIdentityLoader,
  type UserLookupLoader,
} from '../../lib/index.js';
import { ADAPTERS, SECRET, TOKEN_CACHE, createTestApp, type TestApp } from '../support/app.js';

interface User {
  id: number;
  username: string;
}

@Injectable()
class UsersService {
  private readonly users = new Map<number, User>([[42, { id: 42, username: 'ada' }]]);
  findById(id: number): User | undefined {
    return this.users.get(id);
  }
}

@Module({ providers: [UsersService], exports: [UsersService] })
class UsersModule {}

/** Numeric ids: `userIdentity` makes `sub` a string, `lookupUser` converts it back. */
@Injectable()
class UserLoader implements UserIdentityLoader, UserLookupLoader<User> {
  constructor(private readonly users: UsersService) {}
  userIdentity(id: number) {
    return String(id);
  }
  lookupUser(_header: JwtProtectedHeader, payload: JwtPayload) {
    return this.users.findById(Number(payload.sub));
  }
}

@Controller()
class ProfileController {
  @Get('profile')
  @JwtRequired()
  profile(@CurrentUser() user: User) {
    return user;
  }
}

describe.each(ADAPTERS)('migrating from @nestjs/jwt + passport-jwt (%s)', (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(adapter, {
      module: JwtExtendedModule.forRoot({
        secretKey: SECRET,
        accessTokenExpires: '15m',
        ...TOKEN_CACHE,
        imports: [UsersModule],
        loaders: { userIdentity: UserLoader, userLookup: UserLoader },
      }),
      controllers: [ProfileController],
    });
  });
  afterAll(() => t.close());

  it('a numeric id goes through the userIdentity loader and comes back as the user', async () => {
    const token = await t.jwt.createAccessToken(42, { additionalClaims: { username: 'ada' } });
    const { sub, exp, iat } = await t.jwt.decodeToken(token);
    expect([sub, exp! - iat!]).toEqual(['42', 900]);
    await request(t.url).get('/profile').set('Authorization', `Bearer ${token}`).expect(200, { id: 42, username: 'ada' });
  });

  it('accepts an access token @nestjs/jwt signed with a string sub; refuses a numeric sub', async () => {
    const signed = (sub: unknown) => jsonwebtoken.sign({ sub, username: 'ada' }, SECRET, { expiresIn: '15m' });
    await request(t.url)
      .get('/profile')
      .set('Authorization', `Bearer ${signed('42')}`)
      .expect(200, { id: 42, username: 'ada' });
    await request(t.url)
      .get('/profile')
      .set('Authorization', `Bearer ${signed(42)}`)
      .expect(422, { msg: 'Subject must be a string' });
  });
});
