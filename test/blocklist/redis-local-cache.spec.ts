import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import request from 'supertest';
import { RedisBlocklist } from '../../lib/blocklist/redis/index.js';
import { ADAPTERS, createTestApp, type TestApp } from '../support/app.js';
import { mgetCalls, untilAnsweredFromMemory, useRedis } from '../support/redis-server.js';
import { bearer, declareStore, freshPrefix, nowSeconds, payload, revocationRoutes } from './stores.js';

let redis: Redis;
useRedis((started) => ({ redis } = started));

const stores: RedisBlocklist[] = [];
/** A store with a local cache, closed after its test. */
function cached(keyPrefix: string, maxEntries = 1000, client: Redis = redis): RedisBlocklist {
  const store = new RedisBlocklist(client, { keyPrefix, localCache: { maxEntries } });
  stores.push(store);
  return store;
}
afterEach(() => {
  for (const store of stores.splice(0)) store.onModuleDestroy();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it is true; fails after `ms` (a generous bound, not a timing assertion). */
async function eventually(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('never became true');
    await sleep(5);
  }
}

/**
 * Ends the store's connections of one role on the server (CLIENT KILL by their connection name)
 * and keeps them out (maxclients) until the returned function lets them back.
 */
async function killConnections(name: 'jwt-blocklist-invalidations' | 'jwt-blocklist-tracking'): Promise<() => Promise<void>> {
  const list = String(await redis.client('LIST')).split('\n');
  const ids = list.filter((line) => line.includes(` name=${name} `)).map((line) => /id=(\d+)/.exec(line)![1]);
  expect(ids.length).toBeGreaterThan(0);
  const [, maxclients] = (await redis.config('GET', 'maxclients')) as string[];
  await redis.config('SET', 'maxclients', String(list.filter(Boolean).length - ids.length));
  for (const id of ids) await redis.client('KILL', 'ID', id);
  return async () => void (await redis.config('SET', 'maxclients', maxclients));
}

const token = (sub: string, jti: string) => payload({ jti, sub, iat: nowSeconds() - 5, exp: nowSeconds() + 600 });

describe('RedisBlocklist localCache against a real redis-server', () => {
  it('answers from memory once tracking is up, and a revocation by another store reaches it', async () => {
    const keyPrefix = freshPrefix();
    const store = cached(keyPrefix);
    const other = new RedisBlocklist(redis, { keyPrefix });
    const alice = token('alice', 'a-1');
    await untilAnsweredFromMemory(redis, () => store.isTokenRevoked({}, alice));
    // answered synchronously: no promise, so the guard sets no loader deadline for it
    expect(store.isTokenRevoked({}, alice)).toBe(false);
    await other.revokeToken(alice);
    await eventually(() => store.isTokenRevoked({}, alice));
    // a user-wide cut-off invalidates the identity's key, so every cached token of the user
    const second = token('alice', 'a-2');
    await untilAnsweredFromMemory(redis, () => store.isTokenRevoked({}, second));
    await other.revokeAllForUser('alice');
    await eventually(() => store.isTokenRevoked({}, second));
  });

  it('the instance that revokes refuses the token as soon as the revocation resolves', async () => {
    const store = cached(freshPrefix());
    // Its own invalidation races the write's reply: repeat to give the race its chances.
    for (let n = 0; n < 20; n++) {
      const own = token(`self-${n}`, `s-${n}`);
      await untilAnsweredFromMemory(redis, () => store.isTokenRevoked({}, own));
      await store.revokeToken(own);
      expect(await store.isTokenRevoked({}, own)).toBe(true);
    }
  });

  it.each(['jwt-blocklist-invalidations', 'jwt-blocklist-tracking'] as const)(
    'when its %s connection drops, a revocation made meanwhile is never answered "not revoked" from memory',
    async (role) => {
      const keyPrefix = freshPrefix();
      const store = cached(keyPrefix);
      const other = new RedisBlocklist(redis, { keyPrefix });
      const bob = token('bob', 'b-1');
      await untilAnsweredFromMemory(redis, () => store.isTokenRevoked({}, bob));
      // The invalidation of this revocation is lost with the connection, which cannot come back yet:
      // only emptying the cache when the connection closed saves the check.
      const letBack = await killConnections(role);
      await other.revokeToken(bob);
      await eventually(() => store.isTokenRevoked({}, bob));
      expect(await store.isTokenRevoked({}, bob)).toBe(true);
      // and once the connection is back, the cache answers again
      await letBack();
      const carol = token('carol', 'c-1');
      await untilAnsweredFromMemory(redis, () => store.isTokenRevoked({}, carol));
      await other.revokeToken(carol);
      await eventually(() => store.isTokenRevoked({}, carol));
    },
  );

  it('a jti with a lone surrogate is invalidated too (Redis stores keys as UTF-8, which replaces it)', async () => {
    const keyPrefix = freshPrefix();
    const store = cached(keyPrefix);
    const other = new RedisBlocklist(redis, { keyPrefix });
    const odd = token('odd', 'j\ud800-1');
    await untilAnsweredFromMemory(redis, () => store.isTokenRevoked({}, odd));
    await other.revokeToken(odd);
    await eventually(() => store.isTokenRevoked({}, odd));
  });

  it('one jti under two identities: each token is checked under its own identity, answered from memory or not', async () => {
    const keyPrefix = freshPrefix();
    const store = cached(keyPrefix);
    const other = new RedisBlocklist(redis, { keyPrefix });
    const [mine, theirs, numeric] = [token('carol', 'shared-1'), token('mallory', 'shared-1'), { ...token('x', 'shared-1'), sub: 7 }];
    for (const t of [mine, theirs, numeric]) await untilAnsweredFromMemory(redis, () => store.isTokenRevoked({}, t));
    await other.revokeAllForUser('mallory');
    await eventually(() => store.isTokenRevoked({}, theirs));
    for (let i = 0; i < 3; i++) {
      expect(await store.isTokenRevoked({}, mine)).toBe(false);
      expect(await store.isTokenRevoked({}, numeric)).toBe(false);
      expect(await store.isTokenRevoked({}, theirs)).toBe(true);
    }
    await other.revokeAllForUser(7);
    await eventually(() => store.isTokenRevoked({}, numeric));
    expect(await store.isTokenRevoked({}, mine)).toBe(false);
  });

  it('works with a client that has an ioredis keyPrefix of its own', async () => {
    const prefixed = new Redis(`redis://127.0.0.1:${redis.options.port}`, { keyPrefix: 'app:' });
    try {
      const keyPrefix = freshPrefix();
      const store = cached(keyPrefix, 1000, prefixed);
      const other = new RedisBlocklist(prefixed, { keyPrefix });
      const eve = token('eve', 'e-1');
      await untilAnsweredFromMemory(redis, () => store.isTokenRevoked({}, eve));
      await other.revokeToken(eve);
      await eventually(() => store.isTokenRevoked({}, eve));
      expect(await redis.exists(`app:${keyPrefix}{"eve"}:jti:e-1`)).toBe(1);
    } finally {
      prefixed.disconnect();
    }
  });

  it('does not keep the answer of a read that was in flight while an invalidation arrived', async () => {
    const keyPrefix = freshPrefix();
    // The real client, with the MGET answer held back until the test lets it through (a slow network).
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holdNext = false;
    const slow = new Proxy(redis, {
      get(target, property, receiver) {
        if (property !== 'mget') return Reflect.get(target, property, receiver);
        return async (...keys: string[]) => {
          const holding = holdNext;
          holdNext = false;
          const answer = await target.mget(...keys);
          if (holding) await held;
          return answer;
        };
      },
    });
    const store = cached(keyPrefix, 1000, slow);
    const other = new RedisBlocklist(redis, { keyPrefix });
    await untilAnsweredFromMemory(redis, () => store.isTokenRevoked({}, token('warm', 'w-1')));
    const dan = token('dan', 'd-1');
    holdNext = true;
    const inFlight = store.isTokenRevoked({}, dan); // Redis answers "not revoked"; the answer is held
    await sleep(20);
    await other.revokeToken(dan);
    // The invalidation reaches the store's listener while the read's answer is still held back.
    await untilAnsweredFromMemory(redis, () => store.isTokenRevoked({}, token('warm', 'w-1')));
    release();
    expect(await inFlight).toBe(false); // the read itself predates the revocation
    expect(await store.isTokenRevoked({}, dan)).toBe(true); // but its answer was not kept
  });

  it('keeps at most maxEntries keys, dropping first those not used since they were stored', async () => {
    const store = cached(freshPrefix(), 4);
    const [t1, t2, t3] = [token('u1', 'j1'), token('u2', 'j2'), token('u3', 'j3')];
    await untilAnsweredFromMemory(redis, () => store.isTokenRevoked({}, t1));
    await store.isTokenRevoked({}, t2); // 4 keys: t1's two, t2's two
    await store.isTokenRevoked({}, t1); // t1 is now the most recently used
    await store.isTokenRevoked({}, t3); // t2's keys go
    const before = await mgetCalls(redis);
    await store.isTokenRevoked({}, t1);
    await store.isTokenRevoked({}, t3);
    expect(await mgetCalls(redis)).toBe(before);
    await store.isTokenRevoked({}, t2);
    expect(await mgetCalls(redis)).toBe(before + 1);
  });

  it('once every older entry was used, a new token still gets cached: eviction goes round, not only over the newest', async () => {
    const store = cached(freshPrefix(), 4);
    const [t1, t2, t3] = [token('v1', 'k1'), token('v2', 'k2'), token('v3', 'k3')];
    await untilAnsweredFromMemory(redis, () => store.isTokenRevoked({}, t1));
    await store.isTokenRevoked({}, t2);
    await store.isTokenRevoked({}, t2); // both tokens' keys used since they were stored
    await store.isTokenRevoked({}, t3); // t3's keys go first: the others get their second chance
    await store.isTokenRevoked({}, t3); // now t1's keys go (their second chance is spent)
    const before = await mgetCalls(redis);
    await store.isTokenRevoked({}, t3);
    await store.isTokenRevoked({}, t2);
    expect(await mgetCalls(redis)).toBe(before);
    await store.isTokenRevoked({}, t1);
    expect(await mgetCalls(redis)).toBe(before + 1);
  });

  it('where Redis refuses client tracking, stays off: every check reads Redis', async () => {
    await redis.acl('SETUSER', 'no-tracking', 'on', '>secret', '~*', '&*', '+@all', '-client');
    const limited = new Redis({ port: redis.options.port, username: 'no-tracking', password: 'secret' });
    try {
      const keyPrefix = freshPrefix();
      const store = cached(keyPrefix, 1000, limited);
      const other = new RedisBlocklist(redis, { keyPrefix });
      const fay = token('fay', 'f-1');
      await sleep(200); // what tracking setup there is has run and failed
      for (let n = 0; n < 3; n++) {
        const before = await mgetCalls(redis);
        expect(await store.isTokenRevoked({}, fay)).toBe(false);
        expect(await mgetCalls(redis)).toBe(before + 1);
      }
      await other.revokeToken(fay);
      expect(await store.isTokenRevoked({}, fay)).toBe(true);
    } finally {
      limited.disconnect();
      await redis.acl('DELUSER', 'no-tracking');
    }
  });

  it('is refused at construction without a valid maxEntries, probeInterval or probeTimeout', () => {
    for (const maxEntries of [0, 1.5, -1, Number.NaN, 1e8, '10'] as unknown[]) {
      expect(() => new RedisBlocklist(redis, { localCache: { maxEntries } as { maxEntries: number } })).toThrow(
        /localCache.maxEntries must be an integer from 1 to 10000000/,
      );
    }
    expect(() => new RedisBlocklist(redis, { localCache: {} as { maxEntries: number } })).toThrow(/localCache needs maxEntries/);
    for (const name of ['probeInterval', 'probeTimeout']) {
      for (const value of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, '1000'] as unknown[]) {
        expect(() => new RedisBlocklist(redis, { localCache: { maxEntries: 10, [name]: value } })).toThrow(
          new RegExp(`localCache.${name} must be milliseconds > 0 and <= 2147483647`),
        );
      }
    }
  });

  it('when a probe goes unreported (Redis stalled longer than probeTimeout), drops the mirror, reconnects, and answers from memory again', async () => {
    const listenerIds = async () =>
      String(await redis.client('LIST'))
        .split('\n')
        .filter((line) => line.includes(' name=jwt-blocklist-invalidations '))
        .map((line) => /id=(\d+)/.exec(line)![1]);
    const store = new RedisBlocklist(redis, {
      keyPrefix: freshPrefix(),
      localCache: { maxEntries: 100, probeInterval: 20, probeTimeout: 100 },
    });
    stores.push(store);
    const pat = token('pat', 'p-1');
    await untilAnsweredFromMemory(redis, () => store.isTokenRevoked({}, pat));
    const before = await listenerIds();
    const blocker = redis.duplicate({ enableOfflineQueue: true });
    try {
      // DEBUG SLEEP stalls the server: the probe in flight cannot be reported within 100 ms.
      await blocker.call('DEBUG', 'SLEEP', '0.5');
    } finally {
      blocker.disconnect();
    }
    await eventually(async () => {
      const after = await listenerIds();
      return after.length === 1 && !before.includes(after[0]);
    });
    await untilAnsweredFromMemory(redis, () => store.isTokenRevoked({}, pat));
  });
});

