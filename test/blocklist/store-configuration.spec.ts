import { Global, Inject, Injectable, Module, type Type } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import request from 'supertest';
import {
  InMemoryBlocklist,
  type InMemoryBlocklistOptions,
  JwtExtendedConfigError,
  JwtExtendedModule,
  type JwtExtendedOptions,
  type RevocationStore,
  type TokenLifetime,
} from '../../lib/index.js';
import { RedisBlocklist } from '../../lib/blocklist/redis/index.js';
import { ADAPTERS, SECRET, createTestApp, type TestApp } from '../support/app.js';
import { useRedis } from '../support/redis-server.js';
import {
  DAY,
  STORE_KINDS,
  type StoreKind,
  type StoreOptions,
  bearer,
  declareStore,
  freshPrefix,
  newStore,
  nowSeconds,
  payload,
  revocationRoutes,
  setWallClock,
  ADAPTER_STORE_PAIRS,
} from './stores.js';

let redis: Redis;
useRedis((started) => ({ redis } = started));
afterEach(() => {
  jest.useRealTimers();
});

/** A real app on `adapter` whose blocklist is a `kind` store declared as apps do. */
async function appWith(adapter: (typeof ADAPTERS)[number], kind: StoreKind, options: JwtExtendedOptions, storeOptions: StoreOptions = {}) {
  const Store = declareStore(kind, storeOptions, redis);
  const t = await createTestApp(adapter, { options, loaders: { blocklist: Store }, controllers: [revocationRoutes(Store)] });
  return { t, store: t.app.get<RevocationStore>(Store) };
}

/** The only key this store wrote for its user cut-offs. */
async function userKeyTtl(prefix: string): Promise<number> {
  const keys = (await redis.keys(`${prefix}*`)).filter((key) => key.endsWith(':user'));
  expect(keys).toHaveLength(1);
  return redis.ttl(keys[0]);
}

describe.each(ADAPTER_STORE_PAIRS)('A ready store follows the module identityClaim (%s, %s store)', (adapter, kind) => {
  let t: TestApp;
  beforeAll(async () => {
    ({ t } = await appWith(adapter, kind, { identityClaim: 'uid' }));
  });
  afterAll(() => t.close());

  it('revokeAllForUser with the uid refuses every earlier token of that identity, and only those', async () => {
    const first = await t.jwt.createAccessToken('bob');
    const second = await t.jwt.createRefreshToken('bob');
    const carol = await t.jwt.createAccessToken('carol');
    await request(t.url).get('/me').set(bearer(first)).expect(200, { identity: 'bob' });
    await request(t.url).delete('/logout-everywhere').set(bearer(first)).expect(200);
    await request(t.url).get('/me').set(bearer(first)).expect(401, { msg: 'Token has been revoked' });
    await request(t.url).post('/refresh').set(bearer(second)).expect(401, { msg: 'Token has been revoked' });
    await request(t.url).get('/me').set(bearer(carol)).expect(200, { identity: 'carol' });
    const later = await t.jwt.createAccessToken('bob');
    await request(t.url).get('/me').set(bearer(later)).expect(200, { identity: 'bob' });
  });

  it('logout revokes exactly the presented token', async () => {
    const token = await t.jwt.createAccessToken('dave');
    const other = await t.jwt.createAccessToken('dave');
    await request(t.url).delete('/logout').set(bearer(token)).expect(200);
    await request(t.url).get('/me').set(bearer(token)).expect(401, { msg: 'Token has been revoked' });
    await request(t.url).get('/me').set(bearer(other)).expect(200);
  });
});

