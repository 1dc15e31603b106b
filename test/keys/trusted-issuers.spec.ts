import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import type { TrustedIssuer } from '../../lib/index.js';
import { ADAPTERS, SECRET, type TestApp, createTestApp } from '../support/app.js';
import { ALL_BUT_DATE } from '../support/clock.js';
import { forgeHmac, now } from '../support/forge.js';
import { bearer, expectResponse } from '../support/http.js';
import { SUBJECT_CHECKS } from '../support/loaders.js';
import { TargetController, protectedAnswer } from '../support/routes.js';
import { IdpKey, JwksServer } from './jwks-server.js';

/** Issuers of this file: each has a key-set server of its own, so its fetches are counted apart. */
const IDP = 'https://idp.example.com/';
const OTHER = 'https://other-idp.example.com'; // default cooldown (30 s), crossed by moving the clock
const DOWN = 'https://down.example.com'; // its server is down from the start
const AGING = 'https://aging.example.com'; // its set is aged past cacheMaxAge by moving the clock
const EAGER = 'https://eager.example.com'; // cooldown 0: every unknown kid refetches
const API = 'my-api';
/** Every fakeable API but Date: servers, sockets and timeouts keep running in real time. */
const expectRefused = (t: TestApp, token: string, status: number, msg: string, path = '/protected') =>
  expectResponse(request(t.url).get(path).set(bearer(token)), status, { msg }, [], { hides: token.slice(0, 40) });
const expectAccepted = (t: TestApp, token: string, id: unknown) =>
  expectResponse(request(t.url).get('/protected').set(bearer(token)), 200, protectedAnswer(id), 'protected');

