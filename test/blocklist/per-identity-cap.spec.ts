import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import request from 'supertest';
import { InMemoryBlocklist, JwtUnavailableException, type JwtPayload } from '../../lib/index.js';
import { ADAPTERS, RecordingLogger, createTestApp, type TestApp } from '../support/app.js';
import { DAY, bearer, declareStore, handlerRuns, nowSeconds, payload, revocationRoutes, setWallClock } from './stores.js';

afterEach(() => {
  jest.useRealTimers();
});

let jtis = 0;
/** A token of `sub` as the decoder hands it over, issued a few seconds ago. */
const token = (sub: unknown, claims: Partial<JwtPayload> = {}): JwtPayload =>
  payload({ jti: `jti-${++jtis}`, sub, iat: nowSeconds() - 5, exp: nowSeconds() + 600, ...claims });

describe('InMemoryBlocklist caps the entries of one identity', () => {
  it('past maxEntriesPerIdentity, its entries collapse into one cut-off that refuses all of them', async () => {
    const store = new InMemoryBlocklist({ maxEntriesPerIdentity: 3 });
    const alice = [token('alice'), token('alice'), token('alice'), token('alice')];
    const aliceOtherSession = token('alice');
    const bob = [token('bob'), token('bob')];
    await store.revokeToken(bob[0]);
    for (const t of alice.slice(0, 3)) await store.revokeToken(t);
    expect(store.size).toBe(4);
    await store.revokeToken(alice[3]);
    expect(store.size).toBe(1); // only bob's entry is left
    for (const t of alice) expect(store.isTokenRevoked({}, t)).toBe(true);
    // the cut-off also ends alice's other sessions issued before it...
    expect(store.isTokenRevoked({}, aliceOtherSession)).toBe(true);
    // ...but not those issued after revokeToken resolved
    expect(store.isTokenRevoked({}, token('alice', { iat: nowSeconds() }))).toBe(false);
    // other identities are untouched
    expect(store.isTokenRevoked({}, bob[0])).toBe(true);
    expect(store.isTokenRevoked({}, bob[1])).toBe(false);
    store.onModuleDestroy();
  });

  it('the default cap is 1000', async () => {
    const store = new InMemoryBlocklist();
    for (let i = 0; i < 1000; i++) await store.revokeToken(token('mallory'));
    expect(store.size).toBe(1000);
    await store.revokeToken(token('mallory'));
    expect(store.size).toBe(0);
    store.onModuleDestroy();
  });

  it('42 and "42" are counted as two identities', async () => {
    const store = new InMemoryBlocklist({ maxEntriesPerIdentity: 2 });
    const text = token('42');
    await store.revokeToken(token(42));
    await store.revokeToken(token(42));
    await store.revokeToken(text);
    expect(store.size).toBe(3);
    await store.revokeToken(token(42));
    expect(store.size).toBe(1);
    expect(store.isTokenRevoked({}, text)).toBe(true);
    expect(store.isTokenRevoked({}, token('42'))).toBe(false);
    store.onModuleDestroy();
  });

  it('a collapsed cut-off lasts as long as the longest token it replaced', async () => {
    const start = nowSeconds();
    setWallClock(start);
    const store = new InMemoryBlocklist({ maxEntriesPerIdentity: 2, userRevocationTtl: 60 });
    const long = token('alice', { exp: start + 3600 });
    await store.revokeToken(long);
    await store.revokeToken(token('alice'));
    await store.revokeToken(token('alice'));
    expect(store.size).toBe(0);
    setWallClock(start + 3500);
    store.sweep();
    expect(store.isTokenRevoked({}, long)).toBe(true);
    store.onModuleDestroy();
  });

  it('one account looping logouts cannot fill the store: other users can still revoke', async () => {
    const store = new InMemoryBlocklist({ maxEntries: 10, maxEntriesPerIdentity: 3 });
    for (let i = 0; i < 100; i++) await store.revokeToken(token('mallory'));
    expect(store.size).toBeLessThanOrEqual(3);
    const victims = Array.from({ length: 7 }, (_, i) => token(`victim-${i}`));
    for (const t of victims) await store.revokeToken(t);
    for (const t of victims) expect(store.isTokenRevoked({}, t)).toBe(true);
    store.onModuleDestroy();
  });
});

