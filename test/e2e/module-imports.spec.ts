import { Controller, type DynamicModule, Get, Inject, Injectable, Module, Param, Post, Delete, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  CurrentUser,
  InMemoryBlocklist,
  JWT_BLOCKLIST,
  Jwt,
  JwtExtendedModule,
  type JwtProtectedHeader,
  type JwtPayload,
  JwtRequired,
  type RevocationStore,
  type UserLookupLoader,
} from '../../lib/index.js';
import { ADAPTERS, SECRET, TOKEN_CACHE, createTestApp, startupError, type TestApp } from '../support/app.js';

interface User {
  id: string;
  name: string;
}

/** Provided by UsersModule and not exported: UsersService can only get it where UsersModule declares it. */
@Injectable()
class UsersRepository {
  readonly rows = new Map<string, User>();
}

/** The app's own service, also the library's `userLookup` loader. */
@Injectable()
class UsersService implements UserLookupLoader<User> {
  static created = 0;
  constructor(private readonly repository: UsersRepository) {
    UsersService.created++;
  }
  add(id: string): User {
    const user = { id, name: id.toUpperCase() };
    this.repository.rows.set(id, user);
    return user;
  }
  lookupUser(_header: JwtProtectedHeader, payload: JwtPayload): User | null {
    return this.repository.rows.get(payload.sub as string) ?? null;
  }
}

@Controller('users')
class UsersController {
  constructor(private readonly users: UsersService) {}
  @Post(':id')
  add(@Param('id') id: string) {
    return this.users.add(id);
  }
}

@Module({ providers: [UsersRepository, UsersService], controllers: [UsersController], exports: [UsersService] })
class UsersModule {}

/** Re-exports UsersModule: Nest resolves UsersService through it. */
@Module({ imports: [UsersModule], exports: [UsersModule] })
class AccountsModule {}

class DynamicUsersModule {}
const dynamicUsers: DynamicModule = {
  module: DynamicUsersModule,
  providers: [UsersRepository, UsersService],
  controllers: [UsersController],
  exports: [UsersService],
};

@Controller()
class MeController {
  @Get('me')
  @JwtRequired()
  me(@CurrentUser() user: User) {
    return user;
  }
}

/** Provides UsersService as a custom class provider. */
@Module({
  providers: [UsersRepository, { provide: UsersService, useClass: UsersService }],
  controllers: [UsersController],
  exports: [UsersService],
})
class CustomProviderUsersModule {}

const FORMS: [string, () => DynamicModule][] = [
  [
    'forRoot({ imports })',
    () => JwtExtendedModule.forRoot({ secretKey: SECRET, ...TOKEN_CACHE, imports: [UsersModule], loaders: { userLookup: UsersService } }),
  ],
  [
    'forRootAsync({ imports })',
    () =>
      JwtExtendedModule.forRootAsync({
        imports: [UsersModule],
        useFactory: () => ({ secretKey: SECRET, ...TOKEN_CACHE }),
        loaders: { userLookup: UsersService },
      }),
  ],
  [
    'a module re-exporting it',
    () =>
      JwtExtendedModule.forRoot({ secretKey: SECRET, ...TOKEN_CACHE, imports: [AccountsModule], loaders: { userLookup: UsersService } }),
  ],
  [
    'a custom class provider',
    () =>
      JwtExtendedModule.forRoot({
        secretKey: SECRET,
        ...TOKEN_CACHE,
        imports: [CustomProviderUsersModule],
        loaders: { userLookup: UsersService },
      }),
  ],
  [
    'a dynamic module',
    () => JwtExtendedModule.forRoot({ secretKey: SECRET, ...TOKEN_CACHE, imports: [dynamicUsers], loaders: { userLookup: UsersService } }),
  ],
];

describe.each(ADAPTERS)('a loader the app already provides (%s)', (adapter) => {
  describe.each(FORMS)('through %s', (_form, module) => {
    let t: TestApp;
    beforeAll(async () => {
      UsersService.created = 0;
      t = await createTestApp(adapter, { module: module(), controllers: [MeController] });
    });
    afterAll(() => t.close());

    it('is that one instance: a user the app adds is the one the guard loads', async () => {
      const auth = `Bearer ${await t.jwt.createAccessToken('alice')}`;
      await request(t.url).get('/me').set('Authorization', auth).expect(401, { msg: 'Error loading the user alice' });
      await request(t.url).post('/users/alice').expect(201, { id: 'alice', name: 'ALICE' });
      await request(t.url).get('/me').set('Authorization', auth).expect(200, { id: 'alice', name: 'ALICE' });
      expect(UsersService.created).toBe(1);
    });
  });
});

