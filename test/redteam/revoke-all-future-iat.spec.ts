import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import request from 'supertest';
import { SECRET, createTestApp, type TestApp } from '../support/app.js';
import { useRedis } from '../support/redis-server.js';
import { bearer, declareStore, freshPrefix, revocationRoutes, ADAPTER_STORE_PAIRS } from '../blocklist/stores.js';
import { forgeHmac, now } from '../support/forge.js';

/*
 * Finding (low–medium): revokeAllForUser ("log out everywhere") misses a session whose token was
 * issued by an instance with its clock ahead. The decoder accepts `iat` up to decodeLeeway seconds in
 * the future; the user-wide cut-off is the next whole second of this instance's clock, and
 * issuedBefore(iat, cutoff) is false for that token, so the session survives the revocation on
 * both ready stores. §17 (the user-wide cut-off ends the identity's tokens), §7 "A revoked token
 * stays refused for as long as the decoder would accept it" — plain security sense: a token that
 * existed before "log out everywhere" must not work after it.
 * Likely place: lib/blocklist/store-settings.ts userCutoff()/issuedBefore(): count a token as cut
 * off when iat < cutoff + leeway, or record with the cut-off the jtis seen (or wait out the leeway).
 */

let redis: Redis;
useRedis((started) => ({ redis } = started));

describe.each(ADAPTER_STORE_PAIRS)('revokeAllForUser and a token issued slightly in the future (%s, %s store)', (adapter, kind) => {
  let t: TestApp;
  beforeAll(async () => {
    const Store = declareStore(kind, { keyPrefix: freshPrefix() }, redis);
    t = await createTestApp(adapter, {
      options: { decodeLeeway: 60 },
      loaders: { blocklist: Store },
      controllers: [revocationRoutes(Store)],
    });
  });
  afterAll(() => t.close());

  it('the session issued 30 s ahead is refused after log-out-everywhere', async () => {
    const identity = `dave-${kind}`;
    const issued = now();
    // Issued (before the revocation) by an instance whose clock is 30 s ahead: inside decodeLeeway.
    const ahead = forgeHmac(
      { alg: 'HS256', typ: 'JWT' },
      { sub: identity, iat: issued + 30, exp: issued + 3600, jti: `ahead-${kind}`, type: 'access', fresh: false },
      SECRET,
    );
    await request(t.url).get('/me').set(bearer(ahead)).expect(200, { identity });
    const session = await t.jwt.createAccessToken(identity);
    await request(t.url).delete('/logout-everywhere').set(bearer(session)).expect(200);
    await request(t.url).get('/me').set(bearer(session)).expect(401, { msg: 'Token has been revoked' });
    const res = await request(t.url).get('/me').set(bearer(ahead));
    expect({ status: res.status, body: res.body }).toEqual({ status: 401, body: { msg: 'Token has been revoked' } });
  });
});
