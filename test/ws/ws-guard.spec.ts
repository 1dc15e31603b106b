import type { IncomingMessage } from 'node:http';
import { type OnGatewayConnection, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import {
  JWT_BLOCKLIST,
  Jwt,
  JwtIdentity,
  JwtLocation,
  JwtPublic,
  JwtRequired,
  type JwtPayload,
  type RevocationStore,
} from '../../lib/index.js';
import { useTestApp } from '../support/app.js';
import { ALL_BUT_DATE } from '../support/clock.js';
import { forgeHmac, now } from '../support/forge.js';
import { ProfileGateway, WS_LOADERS, handlerRuns } from './gateway.js';
import { type Handshake, type TestWsClient, WS_KINDS, WS_MATRIX, connect, handshakeUrl, useWsAdapter } from './ws-support.js';

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

describe.each(WS_MATRIX)('the guard on @SubscribeMessage handlers (%s on %s)', (kind, adapter) => {
  const t = useTestApp(adapter, { loaders: WS_LOADERS, providers: [ProfileGateway], beforeInit: useWsAdapter(kind) });

  const clients: TestWsClient[] = [];
  const open = async (handshake: Handshake) => {
    const client = await connect(kind, t.url, handshake);
    clients.push(client);
    return client;
  };
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
    handlerRuns.clear();
  });

  /** The error a message to `event` gets with `handshake`; the handler must not have run. */
  const refused = async (handshake: Handshake, event = 'whoami') => {
    const reply = await (await open(handshake)).call(event, {});
    expect(handlerRuns.get(event)).toBeUndefined();
    return reply;
  };

  it('reads the handshake header; param decorators see the verified token, the user and the message', async () => {
    const client = await open(bearer(await t.jwt.createAccessToken('alice')));
    expect(await client.call('whoami', { n: 1 })).toEqual({
      data: { identity: 'alice', location: 'headers', type: 'access', alg: 'HS256', user: { name: 'alice' }, body: { n: 1 } },
    });
    // The same connection, message after message.
    expect(await client.call('whoami', { n: 2 })).toEqual({ data: expect.objectContaining({ identity: 'alice', body: { n: 2 } }) });
    expect(handlerRuns.get('whoami')).toBe(2);
  });

  it('refuses a message without a token, with the §6 status and message', async () => {
    expect(await refused({})).toEqual({ error: { status: 401, msg: 'Missing Authorization Header' } });
  });

  it.each([
    [
      'a header without the Bearer type',
      (token: string) => `Token ${token}`,
      401,
      "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'",
    ],
    [
      'a Bearer part of three words',
      (token: string) => `Bearer ${token} more`,
      422,
      "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'",
    ],
  ])('refuses %s', async (_case, header, status, msg) => {
    const token = await t.jwt.createAccessToken('alice');
    expect(await refused({ headers: { authorization: header(token) } })).toEqual({ error: { status, msg } });
  });

  it.each([
    ['an expired token', async () => t.jwt.createAccessToken('alice', { expiresDelta: -10 }), 401, 'Token has expired'],
    ['a refresh token', async () => t.jwt.createRefreshToken('alice'), 422, 'Only non-refresh tokens are allowed'],
    ['a revoked token', async () => t.jwt.createAccessToken('alice'), 401, 'Token has been revoked', true],
    ['a token failing claims verification', async () => t.jwt.createAccessToken('unverified'), 400, 'User claims verification failed'],
    ['a token whose user is unknown', async () => t.jwt.createAccessToken('ghost'), 401, 'Error loading the user ghost'],
    [
      'a token with a bad signature',
      async () =>
        forgeHmac(
          { alg: 'HS256', typ: 'JWT' },
          { sub: 'alice', type: 'access', iat: now(), exp: now() + 60 },
          'another-secret-of-32-bytes-length!!',
        ),
      422,
      'Signature verification failed',
    ],
    [
      'a token not valid yet',
      async () =>
        forgeHmac(
          { alg: 'HS256', typ: 'JWT' },
          { sub: 'alice', type: 'access', iat: now(), nbf: now() + 600 },
          'test-secret-that-is-32-bytes-long!!',
        ),
      422,
      'The token is not yet valid (nbf)',
    ],
  ] as [string, () => Promise<string>, number, string, boolean?][])('refuses %s', async (_case, token, status, msg, revoke = false) => {
    const value = await token();
    if (revoke) await t.app.get<RevocationStore>(JWT_BLOCKLIST).revokeToken(await t.jwt.decodeToken(value));
    expect(await refused(bearer(value))).toEqual({ error: { status, msg } });
  });

  it('applies the handler options: fresh, refresh, optional', async () => {
    const stale = await open(bearer(await t.jwt.createAccessToken('alice')));
    expect(await stale.call('fresh')).toEqual({ error: { status: 401, msg: 'Fresh token required' } });
    const fresh = await open(bearer(await t.jwt.createAccessToken('alice', { fresh: true })));
    expect(await fresh.call('fresh')).toEqual({ data: { identity: 'alice' } });
    expect(await fresh.call('refresh')).toEqual({ error: { status: 422, msg: 'Only refresh tokens are allowed' } });
    const refresh = await open(bearer(await t.jwt.createRefreshToken('bob')));
    expect(await refresh.call('refresh')).toEqual({ data: { identity: 'bob' } });
    const anonymous = await open({});
    expect(await anonymous.call('optional')).toEqual({ data: { sub: null, location: null } });
    expect(await fresh.call('optional')).toEqual({ data: { sub: 'alice', location: 'headers' } });
    // An unguarded handler on the same connection is left alone.
    expect(await anonymous.call('ping')).toEqual({ data: { pong: true } });
  });

  it('verifies every message: a token revoked mid-connection stops working', async () => {
    const token = await t.jwt.createAccessToken('alice');
    const client = await open(bearer(token));
    expect(await client.call('whoami')).toEqual({ data: expect.objectContaining({ identity: 'alice' }) });
    await t.app.get<RevocationStore>(JWT_BLOCKLIST).revokeToken(await t.jwt.decodeToken(token));
    expect(await client.call('whoami')).toEqual({ error: { status: 401, msg: 'Token has been revoked' } });
    expect(handlerRuns.get('whoami')).toBe(1);
  });

  it('keeps each connection to its own token', async () => {
    const alice = await open(bearer(await t.jwt.createAccessToken('alice')));
    const bob = await open(bearer(await t.jwt.createAccessToken('bob')));
    const anonymous = await open({});
    const replies = await Promise.all([alice.call('whoami'), bob.call('whoami'), anonymous.call('whoami'), alice.call('optional')]);
    expect(replies).toEqual([
      { data: expect.objectContaining({ identity: 'alice' }) },
      { data: expect.objectContaining({ identity: 'bob' }) },
      { error: { status: 401, msg: 'Missing Authorization Header' } },
      { data: { sub: 'alice', location: 'headers' } },
    ]);
  });
});