describe('A store given another identityClaim than the module', () => {
  it.each(STORE_KINDS)('stops start-up with an error naming identityClaim (%s store, forRoot and forRootAsync)', async (kind) => {
    // Never destroyed (the module fails to start): keep its sweep timer from firing after this file.
    const Store = declareStore(kind, { identityClaim: 'sub', sweepInterval: 3600 }, redis);
    const modules = [
      JwtExtendedModule.forRoot({ secretKey: SECRET, identityClaim: 'uid', loaders: { blocklist: Store } }),
      JwtExtendedModule.forRootAsync({ useFactory: () => ({ secretKey: SECRET, identityClaim: 'uid' }), loaders: { blocklist: Store } }),
    ];
    for (const module of modules) {
      const error = await Test.createTestingModule({ imports: [module] })
        .compile()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JwtExtendedConfigError);
      expect(error).toMatchObject({ option: 'identityClaim' });
    }
  });

  it.each(STORE_KINDS)('starts when both name the same claim (%s store)', async (kind) => {
    const Store = declareStore(kind, { identityClaim: 'uid' }, redis);
    const moduleRef = await Test.createTestingModule({
      imports: [JwtExtendedModule.forRoot({ secretKey: SECRET, identityClaim: 'uid', loaders: { blocklist: Store } })],
    }).compile();
    const store = moduleRef.get<RevocationStore>(Store);
    await store.revokeAllForUser('bob');
    expect(await store.isTokenRevoked({}, payload({ uid: 'bob', iat: nowSeconds() - 5 }))).toBe(true);
    await moduleRef.close();
  });
});

// CONTRACT §7 and §17: `expiresDelta` has no upper bound, so no module lifetime bounds the tokens a
// user-wide cut-off must refuse: it is kept forever unless userRevocationTtl bounds it.
describe.each(ADAPTERS)('User cut-offs are kept forever by default (%s, in-memory store)', (adapter) => {
  type Case = {
    name: string;
    options: JwtExtendedOptions;
    token: 'access' | 'refresh';
    expiresDelta?: TokenLifetime;
    refusedAt: number[];
  };
  const cases: Case[] = [
    {
      name: "refreshTokenExpires '90d', and a refresh token of '365d' (past the module lifetime)",
      options: { refreshTokenExpires: '90d' },
      token: 'refresh',
      expiresDelta: '365d',
      refusedAt: [31 * DAY, 89 * DAY, 91 * DAY, 364 * DAY],
    },
    {
      name: "accessTokenExpires '120d' (the longer one counts)",
      options: { accessTokenExpires: '120d' },
      token: 'access',
      refusedAt: [100 * DAY],
    },
    {
      name: 'refreshTokenExpires false (forever)',
      options: { refreshTokenExpires: false },
      token: 'refresh',
      refusedAt: [365 * DAY, 3650 * DAY],
    },
    { name: 'accessTokenExpires false (forever)', options: { accessTokenExpires: false }, token: 'access', refusedAt: [3650 * DAY] },
    {
      name: 'decodeLeeway on top of the lifetime',
      options: { refreshTokenExpires: '1d', decodeLeeway: 3600 },
      token: 'refresh',
      refusedAt: [DAY + 3000],
    },
    {
      name: 'the default lifetimes, and an access token without exp (expiresDelta false)',
      options: {},
      token: 'access',
      expiresDelta: false,
      refusedAt: [31 * DAY, 3650 * DAY],
    },
    {
      name: "lifetimes of one minute, and an access token of '365d'",
      options: { accessTokenExpires: 60, refreshTokenExpires: 60 },
      token: 'access',
      expiresDelta: '365d',
      refusedAt: [3600, 300 * DAY],
    },
  ];

  it.each(cases)('$name', async ({ options, token, expiresDelta, refusedAt }) => {
    const start = nowSeconds();
    setWallClock(start);
    const { t, store } = await appWith(adapter, 'memory', options);
    try {
      const presented =
        token === 'access'
          ? await t.jwt.createAccessToken('bob', { expiresDelta })
          : await t.jwt.createRefreshToken('bob', { expiresDelta });
      await store.revokeAllForUser('bob');
      for (const offset of refusedAt) {
        setWallClock(start + offset);
        (store as InMemoryBlocklist).sweep();
        const call = token === 'access' ? request(t.url).get('/me') : request(t.url).post('/refresh');
        await call.set(bearer(presented)).expect(401, { msg: 'Token has been revoked' });
      }
      // tokens issued after the cut-off are not affected, however late
      await request(t.url)
        .get('/me')
        .set(bearer(await t.jwt.createAccessToken('bob')))
        .expect(200);
    } finally {
      jest.useRealTimers();
      await t.close();
    }
  });

  it('userRevocationTtl bounds the cut-off: kept that long, then tokens created with a longer expiresDelta outlive it', async () => {
    const start = nowSeconds();
    setWallClock(start);
    const { t, store } = await appWith(adapter, 'memory', {}, { userRevocationTtl: 90 * DAY });
    try {
      const long = await t.jwt.createAccessToken('bob', { expiresDelta: '80d' });
      const longer = await t.jwt.createAccessToken('bob', { expiresDelta: '365d' });
      await store.revokeAllForUser('bob');
      setWallClock(start + 60 * DAY);
      (store as InMemoryBlocklist).sweep();
      await request(t.url).get('/me').set(bearer(long)).expect(401, { msg: 'Token has been revoked' });
      await request(t.url).get('/me').set(bearer(longer)).expect(401, { msg: 'Token has been revoked' });
      setWallClock(start + 90 * DAY + 120);
      (store as InMemoryBlocklist).sweep();
      await request(t.url).get('/me').set(bearer(longer)).expect(200, { identity: 'bob' });
    } finally {
      jest.useRealTimers();
      await t.close();
    }
  });
});