describe('InMemoryBlocklist when full', () => {
  it('collapses the identity with the most entries to make room', async () => {
    const store = new InMemoryBlocklist({ maxEntries: 6 });
    const alice = [token('alice'), token('alice'), token('alice'), token('alice')];
    const [bob, carol, dave] = [token('bob'), token('carol'), token('dave')];
    for (const t of [...alice, bob, carol]) await store.revokeToken(t);
    await store.revokeToken(dave);
    expect(store.size).toBe(3);
    for (const t of [...alice, bob, carol, dave]) expect(store.isTokenRevoked({}, t)).toBe(true);
    expect(store.isTokenRevoked({}, token('bob'))).toBe(false); // bob, carol: not collapsed
    store.onModuleDestroy();
  });

  it('collapses the revoking identity when it already holds an entry', async () => {
    const store = new InMemoryBlocklist({ maxEntries: 3 });
    const [a1, a2, b, c] = [token('a'), token('a'), token('b'), token('c')];
    for (const t of [a1, b, c]) await store.revokeToken(t);
    await store.revokeToken(a2);
    expect(store.size).toBe(2);
    for (const t of [a1, a2, b, c]) expect(store.isTokenRevoked({}, t)).toBe(true);
    expect(store.isTokenRevoked({}, token('b'))).toBe(false);
    store.onModuleDestroy();
  });

  it('fails closed (503) only when every entry belongs to a different identity, forgetting nothing', async () => {
    const start = nowSeconds();
    setWallClock(start);
    const store = new InMemoryBlocklist({ maxEntries: 3 });
    const held = [token('a', { exp: start + 30 }), token('b'), token('c')];
    for (const t of held) await store.revokeToken(t);
    const d = token('d');
    const error = await store.revokeToken(d).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JwtUnavailableException);
    expect((error as JwtUnavailableException).getStatus()).toBe(503);
    for (const t of held) expect(store.isTokenRevoked({}, t)).toBe(true);
    expect(store.isTokenRevoked({}, d)).toBe(false);
    // once an entry's token has expired there is room again
    setWallClock(start + 120);
    await store.revokeToken(d);
    expect(store.isTokenRevoked({}, d)).toBe(true);
    store.onModuleDestroy();
  });
});

describe.each(ADAPTERS)('A collapse inside the module is kept like revokeAllForUser: forever by default (%s)', (adapter) => {
  it('sessions of the identity created with a longer expiresDelta, or none, stay refused past the module lifetimes', async () => {
    const start = nowSeconds();
    setWallClock(start);
    const Store = declareStore('memory', { maxEntriesPerIdentity: 2 });
    const t = await createTestApp(adapter, {
      options: { accessTokenExpires: 60, refreshTokenExpires: 60 },
      loaders: { blocklist: Store },
      controllers: [revocationRoutes(Store)],
    });
    try {
      const day = await t.jwt.createAccessToken('alice', { expiresDelta: '1d' });
      const noExp = await t.jwt.createAccessToken('alice', { expiresDelta: false });
      const sessions = await Promise.all([1, 2, 3].map(() => t.jwt.createAccessToken('alice')));
      for (const session of sessions) await request(t.url).delete('/logout').set(bearer(session)).expect(200);
      const store = t.app.get(Store) as InMemoryBlocklist;
      expect(store.size).toBe(0); // collapsed into a user-wide cut-off
      for (const [at, tokens] of [
        [DAY - 600, [day, noExp]],
        [3650 * DAY, [noExp]],
      ] as const) {
        setWallClock(start + at);
        store.sweep();
        for (const tok of tokens) await request(t.url).get('/me').set(bearer(tok)).expect(401, { msg: 'Token has been revoked' });
      }
    } finally {
      jest.useRealTimers();
      await t.close();
    }
  });
});

describe.each(ADAPTERS)('The per-identity cap and a full store through a real app (%s)', (adapter) => {
  let t: TestApp;
  const logger = new RecordingLogger();
  beforeAll(async () => {
    const Store = declareStore('memory', { maxEntries: 4, maxEntriesPerIdentity: 2 });
    t = await createTestApp(adapter, {
      options: { errorMessageKey: 'error' },
      loaders: { blocklist: Store },
      controllers: [revocationRoutes(Store)],
      logger,
    });
  });
  afterAll(() => t.close());

  it('an identity past its cap is collapsed: its revoked and older tokens are refused, others and newer ones are not', async () => {
    const sessions = await Promise.all([1, 2, 3, 4].map(() => t.jwt.createAccessToken('alice')));
    const bob = await t.jwt.createAccessToken('bob');
    for (const session of sessions.slice(0, 3)) await request(t.url).delete('/logout').set(bearer(session)).expect(200);
    for (const session of sessions) await request(t.url).get('/me').set(bearer(session)).expect(401, { error: 'Token has been revoked' });
    await request(t.url).get('/me').set(bearer(bob)).expect(200, { identity: 'bob' });
    await request(t.url)
      .get('/me')
      .set(bearer(await t.jwt.createAccessToken('alice')))
      .expect(200, { identity: 'alice' });
  });

  it('a store full of distinct identities answers 503 with the configured errorMessageKey, and logs no token data', async () => {
    const users = ['u1', 'u2', 'u3', 'u4', 'u5'].map((u) => `${adapter}-${u}`);
    const tokens = await Promise.all(users.map((u) => t.jwt.createAccessToken(u)));
    const replies = [];
    for (const tok of tokens) replies.push(await request(t.url).delete('/logout').set(bearer(tok)));
    const refused = replies.filter((r) => r.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    for (const reply of refused) expect(reply.body).toEqual({ error: 'Token revocation store unavailable' });
    const before = handlerRuns.count;
    // what was revoked stays refused; what could not be revoked is still usable (and the client was told)
    for (const [i, tok] of tokens.entries()) {
      await request(t.url)
        .get('/me')
        .set(bearer(tok))
        .expect(replies[i].status === 200 ? 401 : 200);
    }
    expect(handlerRuns.count - before).toBe(refused.length);
    const logged = logger.lines.join('\n');
    expect(logged).toMatch(/Full/);
    for (const [i, tok] of tokens.entries()) {
      expect(logged).not.toContain(tok);
      expect(logged).not.toContain(users[i]);
    }
  });
});