// The HTTP adapter plays no part once the connection is open: one app per WebSocket adapter.
describe.each(WS_KINDS)('expiry mid-connection (%s)', (kind) => {
  const t = useTestApp('express', { loaders: WS_LOADERS, providers: [ProfileGateway], beforeInit: useWsAdapter(kind) });
  const clients: TestWsClient[] = [];
  afterEach(() => {
    jest.useRealTimers();
    for (const client of clients.splice(0)) client.close();
    handlerRuns.clear();
  });

  // The wall clock stands still, then jumps past `exp`: a one-second token lives only until the next
  // whole second (`exp` is `iat` + 1, `iat` whole seconds), which on the real clock the connection
  // could outlast when the token is made late in its second, as here 999 ms into it.
  it.each([0, 999])(
    'verifies every message: a token that expires mid-connection stops working (made %i ms into its second)',
    async (ms) => {
      const start = Math.floor(Date.now() / 1000);
      jest.useFakeTimers({ now: start * 1000 + ms, doNotFake: [...ALL_BUT_DATE] });
      const client = await connect(kind, t.url, bearer(await t.jwt.createAccessToken('alice', { expiresDelta: 1 })));
      clients.push(client);
      expect(await client.call('whoami')).toEqual({ data: expect.objectContaining({ identity: 'alice' }) });
      jest.setSystemTime((start + 1) * 1000); // exp: expired from this second on
      expect(await client.call('whoami')).toEqual({ error: { status: 401, msg: 'Token has expired' } });
      expect(await client.call('optional')).toEqual({ error: { status: 401, msg: 'Token has expired' } });
      expect(handlerRuns.get('whoami')).toBe(1);
    },
  );
});

/** Under the global guard: undeclared handlers need a token, `@JwtPublic()` ones read none. */
@WebSocketGateway()
@JwtRequired({ optional: true })
class GlobalGateway implements OnGatewayConnection {
  handleConnection(client: object, request?: IncomingMessage) {
    handshakeUrl(client, request);
  }

  @JwtPublic()
  @SubscribeMessage('public')
  open(@Jwt() payload: JwtPayload, @JwtLocation() location: unknown) {
    return { payload, location };
  }

  @SubscribeMessage('class-options')
  classOptions(@JwtIdentity() identity: unknown) {
    return { identity };
  }

  @JwtRequired()
  @SubscribeMessage('required')
  required(@JwtIdentity() identity: unknown) {
    return { identity };
  }
}

describe.each(WS_KINDS)('the global guard and @JwtPublic() on a gateway (%s)', (kind) => {
  const t = useTestApp('express', { globalGuard: true, providers: [GlobalGateway], beforeInit: useWsAdapter(kind) });
  const clients: TestWsClient[] = [];
  const open = async (handshake: Handshake) => {
    const client = await connect(kind, t.url, handshake);
    clients.push(client);
    return client;
  };
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  it("nearest declaration wins: the handler's, else the class's (over the global guard's default)", async () => {
    const anonymous = await open({});
    expect(await anonymous.call('class-options')).toEqual({ data: { identity: null } });
    expect(await anonymous.call('required')).toEqual({ error: { status: 401, msg: 'Missing Authorization Header' } });
    const alice = await open(bearer(await t.jwt.createAccessToken('alice')));
    expect(await alice.call('required')).toEqual({ data: { identity: 'alice' } });
    expect(await alice.call('class-options')).toEqual({ data: { identity: 'alice' } });
  });

  it('@JwtPublic() reads no token: an expired one never fails it, and its handler sees the "no token" state', async () => {
    const expired = await open(bearer(await t.jwt.createAccessToken('alice', { expiresDelta: -10 })));
    expect(await expired.call('public')).toEqual({ data: { payload: {}, location: null } });
    expect(await expired.call('class-options')).toEqual({ error: { status: 401, msg: 'Token has expired' } });
  });
});
