import { type KeyObject, generateKeyPairSync } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import { Controller, Injectable } from '@nestjs/common';
import { ClientProxyFactory, MessagePattern, Transport } from '@nestjs/microservices';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { lastValueFrom } from 'rxjs';
import request from 'supertest';
import { JwtIdentity, JwtRequired, type PublicJwks, type UserLookupLoader } from '../../lib/index.js';
import { createRpcApp } from '../rpc/rpc-app.js';
import { ADAPTERS, type TestApp, createTestApp, useTestApp } from '../support/app.js';
import { forgeAsymmetric, forgeHmac, now } from '../support/forge.js';
import { bearer, expectResponse } from '../support/http.js';
import { TargetController, protectedAnswer } from '../support/routes.js';
import { ProfileGateway, WS_LOADERS, handlerRuns as wsRuns } from '../ws/gateway.js';
import { type Handshake, type TestWsClient, WS_MATRIX, connect, useWsAdapter } from '../ws/ws-support.js';

/*
 * Third pass: attacks on the round-2 surfaces (kids, verification keys, trusted issuers and their
 * key sets, the JWKS route, WebSocket origins) that were expected to work and did not. Kept as
 * regression tests; they run on both adapters, and with TEST_TOKEN_CACHE_SIZE=0 too.
 */

const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const claims = (sub: string) => ({ sub, iat: now(), exp: now() + 300 });
const OLD_HS = 'old-hs-secret-that-is-32-bytes-long!!';

describe.each(ADAPTERS)('kid confusion (%s)', (adapter) => {
  const current = rsa();
  const old = rsa();
  const attacker = rsa();
  const oldPem = old.publicKey.export({ format: 'pem', type: 'spki' }) as string;
  const t = useTestApp(adapter, {
    controllers: [TargetController],
    options: {
      algorithm: 'RS256',
      privateKey: current.privateKey,
      keyId: 'current',
      verificationKeys: [
        { kid: 'hs-old', algorithm: 'HS256', key: OLD_HS },
        { kid: 'rs-old', algorithm: 'RS256', key: old.publicKey },
      ],
    },
  });
  const refused = (token: string, msg: string) =>
    expectResponse(request(t.url).get('/protected').set(bearer(token)), 422, { msg }, [], { hides: token.slice(0, 40) });

  it('the kid of an HS verification key on an RS256 token (signed by anyone) is refused', async () => {
    await refused(
      forgeAsymmetric({ alg: 'RS256', kid: 'hs-old' }, claims('m'), attacker.privateKey, 'sha256'),
      'The specified alg value is not allowed',
    );
  });

  it('the kid of an RS verification key on an HS256 token keyed with that public key (PEM or DER) is refused', async () => {
    const der = old.publicKey.export({ format: 'der', type: 'spki' });
    for (const secret of [oldPem, der]) {
      await refused(forgeHmac({ alg: 'HS256', kid: 'rs-old' }, claims('m'), secret), 'The specified alg value is not allowed');
    }
  });

  it('the kid of the current RS key with HS256 signed with the old HS secret is refused', async () => {
    await refused(forgeHmac({ alg: 'HS256', kid: 'current' }, claims('m'), OLD_HS), 'The specified alg value is not allowed');
  });

  it('an embedded jwk / x5c header never supplies the key', async () => {
    const jwk = attacker.publicKey.export({ format: 'jwk' });
    for (const header of [
      { alg: 'RS256', jwk },
      { alg: 'RS256', kid: 'attacker', jwk },
      { alg: 'RS256', x5c: ['MIIB'] },
    ]) {
      const token = forgeAsymmetric(header, claims('m'), attacker.privateKey, 'sha256');
      await refused(token, 'kid' in header ? 'Unknown key id' : 'Signature verification failed');
    }
  });

  it('kids named like prototype members or with odd types are unknown', async () => {
    for (const kid of ['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'valueOf', '', ' current', 'current ', 'CURRENT']) {
      await refused(forgeAsymmetric({ alg: 'RS256', kid }, claims('m'), attacker.privateKey, 'sha256'), 'Unknown key id');
    }
  });

  it('the JWKS never carries an HS secret or private key members', async () => {
    const jwks = t.jwt.getPublicJwks();
    expect(jwks.keys.map((key) => key.kid)).toEqual(['current', 'rs-old']);
    for (const key of jwks.keys) for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(key).not.toHaveProperty(member);
  });

  it('the old keys still verify their own tokens (the probes above are not refusing everything)', async () => {
    await expectResponse(
      request(t.url)
        .get('/protected')
        .set(bearer(forgeHmac({ alg: 'HS256', kid: 'hs-old' }, claims('hs'), OLD_HS))),
      200,
      protectedAnswer('hs'),
      'protected',
    );
  });
});

describe.each(ADAPTERS)('verificationKeys given as private keys publish only public members (%s)', (adapter) => {
  it('private KeyObject and private JWK', async () => {
    const a = rsa();
    const b = rsa();
    const t = await createTestApp(adapter, {
      controllers: [TargetController],
      options: {
        algorithm: 'RS256',
        privateKey: rsa().privateKey,
        jwksPath: '/jwks',
        verificationKeys: [
          { kid: 'a', algorithm: 'RS256', key: a.privateKey },
          { kid: 'b', algorithm: 'RS256', key: { ...b.privateKey.export({ format: 'jwk' }), kty: 'RSA' } },
        ],
      },
    });
    try {
      const res = await request(t.url).get('/jwks').expect(200);
      const body = res.body as PublicJwks;
      expect(body.keys).toHaveLength(3);
      for (const key of body.keys) for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key).not.toHaveProperty(member);
    } finally {
      await t.close();
    }
  });
});