describe.each(ADAPTERS)('trusted issuers (%s)', (adapter) => {
  const idp = new JwksServer();
  const other = new JwksServer();
  const eager = new JwksServer();
  const down = new JwksServer();
  const aging = new JwksServer();
  const attacker = new JwksServer();
  const idpKey = new IdpKey('idp-1', 'RS256');
  const otherKey = new IdpKey('other-1', 'ES256');
  const eagerKey = new IdpKey('eager-1', 'EdDSA');
  let t: TestApp;

  beforeAll(async () => {
    await Promise.all([idp, other, eager, down, aging, attacker].map((server) => server.start()));
    down.down = true;
    idp.setKeys(idpKey.jwk());
    other.setKeys(otherKey.jwk());
    eager.setKeys(eagerKey.jwk());
    attacker.setKeys(new IdpKey('idp-1').jwk());
    const issuers: TrustedIssuer[] = [
      { issuer: IDP, jwksUri: idp.url(), algorithms: ['RS256'], audience: API },
      { issuer: OTHER, jwksUri: other.url(), algorithms: ['ES256'], audience: [API, 'second-api'] },
      { issuer: DOWN, jwksUri: down.url(), algorithms: ['RS256'], audience: API },
      { issuer: AGING, jwksUri: aging.url(), algorithms: ['RS256'], audience: API },
      { issuer: EAGER, jwksUri: eager.url(), algorithms: ['EdDSA', 'ES256', 'RS256'], audience: API, cooldown: 0, timeout: 300 },
    ];
    t = await createTestApp(adapter, {
      controllers: [TargetController],
      options: { trustedIssuers: issuers },
      loaders: SUBJECT_CHECKS,
    });
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all([idp, other, eager, down, aging, attacker].map((server) => server.stop()));
  });

  it('fetches the key set lazily, once, and verifies tokens of the issuer with it', async () => {
    expect(idp.count).toBe(0);
    await expectAccepted(t, idpKey.sign({ iss: IDP, aud: API, sub: 'alice', type: 'access' }), 'alice');
    await expectAccepted(t, idpKey.sign({ iss: IDP, aud: API, sub: 'bob' }), 'bob');
    await expect(t.jwt.decodeToken(idpKey.sign({ iss: IDP, aud: API, sub: 'carol' }))).resolves.toMatchObject({ sub: 'carol', iss: IDP });
    expect(idp.count).toBe(1);
    // the app's own tokens are still verified with its own key, without any fetch
    await expectAccepted(t, await t.jwt.createAccessToken('own'), 'own');
    expect(idp.count).toBe(1);
  });

  it('an unknown kid refetches the set once per cooldown, then is refused without fetching', async () => {
    // Only Date is faked: the cooldown is crossed by moving the clock, not by waiting.
    jest.useFakeTimers({ doNotFake: [...ALL_BUT_DATE], now: Date.now() });
    const pastCooldown = () => jest.setSystemTime(Date.now() + 31_000);
    try {
      const claims = { iss: OTHER, aud: API, sub: 'alice' };
      await expectAccepted(t, otherKey.sign(claims), 'alice');
      const before = other.count;
      // within the cooldown of that fetch: no refetch at all
      await expectRefused(t, new IdpKey('stranger-0', 'ES256').sign(claims), 422, 'Unknown key id');
      expect(other.count).toBe(before);
      pastCooldown();
      // the issuer publishes a new key: concurrent requests carrying it share one refetch
      const next = new IdpKey('other-next', 'ES256');
      other.setKeys(otherKey.jwk(), next.jwk());
      const answers = await Promise.all(
        ['p', 'q', 'r'].map((sub) =>
          request(t.url)
            .get('/protected')
            .set(bearer(next.sign({ ...claims, sub }))),
        ),
      );
      expect(answers.map((res) => [res.status, res.body])).toEqual(['p', 'q', 'r'].map((sub) => [200, protectedAnswer(sub)]));
      expect(other.count).toBe(before + 1);
      pastCooldown();
      const stranger = new IdpKey('stranger-1', 'ES256');
      await expectRefused(t, stranger.sign(claims), 422, 'Unknown key id');
      expect(other.count).toBe(before + 2);
      await expectRefused(t, new IdpKey('stranger-2', 'ES256').sign(claims), 422, 'Unknown key id');
      await expectRefused(t, stranger.sign(claims, { kid: 'stranger-3' }), 422, 'Unknown key id');
      expect(other.count).toBe(before + 2);
      // known keys keep working meanwhile
      await expectAccepted(t, otherKey.sign({ ...claims, sub: 'bob' }), 'bob');
      expect(other.count).toBe(before + 2);
    } finally {
      jest.useRealTimers();
    }
  });

  it('rotation without downtime: a new key is picked up, the old one works until it leaves the set', async () => {
    const next = new IdpKey('eager-2', 'ES256');
    const oldToken = eagerKey.sign({ iss: EAGER, aud: API, sub: 'old' });
    await expectAccepted(t, oldToken, 'old');
    eager.setKeys(eagerKey.jwk(), next.jwk()); // the issuer publishes the next key ahead of using it
    await expectAccepted(t, next.sign({ iss: EAGER, aud: API, sub: 'new' }), 'new');
    await expectAccepted(t, oldToken, 'old');
    await expectAccepted(t, eagerKey.sign({ iss: EAGER, aud: API, sub: 'old-2' }), 'old-2');
    eager.setKeys(next.jwk()); // the old key is retired
    const fetches = eager.count;
    // the next unknown kid refetches the set: from then on the old key is gone, cached tokens included
    await expectRefused(t, new IdpKey('eager-x', 'EdDSA').sign({ iss: EAGER, aud: API, sub: 'x' }), 422, 'Unknown key id');
    expect(eager.count).toBe(fetches + 1);
    await expectRefused(t, oldToken, 422, 'Unknown key id');
    await expectAccepted(t, next.sign({ iss: EAGER, aud: API, sub: 'new-2' }), 'new-2');
    eager.setKeys(eagerKey.jwk());
  });

  it('after cacheMaxAge the set is fetched again: a key removed from it stops working, cached tokens included', async () => {
    const key = new IdpKey('aging-1');
    aging.setKeys(key.jwk());
    jest.useFakeTimers({ doNotFake: [...ALL_BUT_DATE], now: Date.now() });
    try {
      const token = key.sign({ iss: AGING, aud: API, sub: 'cached', exp: Math.floor(Date.now() / 1000) + 3600 });
      await expectAccepted(t, token, 'cached');
      await expectAccepted(t, token, 'cached'); // from the verified-token cache, when it is on
      expect(aging.count).toBe(1);
      const successor = new IdpKey('aging-2');
      aging.setKeys(successor.jwk()); // aging-1 retired
      await expectAccepted(t, token, 'cached'); // within cacheMaxAge the cached set still has it
      jest.setSystemTime(Date.now() + 601_000); // past cacheMaxAge (600 s)
      await expectRefused(t, token, 422, 'Unknown key id');
      expect(aging.count).toBe(2);
      await expectAccepted(t, successor.sign({ iss: AGING, aud: API, sub: 'next' }), 'next');
      expect(aging.count).toBe(2);
    } finally {
      jest.useRealTimers();
    }
  });

  it('an unreachable key set fails closed with 503, without a fetch per request, and recovers', async () => {
    const token = new IdpKey('down-1').sign({ iss: DOWN, aud: API, sub: 'alice' });
    // never fetched: the set must be fetched, and cannot be
    await expectResponse(request(t.url).get('/protected').set(bearer(token)), 503, { msg: 'Key set unavailable' }, []);
    expect(down.count).toBe(1);
    await expectResponse(request(t.url).get('/protected').set(bearer(token)), 503, { msg: 'Key set unavailable' }, []);
    await expect(t.jwt.decodeToken(token)).rejects.toMatchObject({ status: 503, code: 'UNAVAILABLE' });
    expect(down.count).toBe(1); // within the cooldown: answered without another fetch

    // an issuer with cooldown 0 retries at once: down → 503, back up → accepted
    eager.down = true;
    const eagerToken = new IdpKey('eager-3', 'RS256');
    await expectResponse(
      request(t.url)
        .get('/protected')
        .set(bearer(eagerToken.sign({ iss: EAGER, aud: API, sub: 'a' }))),
      503,
      { msg: 'Key set unavailable' },
      [],
    );
    eager.down = false;
    eager.setKeys(eagerKey.jwk(), eagerToken.jwk());
    await expectAccepted(t, eagerToken.sign({ iss: EAGER, aud: API, sub: 'a' }), 'a');
    eager.setKeys(eagerKey.jwk());
  });

  it('a key set that does not answer within timeout fails closed with 503', async () => {
    eager.hang = true;
    const key = new IdpKey('eager-hang', 'EdDSA');
    await expectResponse(
      request(t.url)
        .get('/protected')
        .set(bearer(key.sign({ iss: EAGER, aud: API, sub: 'a' }))),
      503,
      { msg: 'Key set unavailable' },
      [],
    );
    eager.hang = false;
  });

  describe('hostile key sets', () => {
    /** Publishes `document` on the cooldown-0 issuer, then presents a token whose new kid makes the set refetch. */
    async function expectSetRefuses(document: string | Buffer, token: string, status: number, msg: string) {
      eager.setDocument(document);
      const fetches = eager.count;
      await expectRefused(t, token, status, msg);
      expect(eager.count).toBe(fetches + 1);
      eager.setKeys(eagerKey.jwk());
    }
    const claims = { iss: EAGER, aud: API, sub: 'mallory' };

    it('a symmetric key in the set is never used, whatever the token says', async () => {
      const secret = Buffer.from(SECRET).toString('base64url');
      const document = JSON.stringify({ keys: [{ kty: 'oct', k: secret, kid: 'oct-1', alg: 'HS256' }, eagerKey.jwk()] });
      const hmac = forgeHmac({ alg: 'HS256', kid: 'oct-1' }, { ...claims, exp: now() + 60 }, SECRET);
      eager.setDocument(document);
      await expectRefused(t, hmac, 422, 'The specified alg value is not allowed');
      const asRsa = new IdpKey('oct-1', 'RS256').sign(claims);
      await expectSetRefuses(document, asRsa, 422, 'Invalid key for the token algorithm');
    });

    it('an RSA key under 2048 bits is refused', async () => {
      const small = new IdpKey('small-rsa', 'RS256', generateKeyPairSync('rsa', { modulusLength: 1024 }));
      await expectSetRefuses(
        JSON.stringify({ keys: [small.jwk(), eagerKey.jwk()] }),
        small.sign(claims),
        422,
        'Invalid key for the token algorithm',
      );
    });

    it('a key on the wrong curve for its algorithm is refused, declared or not', async () => {
      const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
      const declared = new IdpKey('p384-declared', 'ES256', p384);
      await expectSetRefuses(JSON.stringify({ keys: [declared.jwk()] }), declared.sign(claims), 422, 'Invalid key for the token algorithm');
      const undeclared = new IdpKey('p384-undeclared', 'ES256', p384);
      await expectSetRefuses(
        JSON.stringify({ keys: [undeclared.jwk({ alg: undefined })] }),
        undeclared.sign(claims),
        422,
        'Invalid key for the token algorithm',
      );
      // a key published for another algorithm than the token claims
      const rsa = new IdpKey('rsa-for-ps', 'RS256');
      await expectSetRefuses(
        JSON.stringify({ keys: [rsa.jwk({ alg: 'PS256' })] }),
        rsa.sign(claims),
        422,
        'Invalid key for the token algorithm',
      );
    });

    it('duplicate kids, oversized documents, non-JSON and non-key-sets make the set unavailable (503)', async () => {
      const dup = new IdpKey('dup', 'EdDSA');
      const impostor = new IdpKey('dup', 'EdDSA');
      await expectSetRefuses(JSON.stringify({ keys: [dup.jwk(), impostor.jwk()] }), dup.sign(claims), 503, 'Key set unavailable');
      const big = new IdpKey('big', 'EdDSA');
      const padding = 'x'.repeat(300 * 1024);
      await expectSetRefuses(JSON.stringify({ keys: [big.jwk()], padding }), big.sign(claims), 503, 'Key set unavailable');
      const junk = new IdpKey('junk', 'EdDSA');
      await expectSetRefuses('<html>not json</html>', junk.sign(claims), 503, 'Key set unavailable');
      await expectSetRefuses(Buffer.from([0xff, 0xfe, 0x00, 0x7b]), junk.sign(claims, { kid: 'junk-2' }), 503, 'Key set unavailable');
      await expectSetRefuses(JSON.stringify({ keys: 'none' }), junk.sign(claims, { kid: 'junk-3' }), 503, 'Key set unavailable');
      await expectSetRefuses(JSON.stringify([junk.jwk()]), junk.sign(claims, { kid: 'junk-4' }), 503, 'Key set unavailable');
      // after all that, the real key set is fetched again and works
      await expectAccepted(t, eagerKey.sign(claims), 'mallory');
    });
  });

  it('a redirect from the key-set URL is not followed: 503, and the other server gets no request', async () => {
    eager.redirectTo = attacker.url();
    try {
      const key = new IdpKey('eager-redirect', 'EdDSA');
      await expectRefused(t, key.sign({ iss: EAGER, aud: API, sub: 'a' }), 503, 'Key set unavailable');
    } finally {
      eager.redirectTo = undefined;
    }
    expect(attacker.count).toBe(0);
  });

  it('jku and x5u never choose a URL: the attacker server gets no request', async () => {
    const forger = new IdpKey('idp-1'); // same kid as the issuer's real key, other key material
    const url = attacker.url();
    for (const header of [{ jku: url }, { x5u: url }, { jku: url, kid: 'attacker-kid' }]) {
      const token = forger.sign({ iss: IDP, aud: API, sub: 'mallory' }, header);
      await expectRefused(t, token, 422, 'kid' in header ? 'Unknown key id' : 'Signature verification failed');
    }
    // without a trusted iss, the app's own keys apply: it knows no kid (§11), and without one this HS256 app does not accept RS256 at all
    await expectRefused(t, forger.sign({ aud: API, sub: 'mallory' }, { jku: url }), 422, 'Unknown key id');
    await expectRefused(
      t,
      forger.sign({ aud: API, sub: 'mallory' }, { jku: url, kid: undefined }),
      422,
      'The specified alg value is not allowed',
    );
    expect(attacker.count).toBe(0);
  });

  it('a token of one trusted issuer that claims another issuer is refused', async () => {
    // other's key, IDP's iss: IDP's set has no such kid
    await expectRefused(t, otherKey.sign({ iss: IDP, aud: API, sub: 'mallory' }), 422, 'The specified alg value is not allowed');
    const sameKid = new IdpKey('idp-1', 'RS256'); // a key of another issuer that happens to share IDP's kid
    await expectRefused(t, sameKid.sign({ iss: IDP, aud: API, sub: 'mallory' }), 422, 'Signature verification failed');
    // IDP's key presented under EAGER's kid: that kid is an EdDSA key
    await expectRefused(
      t,
      idpKey.sign({ iss: EAGER, aud: API, sub: 'mallory' }, { kid: 'eager-1' }),
      422,
      'Invalid key for the token algorithm',
    );
    // iss is compared exactly: no trailing-slash or case games (the app's own keys then apply: the IdP's
    // kid is not one of them, and without a kid this HS256 app does not accept RS256)
    for (const iss of [IDP.slice(0, -1), IDP.toUpperCase()]) {
      await expectRefused(t, idpKey.sign({ iss, aud: API, sub: 'mallory' }), 422, 'Unknown key id');
      await expectRefused(
        t,
        idpKey.sign({ iss, aud: API, sub: 'mallory' }, { kid: undefined }),
        422,
        'The specified alg value is not allowed',
      );
    }
  });

  it("alg must be one of the issuer's algorithms, HS* never; the kid is required", async () => {
    await expectRefused(
      t,
      forgeHmac({ alg: 'HS256', kid: 'idp-1' }, { iss: IDP, aud: API, sub: 'x', exp: now() + 60 }, SECRET),
      422,
      'The specified alg value is not allowed',
    );
    await expectRefused(t, idpKey.sign({ iss: IDP, aud: API, sub: 'x' }, { alg: 'RS512' }), 422, 'The specified alg value is not allowed');
    await expectRefused(t, idpKey.sign({ iss: IDP, aud: API, sub: 'x' }, { alg: 'none' }), 422, 'The specified alg value is not allowed');
    await expectRefused(t, idpKey.sign({ iss: IDP, aud: API, sub: 'x' }, { kid: undefined }), 422, 'Unknown key id');
    await expectRefused(t, idpKey.sign({ iss: IDP, aud: API, sub: 'x' }, { kid: 42 }), 422, 'Unknown key id');
  });

  it('aud is checked per issuer', async () => {
    await expectRefused(t, idpKey.sign({ iss: IDP, sub: 'x' }), 422, 'Invalid audience');
    await expectRefused(t, idpKey.sign({ iss: IDP, aud: 'second-api', sub: 'x' }), 422, 'Invalid audience');
    await expectAccepted(t, idpKey.sign({ iss: IDP, aud: ['elsewhere', API], sub: 'x' }), 'x');
    await expectAccepted(t, otherKey.sign({ iss: OTHER, aud: 'second-api', sub: 'y' }), 'y');
  });

  it('then the usual steps: type, freshness, expiry, identity, blocklist, verification, user lookup', async () => {
    const base = { iss: IDP, aud: API };
    await expectRefused(t, idpKey.sign({ ...base, sub: 'x', type: 'refresh' }), 422, 'Only non-refresh tokens are allowed');
    await expectResponse(
      request(t.url)
        .post('/refresh')
        .set(bearer(idpKey.sign({ ...base, sub: 'x', type: 'refresh' }))),
      201,
      { id: 'x' },
      'refresh',
    );
    // no type claim: an access token; no fresh claim: not fresh
    await expectRefused(t, idpKey.sign({ ...base, sub: 'x' }), 401, 'Fresh token required', '/fresh');
    await expectRefused(t, idpKey.sign({ ...base, sub: 'x', exp: now() - 10 }), 401, 'Token has expired');
    await expectRefused(t, idpKey.sign({ ...base }), 422, 'Missing claim: sub');
    await expectRefused(t, idpKey.sign({ ...base, sub: 'revoked' }), 401, 'Token has been revoked');
    await expectRefused(t, idpKey.sign({ ...base, sub: 'unverified' }), 400, 'User claims verification failed');
    await expectRefused(t, idpKey.sign({ ...base, sub: 'ghost' }), 401, 'Error loading the user ghost');
  });

  it('a token of this app claiming a trusted issuer is checked against that issuer only', async () => {
    const own = await t.jwt.createAccessToken('me', { additionalClaims: { iss: IDP, aud: API } });
    await expectRefused(t, own, 422, 'The specified alg value is not allowed');
  });
});
