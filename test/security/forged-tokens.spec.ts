import { Injectable } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import request from 'supertest';
import type { DecodeKeyLoader, JwtProtectedHeader } from '../../lib/index.js';
import { ADAPTERS, SECRET, useTestApp, type TestApp } from '../support/app.js';
import { b64, forgeAsymmetric, forgeHmac, now } from '../support/forge.js';
import { accessCookie, bearer, expectResponse, handlerRuns } from '../support/http.js';
import { keyPair } from '../support/service.js';
import { TargetController, protectedAnswer } from '../support/routes.js';

/** Sends `token` as a Bearer token: refused with this status (and message), never echoed; the handler never runs. */
const expectRefused = (t: TestApp, token: string, status: number, msg?: string, path = '/protected') =>
  expectResponse(request(t.url).get(path).set(bearer(token)), status, { msg: msg ?? expect.any(String) }, [], {
    hides: token.slice(0, 40),
  });

const payload = () => ({ sub: 'admin', iat: now(), exp: now() + 600, type: 'access', fresh: true });

/** Token with a raw (unencoded) JSON header and payload, HMAC-signed with the test secret. */
function rawHmac(headerJson: string, payloadJson: string, secret: string | Buffer = SECRET) {
  const input = `${b64(headerJson)}.${b64(payloadJson)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

describe.each(ADAPTERS)('forged tokens (%s)', (adapter) => {
  describe('against an HS256 app', () => {
    const t = useTestApp(adapter, { controllers: [TargetController] });

    it.each(['none', 'None', 'NONE', 'nOnE'])('alg %s is refused, with or without a signature', async (alg) => {
      const unsigned = `${b64({ alg, typ: 'JWT' })}.${b64(payload())}.`;
      await expectRefused(t, unsigned, 422);
      const withSig = `${b64({ alg, typ: 'JWT' })}.${b64(payload())}.${b64('sig')}`;
      await expectRefused(t, withSig, 422, 'The specified alg value is not allowed');
    });

    it('algorithms outside the allowed list are refused even when correctly signed', async () => {
      await expectRefused(t, forgeHmac({ alg: 'HS512' }, payload(), SECRET, 'sha512'), 422, 'The specified alg value is not allowed');
      await expectRefused(t, forgeHmac({ alg: 'HS384' }, payload(), SECRET, 'sha384'), 422, 'The specified alg value is not allowed');
      const { privateKey } = keyPair('rsa');
      await expectRefused(
        t,
        forgeAsymmetric({ alg: 'RS256' }, payload(), privateKey, 'sha256'),
        422,
        'The specified alg value is not allowed',
      );
      await expectRefused(t, forgeHmac({ alg: 'hs256' }, payload(), SECRET), 422, 'The specified alg value is not allowed');
      await expectRefused(t, forgeHmac({ alg: ['HS256'] }, payload(), SECRET), 422, 'The specified alg value is not allowed');
      await expectRefused(t, forgeHmac({ typ: 'JWT' }, payload(), SECRET), 422, 'The specified alg value is not allowed');
    });

    it('an unknown crit parameter or b64: false invalidates a correctly signed token', async () => {
      await expectRefused(t, forgeHmac({ alg: 'HS256', crit: ['exp'], exp: 1 }, payload(), SECRET), 422);
      await expectRefused(t, forgeHmac({ alg: 'HS256', crit: [] }, payload(), SECRET), 422);
      await expectRefused(t, forgeHmac({ alg: 'HS256', b64: false, crit: ['b64'] }, payload(), SECRET), 422);
      await expectRefused(t, forgeHmac({ alg: 'HS256', b64: false }, payload(), SECRET), 422);
    });

    it('wrong segment counts, bad base64, non-JSON and non-object segments', async () => {
      const good = forgeHmac({ alg: 'HS256' }, payload(), SECRET);
      const [h, p, s] = good.split('.');
      const cases = [
        'x',
        `${h}.${p}`,
        `${h}.${p}.${s}.${s}`,
        `${h}..${s}`,
        `.${p}.${s}`,
        `${h}.${p}.`,
        `${h}+.${p}.${s}`,
        `${h}.${p}/.${s}`,
        `${h}.${p}.${s}=`,
        `${h}.${p}.${s}%`,
        `${h}=.${p}.${s}`,
        `${b64('{"alg":"HS256"')}.${p}.${s}`,
        `${h}.${b64('{"sub":')}.${s}`,
        `${b64('null')}.${p}.${s}`,
        `${b64('"HS256"')}.${p}.${s}`,
        `${h}.${b64('[1,2]')}.${s}`,
        `${h}.${b64('42')}.${s}`,
        `${h}.${b64('true')}.${s}`,
        `${h}.${Buffer.from([0xff, 0xfe, 0x00]).toString('base64url')}.${s}`,
        `${h}.${p}.${s.slice(0, 10)}`,
        'A'.repeat(5),
      ];
      for (const token of cases) {
        await expectResponse(request(t.url).get('/protected').set(bearer(token)), 422, { msg: expect.any(String) }, [], { context: token });
      }
    });

    it('non-finite, string, negative and huge numeric claims', async () => {
      const sign = (claims: string) => rawHmac('{"alg":"HS256"}', `{"sub":"admin",${claims}}`);
      await expectRefused(t, sign('"exp":1e999'), 422, 'The exp claim must be a finite number');
      await expectRefused(t, sign('"exp":-1e999'), 422, 'The exp claim must be a finite number');
      await expectRefused(t, sign(`"exp":"${now() + 600}"`), 422, 'The exp claim must be a finite number');
      await expectRefused(t, sign('"exp":null'), 422, 'The exp claim must be a finite number');
      await expectRefused(t, sign('"exp":[9999999999]'), 422, 'The exp claim must be a finite number');
      await expectRefused(t, sign('"nbf":1e999'), 422, 'The nbf claim must be a finite number');
      await expectRefused(t, sign('"iat":"now"'), 422, 'The iat claim must be a finite number');
      await expectRefused(t, sign('"exp":-1'), 401, 'Token has expired');
      await expectRefused(t, sign('"exp":0'), 401, 'Token has expired');
      await expectRefused(t, sign('"nbf":1e300'), 422, 'The token is not yet valid (nbf)');
      await expectRefused(t, sign('"iat":1e300'), 422, 'The token is not yet valid (iat)');
      // a huge but finite exp is a (signed) long-lived token, not an error
      await expectResponse(
        request(t.url)
          .get('/protected')
          .set(bearer(sign('"exp":1e300'))),
        200,
        protectedAnswer('admin'),
        'protected',
      );
    });

    it('type and fresh type games never grant refresh or freshness', async () => {
      for (const type of ['Refresh', 'REFRESH', ' refresh', ['refresh'], { refresh: true }, 1, null, true]) {
        const token = forgeHmac({ alg: 'HS256' }, { sub: 'a', type }, SECRET);
        await expectResponse(request(t.url).post('/refresh').set(bearer(token)), 422, { msg: 'Only refresh tokens are allowed' }, [], {
          context: type,
        });
      }
      for (const fresh of ['true', 1, 0, -1, now() - 5, [true], { fresh: true }, null, 'yes']) {
        await expectRefused(t, forgeHmac({ alg: 'HS256' }, { sub: 'a', fresh }, SECRET), 401, 'Fresh token required', '/fresh');
      }
    });

    it('__proto__ and constructor in header and payload change nothing', async () => {
      const proto = rawHmac('{"alg":"HS256"}', '{"sub":"a","__proto__":{"type":"refresh","fresh":true}}');
      await expectResponse(request(t.url).get('/protected').set(bearer(proto)), 200, protectedAnswer('a'), 'protected');
      await expectRefused(t, proto, 401, 'Fresh token required', '/fresh');
      await expectResponse(request(t.url).post('/refresh').set(bearer(proto)), 422, { msg: 'Only refresh tokens are allowed' }, []);
      await expectRefused(t, rawHmac('{"__proto__":{"alg":"HS256"}}', '{"sub":"a"}'), 422, 'The specified alg value is not allowed');
      await expectRefused(t, rawHmac('{"constructor":{"alg":"HS256"}}', '{"sub":"a"}'), 422, 'The specified alg value is not allowed');
      await expectRefused(t, rawHmac('{"alg":"HS256"}', '{"__proto__":{"sub":"a"}}'), 422, 'Missing claim: sub');
      expect(({} as Record<string, unknown>).type).toBeUndefined();
    });

    it('tokens over maxTokenLength are refused before parsing', async () => {
      const huge = forgeHmac({ alg: 'HS256' }, { sub: 'a', pad: 'x'.repeat(9000) }, SECRET);
      await expectRefused(t, huge, 422, 'Token is too long');
    });

    it('a bad signature is refused', async () => {
      await expectRefused(
        t,
        forgeHmac({ alg: 'HS256' }, payload(), 'another-secret-that-is-32-bytes-long'),
        422,
        'Signature verification failed',
      );
    });
  });

  describe('algorithm confusion against RS256 and ES256 apps', () => {
    const rsa = keyPair('rsa');
    const ec = keyPair('ec256');
    describe.each([
      ['RS256', rsa, 'RS256'],
      ['ES256', ec, 'ES256'],
    ] as const)('%s', (name, pair, algorithm) => {
      const t = useTestApp(adapter, { controllers: [TargetController], options: { algorithm, privateKey: pair.privateKey } });
      // an app that also accepts HS256 still verifies HS tokens with its secret only
      const hybrid = useTestApp(adapter, {
        controllers: [TargetController],
        options: { algorithm, privateKey: pair.privateKey, decodeAlgorithms: [algorithm, 'HS256'], secretKey: SECRET },
      });

      it('HS256 signed with the public key, in every encoding, is refused', async () => {
        const pub = pair.publicKey;
        const encodings: (string | Buffer)[] = [
          pub.export({ format: 'pem', type: 'spki' }).toString(),
          pub.export({ format: 'pem', type: 'spki' }).toString().trim(),
          pub.export({ format: 'der', type: 'spki' }),
          pub.export({ format: 'der', type: 'spki' }).toString('base64'),
          JSON.stringify(pub.export({ format: 'jwk' })),
        ];
        if (name === 'RS256') {
          encodings.push(pub.export({ format: 'pem', type: 'pkcs1' }).toString(), pub.export({ format: 'der', type: 'pkcs1' }));
        }
        for (const secret of encodings) {
          const token = forgeHmac({ alg: 'HS256', typ: 'JWT' }, payload(), secret);
          await expectRefused(t, token, 422, 'The specified alg value is not allowed');
          await expectRefused(hybrid, token, 422, 'Signature verification failed');
        }
      });

      it('a token signed by another key pair is refused; the right one passes', async () => {
        const other =
          name === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
        const hash = 'sha256';
        const opts = name === 'ES256' ? { dsaEncoding: 'ieee-p1363' } : {};
        await expectRefused(
          t,
          forgeAsymmetric({ alg: algorithm }, payload(), other.privateKey, hash, opts),
          422,
          'Signature verification failed',
        );
        const genuine = await t.jwt.createAccessToken('me');
        await expectResponse(request(t.url).get('/protected').set(bearer(genuine)), 200, protectedAnswer('me'), 'protected');
      });
    });
  });

  describe('jku / x5u / jwk / x5c headers are never fetched or trusted', () => {
    const t = useTestApp(adapter, {
      controllers: [TargetController],
      options: { algorithm: 'RS256', privateKey: keyPair('rsa').privateKey },
    });
    let listener: Server;
    let connections = 0;
    let url: string;
    beforeAll(async () => {
      listener = createServer((socket) => {
        connections++;
        socket.destroy();
      });
      await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(listener.address() as { port: number }).port}/keys.json`;
    });
    afterAll(() => new Promise((r) => listener.close(r)));

    it('refuses tokens signed by the key they carry or point to, and opens no connection', async () => {
      const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const jwk = attacker.publicKey.export({ format: 'jwk' });
      const cert = 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'; // any base64: it must not matter
      for (const extra of [{ jku: url }, { x5u: url }, { jwk }, { x5c: [cert] }, { jku: url, x5u: url, jwk, x5c: [cert], kid: 'k' }]) {
        const token = forgeAsymmetric({ alg: 'RS256', ...extra }, payload(), attacker.privateKey, 'sha256');
        // A kid this app does not have is refused before any signature check (CONTRACT §11).
        await expectRefused(t, token, 422, 'kid' in extra ? 'Unknown key id' : 'Signature verification failed');
      }
      // a genuine token that merely carries those headers is verified with the configured key
      const genuine = await t.jwt.createAccessToken('me', { additionalHeaders: { jku: url, x5u: url } });
      await expectResponse(request(t.url).get('/protected').set(bearer(genuine)), 200, protectedAnswer('me'), 'protected');
      await new Promise((r) => setTimeout(r, 100));
      expect(connections).toBe(0);
    });
  });

  describe('hostile kid values reaching a decode-key loader', () => {
    const seen: unknown[] = [];
    const keys: Record<string, string> = { current: 'k'.repeat(32) };
    @Injectable()
    class KidTable implements DecodeKeyLoader {
      decodeKey(header: JwtProtectedHeader) {
        seen.push(header.kid);
        // the safe pattern: kid is only ever a lookup key in a fixed table
        return typeof header.kid === 'string' && Object.hasOwn(keys, header.kid) ? keys[header.kid] : '';
      }
    }
    const t = useTestApp(adapter, { controllers: [TargetController], loaders: { decodeKey: KidTable } });

    it('path traversal, SQL, objects, prototype names and huge kids are refused with 422', async () => {
      const kids: unknown[] = [
        '../../../../etc/passwd',
        "' OR 1=1 --",
        { $ne: null },
        ['current'],
        '__proto__',
        'constructor',
        'toString',
        'x'.repeat(4000),
        '',
        null,
        42,
      ];
      for (const kid of kids) {
        const token = forgeHmac({ alg: 'HS256', kid }, payload(), keys.current);
        await expectRefused(t, token, 422);
      }
      expect(seen).toEqual(kids);
      const good = forgeHmac({ alg: 'HS256', kid: 'current' }, payload(), keys.current);
      await expectResponse(request(t.url).get('/protected').set(bearer(good)), 200, protectedAnswer('admin', true), 'protected');
    });
  });

  describe('request-side type games', () => {
    const t = useTestApp(adapter, { controllers: [TargetController] });
    let token: string;
    beforeAll(async () => {
      token = await t.jwt.createAccessToken('a');
    });

    it('query string: repeated, structured and empty parameters never reach the handler', async () => {
      for (const query of [
        `jwt=${token}&jwt=${token}`,
        `jwt[]=${token}`,
        `jwt[a]=${token}`,
        'jwt=',
        'jwt',
        `JWT=${token}`,
        `jwt=%00${token}`,
      ]) {
        const { result: res, ran } = await handlerRuns.during(() => request(t.url).get(`/query?${query}`));
        expect({ query: query.slice(0, 12), refused: [401, 422].includes(res.status), ran }).toEqual({
          query: query.slice(0, 12),
          refused: true,
          ran: [],
        });
      }
      await expectResponse(request(t.url).get(`/query?jwt=${token}`), 200, { ok: true }, 'query');
    });

    it('JSON body: arrays, objects, numbers, booleans and nested keys never reach the handler', async () => {
      const bodies: unknown[] = [
        { access_token: [token] },
        { access_token: { token } },
        { access_token: 1 },
        { access_token: true },
        [token],
        { nested: { access_token: token } },
        JSON.parse(`{"__proto__":{"access_token":"${token}"}}`),
        'just a string',
      ];
      for (const body of bodies) {
        const { result: res, ran } = await handlerRuns.during(() =>
          request(t.url).post('/body').set('Content-Type', 'application/json').send(JSON.stringify(body)),
        );
        // 400: the adapter's own JSON parser refused the body (Fastify refuses __proto__ keys, Express non-objects)
        expect({ body, refused: [400, 401, 422].includes(res.status), ran }).toEqual({ body, refused: true, ran: [] });
      }
      await expectResponse(request(t.url).post('/body').send({ access_token: token }), 201, { ok: true }, 'body');
    });

    it('CSRF values of other lengths and multibyte text are a 401, never a 500', async () => {
      for (const csrf of [
        'a',
        'x'.repeat(4096),
        'é',
        '\u{1F600}'.repeat(40),
        t.jwt.getCsrfToken(token).toUpperCase(),
        `${t.jwt.getCsrfToken(token)} `,
      ]) {
        await expectResponse(
          request(t.url).post('/cookie').set(accessCookie(token)).set('X-CSRF-TOKEN', encodeURIComponent(csrf)),
          401,
          { msg: 'CSRF double submit tokens do not match' },
          [],
          { context: csrf },
        );
      }
      await expectResponse(
        request(t.url).post('/cookie').set(accessCookie(token)).set('X-CSRF-TOKEN', t.jwt.getCsrfToken(token)),
        201,
        { ok: true },
        'cookie',
      );
    });

    it('refresh-for-access and access-for-refresh are refused', async () => {
      await expectRefused(t, await t.jwt.createRefreshToken('a'), 422, 'Only non-refresh tokens are allowed');
      await expectResponse(request(t.url).post('/refresh').set(bearer(token)), 422, { msg: 'Only refresh tokens are allowed' }, []);
    });
  });
});