describe('User cut-offs in Redis: without expiry by default, or for userRevocationTtl', () => {
  const forever: { name: string; options: JwtExtendedOptions }[] = [
    { name: "refreshTokenExpires '90d'", options: { refreshTokenExpires: '90d' } },
    { name: "accessTokenExpires '120d'", options: { accessTokenExpires: '120d' } },
    { name: 'the defaults', options: {} },
    { name: 'decodeLeeway on top', options: { refreshTokenExpires: '1d', decodeLeeway: 3600 } },
    { name: 'refreshTokenExpires false', options: { refreshTokenExpires: false } },
    { name: 'accessTokenExpires false', options: { accessTokenExpires: false } },
  ];

  it.each(forever)('$name: the cut-off key has no expiry, and the token is refused', async ({ options }) => {
    const keyPrefix = freshPrefix();
    const { t, store } = await appWith('fastify', 'redis', options, { keyPrefix });
    try {
      const refresh = await t.jwt.createRefreshToken('bob');
      await store.revokeAllForUser('bob');
      expect(await userKeyTtl(keyPrefix)).toBe(-1);
      await request(t.url).post('/refresh').set(bearer(refresh)).expect(401, { msg: 'Token has been revoked' });
    } finally {
      await t.close();
    }
  });

  it.each([
    { name: 'longer than the lifetimes', options: {}, ttl: 90 * DAY },
    {
      name: 'exactly the longest lifetime plus decodeLeeway',
      options: { refreshTokenExpires: '1d' as const, decodeLeeway: 60 },
      ttl: DAY + 60,
    },
  ])('userRevocationTtl $name: the cut-off key lives that long, and the token is refused', async ({ options, ttl }) => {
    const keyPrefix = freshPrefix();
    const { t, store } = await appWith('express', 'redis', options, { keyPrefix, userRevocationTtl: ttl });
    try {
      const token = await t.jwt.createAccessToken('bob');
      await store.revokeAllForUser('bob');
      const left = await userKeyTtl(keyPrefix);
      expect(left).toBeGreaterThan(ttl - 5);
      expect(left).toBeLessThanOrEqual(ttl);
      await request(t.url).get('/me').set(bearer(token)).expect(401, { msg: 'Token has been revoked' });
    } finally {
      await t.close();
    }
  });
});

