import { describe, expect, it } from '@jest/globals';
import { VerifiedTokenCache } from '../../lib/tokens/verified-token-cache.js';

/*
 * The cache's admission, on the class itself: without a claims schema nothing outside tells a hit
 * from a miss (the answers are the same by design), so this is where it is observable.
 */
const NOW = 1_000_000;
const verified = (sub: string) => ({
  header: { alg: 'HS256' as const },
  payload: { sub, exp: NOW + 3600, type: 'access' as const, fresh: false, jti: sub },
});
/** Distinct token-like strings: their last characters (the slot) differ. */
const token = (i: number) => `head.payload-${i}.sig-${i.toString(36).padStart(7, '0')}`;
const cached = (cache: VerifiedTokenCache, t: string) => cache.get(t, NOW) !== undefined;

describe('VerifiedTokenCache admission', () => {
  it('lets every token in while it has room', () => {
    const cache = new VerifiedTokenCache(4, 0);
    for (let i = 0; i < 4; i++) cache.set(token(i), verified(`u${i}`));
    for (let i = 0; i < 4; i++) expect(cached(cache, token(i))).toBe(true);
  });

  it('once full, a token seen once pushes nothing out; seen again, it takes the oldest place', () => {
    const cache = new VerifiedTokenCache(4, 0);
    for (let i = 0; i < 4; i++) cache.set(token(i), verified(`u${i}`));
    for (let i = 4; i < 7; i++) cache.set(token(i), verified(`u${i}`)); // a stream of one-time tokens
    for (let i = 0; i < 4; i++) expect(cached(cache, token(i))).toBe(true);
    for (let i = 4; i < 7; i++) expect(cached(cache, token(i))).toBe(false);
    cache.set(token(5), verified('u5')); // second sight
    expect(cached(cache, token(5))).toBe(true);
    expect(cached(cache, token(0))).toBe(false);
    expect([1, 2, 3].map((i) => cached(cache, token(i)))).toEqual([true, true, true]);
  });

  it('"seen again" means within about as many new tokens as the cache holds', () => {
    const cache = new VerifiedTokenCache(4, 0);
    for (let i = 0; i < 4; i++) cache.set(token(i), verified(`u${i}`));
    cache.set(token(100), verified('late'));
    for (let i = 200; i < 209; i++) cache.set(token(i), verified(`u${i}`)); // the window passes (twice)
    cache.set(token(100), verified('late'));
    expect(cached(cache, token(100))).toBe(false);
    cache.set(token(100), verified('late'));
    expect(cached(cache, token(100))).toBe(true);
  });

  it('with a claims schema (admitAtOnce) every token gets in at once, the oldest leaving', () => {
    const cache = new VerifiedTokenCache(4, 0, true);
    for (let i = 0; i < 6; i++) cache.set(token(i), verified(`u${i}`));
    expect(Array.from({ length: 6 }, (_, i) => cached(cache, token(i)))).toEqual([false, false, true, true, true, true]);
  });

  it('a token on the slot of another takes it over: one entry, each token answered only for itself', () => {
    const cache = new VerifiedTokenCache(2, 0);
    const [a, b] = ['aaaa.one.XYZ1234', 'bbbb.two.XYZ1234'];
    cache.set(token(0), verified('u0'));
    cache.set(a, verified('a'));
    expect(cache.get(b, NOW)).toBeUndefined();
    cache.set(b, verified('b'));
    expect(cache.get(b, NOW)?.payload.sub).toBe('b');
    expect(cache.get(a, NOW)).toBeUndefined();
    expect(cached(cache, token(0))).toBe(true); // the map did not grow: nothing was evicted
  });
});
