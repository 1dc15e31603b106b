import { Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { CsrfException, type DecodeKeyLoader, ExpiredTokenException, JwtDecodeException } from '../../lib/index.js';
import { SECRET } from '../support/app.js';
import { createService } from '../support/service.js';

describe('verified-token cache', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('never returns a token at or after its exp, even when it was cached', async () => {
    jest.useFakeTimers({ now: new Date('2026-06-01T00:00:00Z'), doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const jwt = await createService({ secretKey: SECRET });
    const token = await jwt.createAccessToken('x', { expiresDelta: 10 });
    await expect(jwt.decodeToken(token)).resolves.toMatchObject({ sub: 'x' });
    await expect(jwt.decodeToken(token)).resolves.toMatchObject({ sub: 'x' }); // served from the cache
    jest.setSystemTime(Date.now() + 10_000);
    await expect(jwt.decodeToken(token)).rejects.toBeInstanceOf(ExpiredTokenException);
  });

  it('honours the leeway the same way as the slow path', async () => {
    jest.useFakeTimers({ now: new Date('2026-06-01T00:00:00Z'), doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const jwt = await createService({ secretKey: SECRET, decodeLeeway: 5 });
    const token = await jwt.createAccessToken('x', { expiresDelta: 10 });
    await jwt.decodeToken(token);
    jest.setSystemTime(Date.now() + 14_000);
    await expect(jwt.decodeToken(token)).resolves.toMatchObject({ sub: 'x' });
    jest.setSystemTime(Date.now() + 1_000);
    await expect(jwt.decodeToken(token)).rejects.toBeInstanceOf(ExpiredTokenException);
  });

  it('checks CSRF on every call, hit or miss', async () => {
    const jwt = await createService({ secretKey: SECRET });
    const token = await jwt.createAccessToken('x');
    const csrf = jwt.getCsrfToken(token);
    await expect(jwt.decodeToken(token, { csrfValue: csrf })).resolves.toBeTruthy();
    await expect(jwt.decodeToken(token, { csrfValue: 'wrong' })).rejects.toBeInstanceOf(CsrfException);
    await expect(jwt.decodeToken(token, { csrfValue: csrf })).resolves.toBeTruthy();
  });

  it('hands out copies: changing one result never changes the next; nested claims are read-only', async () => {
    const jwt = await createService({ secretKey: SECRET });
    const token = await jwt.createAccessToken('x', { additionalClaims: { roles: ['user'] } });
    const first = await jwt.decodeToken(token);
    first.sub = 'admin';
    expect(() => (first.roles as string[]).push('admin')).toThrow(TypeError);
    const second = await jwt.decodeToken(token);
    expect(second).toMatchObject({ sub: 'x', roles: ['user'] });
  });

  it('allowExpired bypasses it, and so does a decodeKey loader (asked for every token)', async () => {
    let calls = 0;
    @Injectable()
    class Keys implements DecodeKeyLoader {
      decodeKey() {
        calls++;
        return SECRET;
      }
    }
    const jwt = await createService({ secretKey: SECRET }, { decodeKey: Keys });
    const token = await jwt.createAccessToken('x');
    await jwt.decodeToken(token);
    await jwt.decodeToken(token);
    expect(calls).toBe(2);
  });

  it('tokenCacheSize: 0 disables it; a negative or fractional size is refused', async () => {
    const jwt = await createService({ secretKey: SECRET, tokenCacheSize: 0 });
    const token = await jwt.createAccessToken('x');
    await expect(jwt.decodeToken(token)).resolves.toMatchObject({ sub: 'x' });
    await expect(createService({ secretKey: SECRET, tokenCacheSize: -1 })).rejects.toThrow(/"tokenCacheSize"/);
    await expect(createService({ secretKey: SECRET, tokenCacheSize: 1.5 })).rejects.toThrow(/"tokenCacheSize"/);
  });

  it('evicts strictly oldest first, round after round (a counting schema tells hits from misses)', async () => {
    const verified: unknown[] = [];
    const claimsSchema = {
      '~standard': {
        version: 1 as const,
        vendor: 'counting',
        validate: (value: unknown) => {
          verified.push(value);
          return { value: value as object };
        },
      },
    };
    const jwt = await createService({ secretKey: SECRET, tokenCacheSize: 3, claimsSchema });
    const ids = Array.from({ length: 12 }, (_, i) => `u${i}`);
    const tokens = new Map(await Promise.all(ids.map(async (id) => [id, await jwt.createAccessToken(id)] as const)));
    const decode = async (id: string) => {
      verified.length = 0;
      await jwt.decodeToken(tokens.get(id)!);
      return verified.length === 0 ? 'hit' : 'miss';
    };
    // four times round a cache of three: every token misses
    for (const id of ids) expect(await decode(id)).toBe('miss');
    // holds u9 u10 u11; a hit does not move an entry
    expect(await decode('u9')).toBe('hit');
    expect(await decode('u0')).toBe('miss'); // u9 leaves: u10 u11 u0
    expect(await decode('u9')).toBe('miss'); // u10 leaves: u11 u0 u9
    expect(await decode('u11')).toBe('hit');
    expect(await decode('u0')).toBe('hit');
    expect(await decode('u10')).toBe('miss'); // u11 leaves: u0 u9 u10
    expect(await decode('u11')).toBe('miss'); // u0 leaves: u9 u10 u11
    expect(await decode('u9')).toBe('hit');
    expect(await decode('u0')).toBe('miss');
  });

  it('tokens sharing a header segment each get a header of their own, cache on or off', async () => {
    for (const tokenCacheSize of [0, 10]) {
      const jwt = await createService({ secretKey: SECRET, tokenCacheSize });
      const [first, second] = [await jwt.createAccessToken('a'), await jwt.createAccessToken('b')];
      expect(first.split('.')[0]).toBe(second.split('.')[0]);
      for (const token of [first, first, second, second]) {
        const header = jwt.getUnverifiedJwtHeaders(token);
        expect(header).toEqual({ alg: 'HS256', typ: 'JWT' });
        header.alg = 'none';
        (header as Record<string, unknown>).extra = 1;
      }
      await expect(jwt.decodeToken(second)).resolves.toMatchObject({ sub: 'b' });
    }
  });

  it('answers for the very token it holds only: tokens ending like a cached one are verified themselves', async () => {
    const jwt = await createService({ secretKey: SECRET });
    const token = await jwt.createAccessToken('alice');
    for (let i = 0; i < 3; i++) await expect(jwt.decodeToken(token)).resolves.toMatchObject({ sub: 'alice' });
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const segment = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const forged = [
      `${header}.${segment({ ...claims, sub: 'admin' })}.${signature}`,
      `${segment({ alg: 'HS256' })}.${payload}.${signature}`,
      `${header}.${payload}.${'A'.repeat(signature.length - 7)}${signature.slice(-7)}`,
      `${header}.${payload}x.${signature}`,
    ];
    for (const candidate of forged) {
      expect(candidate.slice(-7)).toBe(token.slice(-7));
      await expect(jwt.decodeToken(candidate)).rejects.toBeInstanceOf(JwtDecodeException);
      await expect(jwt.verifyJwtInRequest({ method: 'GET', headers: { authorization: `Bearer ${candidate}` } })).rejects.toBeInstanceOf(
        JwtDecodeException,
      );
    }
    await expect(jwt.decodeToken(token)).resolves.toMatchObject({ sub: 'alice' });
  });

  it('stays bounded: the oldest entry leaves first, and evicted tokens still verify', async () => {
    const jwt = await createService({ secretKey: SECRET, tokenCacheSize: 2 });
    const tokens = await Promise.all(['a', 'b', 'c'].map((id) => jwt.createAccessToken(id)));
    for (const token of tokens) await jwt.decodeToken(token);
    for (const [i, token] of tokens.entries()) await expect(jwt.decodeToken(token)).resolves.toMatchObject({ sub: ['a', 'b', 'c'][i] });
  });
});