/** A key-set server that sends its headers at once and then one byte of body every 50 ms, forever. */
class DrippingServer {
  private server?: Server;
  private readonly timers = new Set<NodeJS.Timeout>();
  url = '';
  async start(): Promise<void> {
    this.server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"keys":[');
      const timer = setInterval(() => res.write(' '), 50);
      this.timers.add(timer);
      res.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/jwks.json`;
  }
  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

describe.each(ADAPTERS)('a trusted issuer whose key set drips its body (slow loris) (%s)', (adapter) => {
  const drip = new DrippingServer();
  const idp = rsa();
  let t: TestApp;
  beforeAll(async () => {
    await drip.start();
    t = await createTestApp(adapter, {
      controllers: [TargetController],
      options: { trustedIssuers: [{ issuer: 'https://drip.example', jwksUri: drip.url, algorithms: ['RS256'], timeout: 300 }] },
    });
  });
  afterAll(async () => {
    await t?.close();
    await drip.stop();
  });

  it('fails closed with 503 once timeout has passed, instead of waiting for the body', async () => {
    const token = forgeAsymmetric({ alg: 'RS256', kid: 'k' }, { ...claims('m'), iss: 'https://drip.example' }, idp.privateKey, 'sha256');
    await expectResponse(request(t.url).get('/protected').set(bearer(token)), 503, { msg: 'Key set unavailable' }, []);
  });
});

describe.each(ADAPTERS)('trusted issuer vs local keys (%s)', (adapter) => {
  const idp = rsa();
  const current = rsa();
  let keySet: Server;
  let t: TestApp;
  let fetches = 0;
  const ISS = 'https://idp.example';
  const jwk = (key: KeyObject, kid: string) => ({ ...key.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' });
  beforeAll(async () => {
    keySet = createServer((_req, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk(idp.publicKey, 'idp-1')] }));
    });
    await new Promise<void>((resolve) => keySet.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(keySet.address() as { port: number }).port}/jwks.json`;
    t = await createTestApp(adapter, {
      controllers: [TargetController],
      options: {
        algorithm: 'RS256',
        privateKey: current.privateKey,
        keyId: 'local-1',
        trustedIssuers: [{ issuer: ISS, jwksUri: url, algorithms: ['RS256'] }],
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    keySet.closeAllConnections();
    await new Promise<void>((resolve) => keySet.close(() => resolve()));
  });

  it('a locally signed token claiming the trusted issuer is not verified with the local key', async () => {
    const token = await t.jwt.createAccessToken('alice', { additionalClaims: { iss: ISS } });
    await expectResponse(request(t.url).get('/protected').set(bearer(token)), 422, { msg: 'Unknown key id' }, []);
  });

  it("the issuer's key naming the local kid, and the local kid on a token of the issuer, are refused", async () => {
    const asLocal = forgeAsymmetric({ alg: 'RS256', kid: 'local-1' }, claims('m'), idp.privateKey, 'sha256');
    await expectResponse(request(t.url).get('/protected').set(bearer(asLocal)), 422, { msg: 'Signature verification failed' }, []);
    const claimingLocalKid = forgeAsymmetric({ alg: 'RS256', kid: 'local-1' }, { ...claims('m'), iss: ISS }, idp.privateKey, 'sha256');
    await expectResponse(request(t.url).get('/protected').set(bearer(claimingLocalKid)), 422, { msg: 'Unknown key id' }, []);
  });

  it("the issuer's own token passes (the probes above are not refusing everything)", async () => {
    const token = forgeAsymmetric({ alg: 'RS256', kid: 'idp-1' }, { ...claims('idp-user'), iss: ISS }, idp.privateKey, 'sha256');
    await expectResponse(request(t.url).get('/protected').set(bearer(token)), 200, protectedAnswer('idp-user'), 'protected');
    expect(fetches).toBeGreaterThan(0);
  });
});

describe.each(WS_MATRIX)('WebSocket cookie origins (%s on %s)', (kind, adapter) => {
  const ALLOWED = 'https://app.example.com';
  const t = useTestApp(adapter, {
    options: { tokenLocation: ['cookies'], wsAllowedOrigins: [ALLOWED] },
    loaders: WS_LOADERS,
    providers: [ProfileGateway],
    beforeInit: useWsAdapter(kind),
  });
  const clients: TestWsClient[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
    wsRuns.clear();
  });
  const whoami = async (handshake: Handshake) => {
    const client = await connect(kind, t.url, handshake);
    clients.push(client);
    return client.call('whoami');
  };

  it('case, trailing slash, path, default port, userinfo, a list of origins: none is the allowed origin', async () => {
    const cookie = `access_token_cookie=${await t.jwt.createAccessToken('alice')}`;
    for (const origin of [
      'HTTPS://APP.EXAMPLE.COM',
      'https://App.example.com',
      `${ALLOWED}/`,
      `${ALLOWED}/path`,
      `${ALLOWED}:443`,
      'https://user@app.example.com',
      `${ALLOWED}, https://evil.example`,
      `https://evil.example, ${ALLOWED}`,
      `${ALLOWED}.`,
    ]) {
      expect({ origin, reply: await whoami({ headers: { cookie, origin } }) }).toEqual({
        origin,
        reply: { error: { status: 401, msg: 'Missing cookie "access_token_cookie"' } },
      });
    }
    expect(wsRuns.get('whoami')).toBeUndefined();
    // and the allowed origin itself works
    expect(await whoami({ headers: { cookie, origin: ALLOWED } })).toEqual({ data: expect.objectContaining({ identity: 'alice' }) });
  });
});

/** A userLookup loader failing with an internal message that must stay on the server. */
@Injectable()
class BrokenUsers implements UserLookupLoader {
  lookupUser(): never {
    throw new Error('connect ECONNREFUSED 10.1.2.3:5432 (password=hunter2)');
  }
}

describe.each(WS_MATRIX)('a loader that throws, on a gateway (%s on %s)', (kind, adapter) => {
  const t = useTestApp(adapter, { loaders: { userLookup: BrokenUsers }, providers: [ProfileGateway], beforeInit: useWsAdapter(kind) });

  it("the client gets Nest's generic error, never the loader's message", async () => {
    const client = await connect(kind, t.url, { headers: { authorization: `Bearer ${await t.jwt.createAccessToken('alice')}` } });
    try {
      const reply = await client.call('whoami');
      expect(reply).toEqual({ error: expect.objectContaining({ status: 'error', message: 'Internal server error' }) });
      expect(JSON.stringify(reply)).not.toContain('hunter2');
      expect(wsRuns.get('whoami')).toBeUndefined();
    } finally {
      client.close();
    }
  });
});

@Controller()
class TcpMe {
  @MessagePattern('me')
  @JwtRequired()
  me(@JwtIdentity() id: unknown) {
    return { id };
  }
}

describe('a loader that throws, on a TCP microservice', () => {
  it("the client gets Nest's generic error, never the loader's message", async () => {
    const t = await createRpcApp({ transport: 'tcp', controllers: [TcpMe], loaders: { userLookup: BrokenUsers } });
    const client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port: t.port } });
    try {
      const error = await lastValueFrom(client.send('me', { access_token: await t.jwt.createAccessToken('alice') })).then(
        (result: unknown) => ({ unexpectedResult: result }),
        (failure: unknown) => failure,
      );
      expect(error).toEqual({ status: 'error', message: 'Internal server error' });
    } finally {
      await client.close();
      await t.close();
    }
  });
});