describe.each(ADAPTERS)('RedisBlocklist localCache, two app instances sharing one Redis (%s)', (adapter) => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const options = { keyPrefix: freshPrefix(), localCache: { maxEntries: 1000 } };
    const [StoreA, StoreB] = [declareStore('redis', options, redis), declareStore('redis', options, redis)];
    a = await createTestApp(adapter, { loaders: { blocklist: StoreA }, controllers: [revocationRoutes(StoreA)] });
    b = await createTestApp(adapter, { loaders: { blocklist: StoreB }, controllers: [revocationRoutes(StoreB)] });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('a logout on one instance is refused on the other, whose cache had the token', async () => {
    const user = `${adapter}-erin`;
    const access = await a.jwt.createAccessToken(user);
    const other = await a.jwt.createAccessToken(user);
    const onB = (t: string) => request(b.url).get('/me').set(bearer(t));
    await untilAnsweredFromMemory(redis, () => onB(access).expect(200, { identity: user }));
    await request(a.url).delete('/logout').set(bearer(access)).expect(200);
    await eventually(async () => (await onB(access)).status === 401);
    await onB(access).expect(401, { msg: 'Token has been revoked' });
    await onB(other).expect(200, { identity: user });
    await request(a.url).delete('/logout-everywhere').set(bearer(other)).expect(200);
    await eventually(async () => (await onB(other)).status === 401);
    await onB(other).expect(401, { msg: 'Token has been revoked' });
  });
});