describe('A userRevocationTtl shorter than what the module issues stops start-up', () => {
  const cases: [string, JwtExtendedOptions, StoreOptions][] = [
    ["refreshTokenExpires '1h'", { refreshTokenExpires: '1h' }, { userRevocationTtl: 60 }],
    ['the defaults (30 days)', {}, { userRevocationTtl: 30 * DAY - 1 }],
    ['decodeLeeway on top of the lifetime', { refreshTokenExpires: '1d', decodeLeeway: 60 }, { userRevocationTtl: DAY }],
    ["the store's own longer decodeLeeway", { refreshTokenExpires: '1d' }, { decodeLeeway: 600, userRevocationTtl: DAY + 60 }],
    ['refreshTokenExpires false', { refreshTokenExpires: false }, { userRevocationTtl: 100 * 365 * DAY }],
    ['accessTokenExpires false', { accessTokenExpires: false }, { userRevocationTtl: 100 * 365 * DAY }],
  ];

  it.each(STORE_KINDS.flatMap((kind) => cases.map(([name, options, storeOptions]) => [kind, name, options, storeOptions] as const)))(
    '%s store, %s: JwtExtendedConfigError naming userRevocationTtl (forRoot and forRootAsync)',
    async (kind, _name, options, storeOptions) => {
      // The stores of a module that fails to start are never destroyed: keep their sweep timer from firing after this file.
      const Store = declareStore(kind, { sweepInterval: 3600, ...storeOptions }, redis);
      const modules = [
        JwtExtendedModule.forRoot({ secretKey: SECRET, ...options, loaders: { blocklist: Store } }),
        JwtExtendedModule.forRootAsync({ useFactory: () => ({ secretKey: SECRET, ...options }), loaders: { blocklist: Store } }),
      ];
      for (const module of modules) {
        const error = await Test.createTestingModule({ imports: [module] })
          .compile()
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(JwtExtendedConfigError);
        expect(error).toMatchObject({ option: 'userRevocationTtl', message: expect.stringMatching(/userRevocationTtl/) });
      }
    },
  );
});

describe('A store used outside the module', () => {
  it('in memory: keeps user cut-offs forever (no lifetime is known), with the identity claim of its options', async () => {
    const start = nowSeconds();
    setWallClock(start);
    const store = newStore('memory', { identityClaim: 'uid' }) as InMemoryBlocklist;
    await store.revokeAllForUser('bob');
    setWallClock(start + 100 * 365 * DAY);
    store.sweep();
    expect(store.isTokenRevoked({}, payload({ uid: 'bob', iat: start }))).toBe(true);
    expect(store.isTokenRevoked({}, payload({ sub: 'bob', iat: start }))).toBe(false);
    store.onModuleDestroy();
  });

  it('in memory: userRevocationTtl bounds them', async () => {
    const start = nowSeconds();
    setWallClock(start);
    const store = newStore('memory', { userRevocationTtl: DAY }) as InMemoryBlocklist;
    await store.revokeAllForUser('bob');
    setWallClock(start + DAY - 60);
    expect(store.isTokenRevoked({}, payload({ sub: 'bob', iat: start }))).toBe(true);
    setWallClock(start + DAY + 60);
    expect(store.isTokenRevoked({}, payload({ sub: 'bob', iat: start }))).toBe(false);
    store.onModuleDestroy();
  });

  it('in Redis: keeps user cut-offs without expiry, or for userRevocationTtl', async () => {
    const forever = freshPrefix();
    await new RedisBlocklist(redis, { keyPrefix: forever }).revokeAllForUser('bob');
    expect(await userKeyTtl(forever)).toBe(-1);
    const bounded = freshPrefix();
    await new RedisBlocklist(redis, { keyPrefix: bounded, userRevocationTtl: 3600 }).revokeAllForUser('bob');
    expect(await userKeyTtl(bounded)).toBeGreaterThan(3595);
  });

  it('in Redis: a script sharing the app Redis revokes what the app then refuses', async () => {
    const keyPrefix = freshPrefix();
    const { t } = await appWith('express', 'redis', { identityClaim: 'uid', decodeLeeway: 30 }, { keyPrefix });
    try {
      const token = await t.jwt.createAccessToken('erin');
      const script = new RedisBlocklist(redis, { keyPrefix, identityClaim: 'uid', decodeLeeway: 30 });
      await script.revokeToken(await t.jwt.decodeToken(token));
      await request(t.url).get('/me').set(bearer(token)).expect(401, { msg: 'Token has been revoked' });
    } finally {
      await t.close();
    }
  });
});