/** Exported by DirectoryModule; the loader below injects it. */
@Injectable()
class Directory {
  readonly names = new Map([['bob', 'Bob']]);
}

@Module({ providers: [Directory], exports: [Directory] })
class DirectoryModule {}

/** A loader the app does not provide: the library registers it, and it injects what `imports` export. */
@Injectable()
class DirectoryLookup implements UserLookupLoader<User> {
  constructor(readonly directory: Directory) {}
  lookupUser(_header: JwtProtectedHeader, payload: JwtPayload): User | null {
    const name = this.directory.names.get(payload.sub as string);
    return name === undefined ? null : { id: payload.sub as string, name };
  }
}

describe.each(ADAPTERS)('a loader the library registers, injecting an app service (%s)', (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(adapter, {
      module: JwtExtendedModule.forRoot({
        secretKey: SECRET,
        ...TOKEN_CACHE,
        imports: [DirectoryModule],
        loaders: { userLookup: DirectoryLookup },
      }),
      controllers: [MeController],
    });
  });
  afterAll(() => t.close());

  it('resolves its dependencies through forRoot({ imports }) and shares the app’s instance of them', async () => {
    const auth = `Bearer ${await t.jwt.createAccessToken('bob')}`;
    await request(t.url).get('/me').set('Authorization', auth).expect(200, { id: 'bob', name: 'Bob' });
    t.app.select(DirectoryModule).get(Directory).names.set('bob', 'Robert');
    await request(t.url).get('/me').set('Authorization', auth).expect(200, { id: 'bob', name: 'Robert' });
    expect(t.app.get(DirectoryLookup).directory).toBe(t.app.select(DirectoryModule).get(Directory));
  });
});

describe('forRoot({ imports }) failures at start-up', () => {
  it('without imports, a loader that injects an app service cannot be built', async () => {
    const compile = Test.createTestingModule({
      imports: [DirectoryModule, JwtExtendedModule.forRoot({ secretKey: SECRET, loaders: { userLookup: DirectoryLookup } })],
    }).compile();
    await expect(compile).rejects.toThrow(/DirectoryLookup/);
  });

  it('refuses a loader an imported module provides but does not export (no second instance)', () => {
    @Module({ providers: [UsersRepository, UsersService] })
    class HiddenUsersModule {}
    expect(() =>
      JwtExtendedModule.forRoot({ secretKey: SECRET, imports: [HiddenUsersModule], loaders: { userLookup: UsersService } }),
    ).toThrow(
      new TypeError(
        "JwtExtendedModule: loader UsersService is provided by HiddenUsersModule but not exported; add it to HiddenUsersModule's exports so that instance is used",
      ),
    );
  });
});

/** A loader with no dependencies, that the library creates itself. */
@Injectable()
class StaticUsers implements UserLookupLoader<User> {
  lookupUser(_header: JwtProtectedHeader, payload: JwtPayload): User {
    return { id: payload.sub as string, name: 'static' };
  }
}

/** The start-up error for a `userLookup` loader that `second` provides besides the instance the library uses. */
const secondLookup = (loader: string, second: string, used: string) =>
  new TypeError(
    `JwtExtendedModule: loader ${loader} (loaders.userLookup) is provided a second time by ${second}: ` +
      `a second instance, apart from the one the library uses (from ${used}). ` +
      `Remove it from ${second}'s providers and inject the one from ${used}, ` +
      'or provide it once, in a module that exports it, and list that module in forRoot({ imports })',
  );

