import { Controller, Delete, Get } from '@nestjs/common';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import request from 'supertest';
import { InMemoryBlocklist, Jwt, JwtRequired, type JwtPayload } from '../../lib/index.js';
import { ADAPTERS, useTestApp } from '../support/app.js';
import { bearer } from '../support/http.js';

const payload = (claims: Partial<JwtPayload>): JwtPayload => ({ type: 'access', fresh: false, jti: null, ...claims }) as JwtPayload;
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('InMemoryBlocklist', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('revokes by jti until the token expires, then forgets it', async () => {
    jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z'), doNotFake: ['nextTick', 'setImmediate'] });
    const store = new InMemoryBlocklist();
    const exp = nowSeconds() + 90;
    await store.revokeToken({ jti: 'a', sub: 'alice', exp });
    expect(store.isTokenRevoked({}, payload({ jti: 'a', exp }))).toBe(true);
    expect(store.isTokenRevoked({}, payload({ jti: 'b', exp }))).toBe(false);
    expect(store.size).toBe(1);
    jest.setSystemTime(Date.now() + 91_000);
    expect(store.isTokenRevoked({}, payload({ jti: 'a', exp }))).toBe(false);
    // the periodic sweep drops the expired entry
    jest.advanceTimersByTime(120_000);
    expect(store.size).toBe(0);
    store.onModuleDestroy();
  });

  it('ignores tokens that have already expired and requires a jti', async () => {
    const store = new InMemoryBlocklist();
    await store.revokeToken({ jti: 'old', sub: 'alice', exp: nowSeconds() - 1 });
    expect(store.size).toBe(0);
    await expect(store.revokeToken({ sub: 'alice', exp: nowSeconds() + 10 })).rejects.toThrow(/jti/);
    store.onModuleDestroy();
  });

  it('bounds memory: when full of live entries of distinct identities, revoking fails loudly instead of forgetting one', async () => {
    jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z'), doNotFake: ['nextTick', 'setImmediate'] });
    const store = new InMemoryBlocklist({ maxEntries: 3 });
    await store.revokeToken({ jti: 'short', sub: 'a', exp: nowSeconds() + 30 });
    await store.revokeToken({ jti: 'b', sub: 'b', exp: nowSeconds() + 3600 });
    await store.revokeToken({ jti: 'c', sub: 'c', exp: nowSeconds() + 3600 });
    await expect(store.revokeToken({ jti: 'd', sub: 'd', exp: nowSeconds() + 3600 })).rejects.toMatchObject({ status: 503 });
    expect(store.isTokenRevoked({}, payload({ jti: 'b' }))).toBe(true);
    // once an entry expires (and its bucket is past), there is room again
    jest.setSystemTime(Date.now() + 120_000);
    await store.revokeToken({ jti: 'd', sub: 'd', exp: nowSeconds() + 3600 });
    expect(store.size).toBe(3);
    expect(store.isTokenRevoked({}, payload({ jti: 'd' }))).toBe(true);
    store.onModuleDestroy();
  });

  it('revokeAllForUser revokes tokens issued before it resolves, never those issued after', async () => {
    const store = new InMemoryBlocklist({ identityClaim: 'uid' });
    const sameSecondBefore = nowSeconds();
    await store.revokeAllForUser('bob');
    const after = nowSeconds();
    expect(after).toBeGreaterThan(sameSecondBefore);
    expect(store.isTokenRevoked({}, payload({ uid: 'bob', iat: sameSecondBefore - 60 }))).toBe(true);
    expect(store.isTokenRevoked({}, payload({ uid: 'bob', iat: sameSecondBefore }))).toBe(true);
    expect(store.isTokenRevoked({}, payload({ uid: 'bob' }))).toBe(true);
    expect(store.isTokenRevoked({}, payload({ uid: 'bob', iat: after }))).toBe(false);
    expect(store.isTokenRevoked({}, payload({ uid: 'carol', iat: sameSecondBefore }))).toBe(false);
    store.onModuleDestroy();
  });

  it('its sweep timer never keeps the process alive', () => {
    const spy = jest.spyOn(globalThis, 'setInterval');
    const store = new InMemoryBlocklist();
    const timer = spy.mock.results.at(-1)?.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    spy.mockRestore();
    store.onModuleDestroy();
  });

  it('refuses nonsensical options', () => {
    expect(() => new InMemoryBlocklist({ maxEntries: 0 })).toThrow(TypeError);
  });
});

@Controller()
class Routes {
  constructor(private readonly blocklist: InMemoryBlocklist) {}
  @Get('me')
  @JwtRequired()
  me(@Jwt() jwt: JwtPayload) {
    return { sub: jwt.sub };
  }
  @Delete('logout')
  @JwtRequired()
  async logout(@Jwt() jwt: JwtPayload) {
    await this.blocklist.revokeToken(jwt);
    return { ok: true };
  }
}

describe.each(ADAPTERS)('InMemoryBlocklist as the blocklist loader (%s)', (adapter) => {
  const t = useTestApp(adapter, { controllers: [Routes], loaders: { blocklist: InMemoryBlocklist } });

  it('is injectable by the app and revokes the presented token', async () => {
    const token = await t.jwt.createAccessToken('alice');
    const auth = bearer(token);
    await request(t.url).get('/me').set(auth).expect(200, { sub: 'alice' });
    await request(t.url).delete('/logout').set(auth).expect(200);
    await request(t.url).get('/me').set(auth).expect(401, { msg: 'Token has been revoked' });
  });
});