// 17.11: the documented ways to declare a store, each booted as a real app (forRoot and forRootAsync).
const REDIS = Symbol('REDIS');
const STORE_SETTINGS = Symbol('STORE_SETTINGS');

@Injectable()
class ConfiguredInMemory extends InMemoryBlocklist {
  constructor() {
    super({ maxEntries: 50, maxEntriesPerIdentity: 5, sweepInterval: 30 });
  }
}

@Injectable()
class InheritedConstructor extends InMemoryBlocklist {}

@Injectable()
class InjectedSettings extends InMemoryBlocklist {
  constructor(@Inject(STORE_SETTINGS) settings: InMemoryBlocklistOptions) {
    super(settings);
  }
}

/** The README's Redis pattern: the client injected by token, options passed to super(). */
@Injectable()
class ReadmeRedisRevocations extends RedisBlocklist {
  constructor(@Inject(REDIS) client: Redis) {
    super(client, { keyPrefix: 'readme:revoked:', timeout: 1000 });
  }
}

@Global()
@Module({
  providers: [
    { provide: REDIS, useFactory: () => redis },
    { provide: STORE_SETTINGS, useValue: { maxEntries: 50 } },
  ],
  exports: [REDIS, STORE_SETTINGS],
})
class StoreDependencies {}

const patterns: [string, Type<RevocationStore>][] = [
  ['InMemoryBlocklist itself', InMemoryBlocklist],
  ['an @Injectable() subclass calling super(options)', ConfiguredInMemory],
  ['an @Injectable() subclass without a constructor', InheritedConstructor],
  ['an @Injectable() subclass injecting its options', InjectedSettings],
  ["the README's RedisBlocklist subclass", ReadmeRedisRevocations],
];

describe.each(ADAPTERS.flatMap((adapter) => ['forRoot', 'forRootAsync'].map((how) => [adapter, how] as const)))(
  'Declaring a store (%s, %s)',
  (adapter, how) => {
    it.each(patterns)('%s boots, follows the module configuration and revokes', async (_name, Store) => {
      const options = { secretKey: SECRET, identityClaim: 'uid' };
      const t = await createTestApp(adapter, {
        imports: [StoreDependencies],
        controllers: [revocationRoutes(Store)],
        module:
          how === 'forRoot'
            ? JwtExtendedModule.forRoot({ ...options, loaders: { blocklist: Store } })
            : JwtExtendedModule.forRootAsync({ imports: [StoreDependencies], useFactory: () => options, loaders: { blocklist: Store } }),
      });
      try {
        const identity = `${how}-${adapter}-${Store.name}`;
        const first = await t.jwt.createAccessToken(identity);
        const second = await t.jwt.createAccessToken(identity);
        await request(t.url).delete('/logout').set(bearer(first)).expect(200);
        await request(t.url).get('/me').set(bearer(first)).expect(401, { msg: 'Token has been revoked' });
        await request(t.url).get('/me').set(bearer(second)).expect(200, { identity });
        // the cut-off is read from the uid claim: the store was given the module's identityClaim
        await request(t.url).delete('/logout-everywhere').set(bearer(second)).expect(200);
        await request(t.url).get('/me').set(bearer(second)).expect(401, { msg: 'Token has been revoked' });
      } finally {
        await t.close();
      }
    });
  },
);