describe.each(ADAPTERS)('a userLookup loader the app provides a second time (%s)', (adapter) => {
  it('in its root module, besides the library’s own: start-up fails naming both', async () => {
    expect(
      await startupError(adapter, { loaders: { userLookup: StaticUsers }, providers: [StaticUsers], controllers: [MeController] }),
    ).toEqual(secondLookup('StaticUsers', 'RootTestModule', 'JwtExtendedModule'));
  });

  it('in a feature module, besides the library’s own: start-up fails naming that module', async () => {
    @Module({ providers: [StaticUsers], exports: [StaticUsers] })
    class ProfileModule {}
    expect(
      await startupError(adapter, { loaders: { userLookup: StaticUsers }, imports: [ProfileModule], controllers: [MeController] }),
    ).toEqual(secondLookup('StaticUsers', 'ProfileModule', 'JwtExtendedModule'));
  });

  it('in its root module, besides the one forRoot({ imports }) exports: start-up fails naming both', async () => {
    expect(
      await startupError(adapter, {
        module: JwtExtendedModule.forRoot({
          secretKey: SECRET,
          ...TOKEN_CACHE,
          imports: [UsersModule],
          loaders: { userLookup: UsersService },
        }),
        providers: [UsersRepository, UsersService],
        controllers: [MeController],
      }),
    ).toEqual(secondLookup('UsersService', 'RootTestModule', 'UsersModule'));
  });
});

describe.each(ADAPTERS)('a loader the app reaches without providing it again (%s)', (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    UsersService.created = 0;
    @Module({ imports: [UsersModule], providers: [{ provide: 'LOOKUP', useExisting: UsersService }], exports: ['LOOKUP'] })
    class AliasModule {}
    t = await createTestApp(adapter, {
      // The app imports UsersModule itself too, and aliases its UsersService: still one instance.
      imports: [UsersModule, AliasModule],
      module: JwtExtendedModule.forRoot({
        secretKey: SECRET,
        ...TOKEN_CACHE,
        imports: [UsersModule],
        loaders: { userLookup: UsersService },
      }),
      controllers: [MeController],
    });
  });
  afterAll(() => t.close());

  it('starts, and the app and the guard share that instance', async () => {
    const auth = `Bearer ${await t.jwt.createAccessToken('dave')}`;
    await request(t.url).post('/users/dave').expect(201, { id: 'dave', name: 'DAVE' });
    await request(t.url).get('/me').set('Authorization', auth).expect(200, { id: 'dave', name: 'DAVE' });
    expect(UsersService.created).toBe(1);
    expect(t.app.get('LOOKUP')).toBe(t.app.select(UsersModule).get(UsersService));
  });
});

/** A ready store configured by subclassing. */
@Injectable()
class Revocations extends InMemoryBlocklist {}

@Controller()
class SessionController {
  constructor(@Inject(JWT_BLOCKLIST) private readonly store: RevocationStore) {}
  @Get('session')
  @JwtRequired()
  session() {
    return { ok: true };
  }
  @Delete('session')
  @JwtRequired()
  async logout(@Jwt() jwt: JwtPayload) {
    await this.store.revokeToken(jwt);
    return { revoked: true };
  }
}

@Module({ providers: [Revocations], exports: [Revocations] })
class StoreModule {}

describe.each(ADAPTERS)('JWT_BLOCKLIST (%s)', (adapter) => {
  const places: [string, { imports?: Type[] }, (t: TestApp) => Revocations][] = [
    ['registered by the library', {}, (t) => t.app.get(Revocations)],
    ['provided by the app', { imports: [StoreModule] }, (t) => t.app.select(StoreModule).get(Revocations)],
  ];
  describe.each(places)('with a blocklist %s', (_where, extra, appInstance) => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(adapter, {
        module: JwtExtendedModule.forRoot({ secretKey: SECRET, ...TOKEN_CACHE, ...extra, loaders: { blocklist: Revocations } }),
        controllers: [SessionController],
      });
    });
    afterAll(() => t.close());

    it('injects the configured loaders.blocklist instance: a token revoked through it is refused', async () => {
      const auth = `Bearer ${await t.jwt.createAccessToken('carol')}`;
      await request(t.url).get('/session').set('Authorization', auth).expect(200, { ok: true });
      await request(t.url).delete('/session').set('Authorization', auth).expect(200, { revoked: true });
      await request(t.url).get('/session').set('Authorization', auth).expect(401, { msg: 'Token has been revoked' });
      expect(t.app.get(JWT_BLOCKLIST)).toBe(appInstance(t));
    });
  });
});

describe('JWT_BLOCKLIST without a blocklist loader', () => {
  it('cannot be injected: start-up fails naming the token', async () => {
    const compile = Test.createTestingModule({
      imports: [JwtExtendedModule.forRoot({ secretKey: SECRET })],
      controllers: [SessionController],
    }).compile();
    await expect(compile).rejects.toThrow(/JWT_BLOCKLIST/);
  });
});