describe.each(WS_MATRIX)('one connection, two patterns with different protections (%s on %s)', (kind, adapter) => {
  const t = useTestApp(adapter, { loaders: WS_LOADERS, providers: [ProfileGateway], beforeInit: useWsAdapter(kind) });
  const clients: TestWsClient[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
    wsRuns.clear();
  });
  const open = async (token: string) => {
    const client = await connect(kind, t.url, { headers: { authorization: `Bearer ${token}` } });
    clients.push(client);
    return client;
  };

  it("a pattern never reuses another pattern's verification, in either order, message after message", async () => {
    const access = await open(await t.jwt.createAccessToken('alice'));
    const refresh = await open(await t.jwt.createRefreshToken('alice'));
    for (let round = 0; round < 3; round++) {
      expect(await access.call('whoami')).toEqual({ data: expect.objectContaining({ identity: 'alice', type: 'access' }) });
      expect(await access.call('refresh')).toEqual({ error: { status: 422, msg: 'Only refresh tokens are allowed' } });
      expect(await access.call('fresh')).toEqual({ error: { status: 401, msg: 'Fresh token required' } });
      expect(await refresh.call('refresh')).toEqual({ data: { identity: 'alice' } });
      expect(await refresh.call('whoami')).toEqual({ error: { status: 422, msg: 'Only non-refresh tokens are allowed' } });
    }
    expect(wsRuns.get('fresh')).toBeUndefined();
  });

  it('a new connection with another token gets its own identity (no state from the previous connection)', async () => {
    const first = await open(await t.jwt.createAccessToken('alice'));
    expect(await first.call('whoami')).toEqual({ data: expect.objectContaining({ identity: 'alice' }) });
    first.close();
    const second = await open(await t.jwt.createAccessToken('bob'));
    expect(await second.call('whoami')).toEqual({ data: expect.objectContaining({ identity: 'bob' }) });
  });
});