describe('Options passed to super() take effect', () => {
  it('a subclass capping entries per identity collapses past its cap', async () => {
    const t = await createTestApp('express', {
      loaders: { blocklist: ConfiguredInMemory },
      controllers: [revocationRoutes(ConfiguredInMemory)],
    });
    try {
      const store = t.app.get(ConfiguredInMemory);
      for (let i = 0; i < 5; i++) await store.revokeToken(await t.jwt.decodeToken(await t.jwt.createAccessToken('bob')));
      expect(store.size).toBe(5);
      await store.revokeToken(await t.jwt.decodeToken(await t.jwt.createAccessToken('bob')));
      expect(store.size).toBe(0);
    } finally {
      await t.close();
    }
  });
});

describe('Store options are checked when the store is built', () => {
  const memory = (options: InMemoryBlocklistOptions) => () => new InMemoryBlocklist(options).onModuleDestroy();
  const redisStore = (options: StoreOptions) => () => new RedisBlocklist(redis, options);

  it.each([Number.POSITIVE_INFINITY, 2 ** 31 / 1000, 2147484, 30 * DAY, 0, -1, Number.NaN, '60'])(
    'sweepInterval %p is refused (it would become a 1 ms timer, or none)',
    (sweepInterval) => {
      expect(memory({ sweepInterval: sweepInterval as number })).toThrow(TypeError);
      expect(memory({ sweepInterval: sweepInterval as number })).toThrow(/sweepInterval/);
    },
  );

  it('the longest sweepInterval a timer can hold is accepted as such', () => {
    const spy = jest.spyOn(globalThis, 'setInterval');
    try {
      new InMemoryBlocklist({ sweepInterval: 2147483.647 }).onModuleDestroy();
      expect(spy.mock.calls.at(-1)?.[1]).toBe(2 ** 31 - 1);
    } finally {
      spy.mockRestore();
    }
  });

  it.each([2 ** 31, Number.POSITIVE_INFINITY, 0, -5, Number.NaN])('Redis timeout %p is refused', (timeout) => {
    expect(redisStore({ timeout })).toThrow(TypeError);
    expect(redisStore({ timeout })).toThrow(/timeout/);
  });

  it('a Redis timeout of 2^31 - 1 ms is accepted', () => {
    expect(redisStore({ timeout: 2 ** 31 - 1 })).not.toThrow();
  });

  it.each([
    ['maxEntries', { maxEntries: 0 }],
    ['maxEntries', { maxEntries: 1.5 }],
    ['maxEntries', { maxEntries: Number.POSITIVE_INFINITY }],
    ['maxEntriesPerIdentity', { maxEntriesPerIdentity: 0 }],
    ['maxEntriesPerIdentity', { maxEntriesPerIdentity: 2.5 }],
  ] as [string, InMemoryBlocklistOptions][])('%s in %o is refused', (option, options) => {
    expect(memory(options)).toThrow(new RegExp(option));
  });

  it.each([
    ['userRevocationTtl', { userRevocationTtl: 0 }],
    ['userRevocationTtl', { userRevocationTtl: Number.POSITIVE_INFINITY }],
    ['decodeLeeway', { decodeLeeway: -1 }],
    ['decodeLeeway', { decodeLeeway: Number.NaN }],
    ['identityClaim', { identityClaim: '' }],
  ] as [string, InMemoryBlocklistOptions][])('%s in %o is refused by both stores', (option, options) => {
    expect(memory(options)).toThrow(new RegExp(option));
    expect(redisStore(options)).toThrow(new RegExp(option));
  });

  it.each(['app:{revoked}:', 'a}b', 'a{b'])('a keyPrefix with a brace (%p) is refused: the store sets the hash tags', (keyPrefix) => {
    expect(redisStore({ keyPrefix })).toThrow(/keyPrefix/);
  });
});
