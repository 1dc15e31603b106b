import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import request from 'supertest';
import type { InMemoryBlocklist } from '../../lib/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { useRedis } from '../support/redis-server.js';
import { STORE_KINDS, bearer, declareStore, newStore, nowSeconds, payload, revocationRoutes, ADAPTER_STORE_PAIRS } from './stores.js';

let redis: Redis;
useRedis((started) => ({ redis } = started));

const person = { org: 'acme', user: { id: 7, roles: ['admin', 'ops'], name: { first: 'Ada', last: 'L' } } };
const samePersonOtherOrder = { user: { name: { last: 'L', first: 'Ada' }, roles: ['admin', 'ops'], id: 7 }, org: 'acme' };

describe.each(STORE_KINDS)('Identities are compared by value (%s store)', (kind) => {
  const store = () => newStore(kind, {}, redis);
  const revoked = async (s: ReturnType<typeof store>, sub: unknown, iat = nowSeconds() - 10) =>
    s.isTokenRevoked({}, payload({ sub, iat, jti: 'never-revoked' }));
  const done = (s: ReturnType<typeof store>) => (s as Partial<InMemoryBlocklist>).onModuleDestroy?.();

  it('an object identity is one identity whatever the order of its keys, at every depth', async () => {
    const s = store();
    await s.revokeAllForUser(samePersonOtherOrder);
    expect(await revoked(s, person)).toBe(true);
    expect(await revoked(s, samePersonOtherOrder)).toBe(true);
    done(s);
  });

  it('other object identities stay apart: array order, value types and extra keys count', async () => {
    const s = store();
    await s.revokeAllForUser(person);
    expect(await revoked(s, { ...person, user: { ...person.user, roles: ['ops', 'admin'] } })).toBe(false);
    expect(await revoked(s, { ...person, user: { ...person.user, id: '7' } })).toBe(false);
    expect(await revoked(s, { ...person, extra: null })).toBe(false);
    expect(await revoked(s, JSON.stringify(person))).toBe(false);
    done(s);
  });

  it.each([
    [42, '42'],
    ['42', 42],
    [true, 'true'],
    [null, 'null'],
    [[1, 2], '[1,2]'],
  ])('%p and %p are different identities', async (cutOff, other) => {
    const s = store();
    await s.revokeAllForUser(cutOff);
    expect(await revoked(s, cutOff)).toBe(true);
    expect(await revoked(s, other)).toBe(false);
    done(s);
  });

  it('revoking one token keys it by the same canonical identity', async () => {
    const s = store();
    const exp = nowSeconds() + 600;
    await s.revokeToken({ jti: 'j-object', sub: samePersonOtherOrder, exp });
    await s.revokeToken({ jti: 'j-42', sub: 42, exp });
    expect(await s.isTokenRevoked({}, payload({ jti: 'j-object', sub: person, exp }))).toBe(true);
    expect(await s.isTokenRevoked({}, payload({ jti: 'j-42', sub: 42, exp }))).toBe(true);
    done(s);
  });

  it.each([undefined, Number.NaN, Number.POSITIVE_INFINITY, new Date(), () => 1, Symbol('x'), 10n, { a: undefined }, [undefined]])(
    'refuses %p as an identity instead of revoking nothing',
    async (identity) => {
      const s = store();
      await expect(s.revokeAllForUser(identity)).rejects.toThrow(TypeError);
      await expect(s.revokeToken({ jti: 'j', sub: identity, exp: nowSeconds() + 60 })).rejects.toThrow(TypeError);
      done(s);
    },
  );

  it('refuses a token payload without the identity claim', async () => {
    const s = store();
    await expect(s.revokeToken({ jti: 'j', exp: nowSeconds() + 60 })).rejects.toThrow(/identity claim "sub"/);
    await expect(s.revokeToken({ sub: 'bob', exp: nowSeconds() + 60 })).rejects.toThrow(/jti/);
    done(s);
  });
});

describe.each(ADAPTER_STORE_PAIRS)('Identities through a real app (%s, %s store)', (adapter, kind) => {
  let t: TestApp;
  let store: { revokeAllForUser(identity: unknown): Promise<void> };
  beforeAll(async () => {
    const Store = declareStore(kind, {}, redis);
    t = await createTestApp(adapter, {
      options: { verifySub: false },
      loaders: { blocklist: Store },
      controllers: [revocationRoutes(Store)],
    });
    store = t.app.get(Store);
  });
  afterAll(() => t.close());

  it('revoking an object identity in another key order refuses its tokens', async () => {
    const token = await t.jwt.createAccessToken(person);
    await request(t.url).get('/me').set(bearer(token)).expect(200, { identity: person });
    await store.revokeAllForUser(samePersonOtherOrder);
    await request(t.url).get('/me').set(bearer(token)).expect(401, { msg: 'Token has been revoked' });
  });

  it('revoking 42 leaves "42" alone, and the other way round', async () => {
    const number = await t.jwt.createAccessToken(42);
    const text = await t.jwt.createAccessToken('42');
    await store.revokeAllForUser(42);
    await request(t.url).get('/me').set(bearer(number)).expect(401, { msg: 'Token has been revoked' });
    await request(t.url).get('/me').set(bearer(text)).expect(200, { identity: '42' });

    const number2 = await t.jwt.createAccessToken(43);
    const text2 = await t.jwt.createAccessToken('43');
    await request(t.url).delete('/logout-everywhere').set(bearer(text2)).expect(200);
    await request(t.url).get('/me').set(bearer(text2)).expect(401, { msg: 'Token has been revoked' });
    await request(t.url).get('/me').set(bearer(number2)).expect(200, { identity: 43 });
  });
});
