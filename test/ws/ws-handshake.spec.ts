import { HttpException, Injectable } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  type ExpiredTokenLoader,
  JwtExtendedConfigError,
  JwtExtendedService,
  JwtRequired,
  type InvalidTokenLoader,
} from '../../lib/index.js';
import { type TestApp, startupError, useTestApp } from '../support/app.js';
import { ProfileGateway, WS_LOADERS, handlerRuns } from './gateway.js';
import { type Handshake, type TestWsClient, type WsKind, WS_MATRIX, connect, useWsAdapter } from './ws-support.js';

const ALLOWED = 'https://app.example.com';

/** Clients opened by a test, closed after it. */
function clientsOf(kind: WsKind, t: TestApp) {
  const clients: TestWsClient[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
    handlerRuns.clear();
  });
  return async (handshake: Handshake) => {
    const client = await connect(kind, t.url, handshake);
    clients.push(client);
    return client;
  };
}

describe.each(WS_MATRIX)('handshake token locations (%s on %s)', (kind, adapter) => {
  const t = useTestApp(adapter, {
    options: { tokenLocation: ['headers', 'query_string', 'cookies'], wsAllowedOrigins: [ALLOWED, 'http://localhost:3000'] },
    loaders: WS_LOADERS,
    providers: [ProfileGateway],
    beforeInit: useWsAdapter(kind),
  });
  const open = clientsOf(kind, t);
  const MISSING = {
    status: 401,
    msg: 'Missing JWT in headers, query_string or cookies (Missing Authorization Header; Missing \'jwt\' query parameter; Missing cookie "access_token_cookie")',
  };
  const whoami = async (handshake: Handshake) => (await open(handshake)).call('whoami');

  it('headers: the handshake header', async () => {
    const token = await t.jwt.createAccessToken('alice');
    expect(await whoami({ headers: { authorization: `Bearer ${token}` } })).toEqual({
      data: expect.objectContaining({ identity: 'alice', location: 'headers' }),
    });
  });

  it('query_string: the handshake URL query; a bad token there is an error, not a fall-through', async () => {
    const token = await t.jwt.createAccessToken('bob');
    expect(await whoami({ query: { jwt: token } })).toEqual({
      data: expect.objectContaining({ identity: 'bob', location: 'query_string' }),
    });
    expect(await whoami({ query: { jwt: `${token}x` } })).toEqual({ error: { status: 422, msg: 'Signature verification failed' } });
  });

  it('cookies: accepted from an origin in wsAllowedOrigins, without a CSRF value (the handshake is a GET)', async () => {
    const token = await t.jwt.createAccessToken('alice');
    for (const origin of [ALLOWED, 'http://localhost:3000']) {
      expect(await whoami({ headers: { cookie: `access_token_cookie=${token}`, origin } })).toEqual({
        data: expect.objectContaining({ identity: 'alice', location: 'cookies' }),
      });
    }
  });

  it('cookies: refused from any other origin, and without an Origin (cross-site WebSocket hijacking)', async () => {
    const cookie = `access_token_cookie=${await t.jwt.createAccessToken('alice')}`;
    for (const headers of <Record<string, string>[]>[
      { cookie, origin: 'https://evil.example' },
      { cookie, origin: `${ALLOWED}.evil.example` },
      { cookie, origin: 'null' },
      { cookie },
    ]) {
      expect(await whoami({ headers })).toEqual({ error: MISSING });
    }
    expect(handlerRuns.get('whoami')).toBeUndefined();
  });

  it('the first location with a token decides, in tokenLocation order', async () => {
    const alice = await t.jwt.createAccessToken('alice');
    const bob = await t.jwt.createAccessToken('bob');
    expect(await whoami({ headers: { authorization: `Bearer ${alice}` }, query: { jwt: bob } })).toEqual({
      data: expect.objectContaining({ identity: 'alice', location: 'headers' }),
    });
    expect(await whoami({})).toEqual({ error: MISSING });
  });

  it('json: a handshake has no body, so the json location never finds a token (not even in the message)', async () => {
    const token = await t.jwt.createAccessToken('alice');
    const client = await open({});
    expect(await client.call('json', { access_token: token })).toEqual({
      error: { status: 401, msg: 'Invalid content-type. Must be application/json.' },
    });
    expect(handlerRuns.get('json')).toBeUndefined();
  });

  if (kind === 'socket.io') {
    it("headers: socket.io's auth.token, bare or with the header type; the header wins over it", async () => {
      const alice = await t.jwt.createAccessToken('alice');
      const bob = await t.jwt.createAccessToken('bob');
      for (const token of [alice, `Bearer ${alice}`, `bearer ${alice}`]) {
        expect(await whoami({ auth: { token } })).toEqual({ data: expect.objectContaining({ identity: 'alice', location: 'headers' }) });
      }
      expect(await whoami({ auth: { token: bob }, headers: { authorization: `Bearer ${alice}` } })).toEqual({
        data: expect.objectContaining({ identity: 'alice' }),
      });
      expect(await whoami({ auth: { token: `${alice} extra` } })).toEqual({
        error: { status: 422, msg: "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'" },
      });
    });
  }

  describe('verifyJwtInHandshake in handleConnection', () => {
    it('resolves the verified token of the handshake', async () => {
      const client = await open({ query: { strict: '1', jwt: await t.jwt.createAccessToken('alice') } });
      expect(await client.next()).toEqual({ event: 'welcome', data: { sub: 'alice' } });
    });

    it('follows the same rules: a cookie from an allowed origin only', async () => {
      const cookie = `access_token_cookie=${await t.jwt.createAccessToken('bob')}`;
      const allowed = await open({ query: { strict: '1' }, headers: { cookie, origin: ALLOWED } });
      expect(await allowed.next()).toEqual({ event: 'welcome', data: { sub: 'bob' } });
      const foreign = await open({ query: { strict: '1' }, headers: { cookie, origin: 'https://evil.example' } });
      expect(await foreign.next()).toEqual({ event: 'exception', data: MISSING });
      await foreign.closed;
    });

    it('fails with a WsException carrying the §6 status and message; the gateway can then close the connection', async () => {
      const expired = await t.jwt.createAccessToken('alice', { expiresDelta: -10 });
      const client = await open({ query: { strict: '1', jwt: expired } });
      expect(await client.next()).toEqual({ event: 'exception', data: { status: 401, msg: 'Token has expired' } });
      await client.closed;
    });

    it('takes verifyJwtInRequest options: optional', async () => {
      const client = await open({ query: { strict: '1', optional: '1' } });
      expect(await client.next()).toEqual({ event: 'welcome', data: { sub: null } });
    });
  });

  it('JwtErrorFilter bound on a handler sends library exceptions the handler throws in the §10 shape', async () => {
    const client = await open({});
    expect(await client.call('decode', 'not-a-token')).toEqual({ error: { status: 422, msg: expect.any(String) } });
    const token = await t.jwt.createAccessToken('carol');
    expect(await client.call('decode', token)).toEqual({ data: { sub: 'carol' } });
  });
});

describe('verifyJwtInHandshake options', () => {
  const t = useTestApp('express', { providers: [ProfileGateway], beforeInit: useWsAdapter('socket.io') });

  it('refuses options @JwtRequired() would refuse, with a TypeError', async () => {
    const client = { handshake: { headers: {} } };
    const jwt = t.app.get(JwtExtendedService);
    await expect(jwt.verifyJwtInHandshake(client, { bogus: true } as never)).rejects.toThrow(TypeError);
    await expect(jwt.verifyJwtInHandshake(client, { locations: [] })).rejects.toThrow(TypeError);
  });
});

/** Error loaders in every role they can have on a WebSocket, answering with their own bodies. */
@Injectable()
class WsErrors implements ExpiredTokenLoader, InvalidTokenLoader {
  onExpiredToken() {
    return new HttpException({ reason: 'expired', retry: true }, 401);
  }
  onInvalidToken(reason: string) {
    return new HttpException(`invalid: ${reason}`, 422);
  }
}

describe.each(WS_MATRIX)('error bodies (%s on %s)', (kind, adapter) => {
  describe('errorMessageKey', () => {
    const t = useTestApp(adapter, { options: { errorMessageKey: 'message' }, providers: [ProfileGateway], beforeInit: useWsAdapter(kind) });
    const open = clientsOf(kind, t);
    it('names the message key of the error', async () => {
      expect(await (await open({})).call('whoami')).toEqual({ error: { status: 401, message: 'Missing Authorization Header' } });
    });
  });

  describe("errorFormat 'nest'", () => {
    const t = useTestApp(adapter, { options: { errorFormat: 'nest' }, providers: [ProfileGateway], beforeInit: useWsAdapter(kind) });
    const open = clientsOf(kind, t);
    it('is the Nest body beside the status', async () => {
      expect(await (await open({})).call('whoami')).toEqual({
        error: { status: 401, statusCode: 401, message: 'Missing Authorization Header', error: 'Unauthorized', code: 'NO_AUTHORIZATION' },
      });
      const strict = await open({ query: { strict: '1' } });
      expect(await strict.next()).toEqual({
        event: 'exception',
        data: { status: 401, statusCode: 401, message: 'Missing Authorization Header', error: 'Unauthorized', code: 'NO_AUTHORIZATION' },
      });
    });
  });

  describe('error loaders', () => {
    const t = useTestApp(adapter, {
      loaders: { expiredToken: WsErrors, invalidToken: WsErrors },
      providers: [ProfileGateway],
      beforeInit: useWsAdapter(kind),
    });
    const open = clientsOf(kind, t);

    it('shape guard failures (no app-wide filter reaches a gateway)', async () => {
      const expired = await t.jwt.createAccessToken('alice', { expiresDelta: -10 });
      expect(await (await open({ headers: { authorization: `Bearer ${expired}` } })).call('whoami')).toEqual({
        error: { reason: 'expired', retry: true, status: 401 },
      });
      // A situation without a loader keeps the library's body.
      expect(await (await open({})).call('whoami')).toEqual({ error: { status: 401, msg: 'Missing Authorization Header' } });
    });

    it('shape verifyJwtInHandshake failures', async () => {
      const expired = await t.jwt.createAccessToken('alice', { expiresDelta: -10 });
      const client = await open({ query: { strict: '1' }, headers: { authorization: `Bearer ${expired}` } });
      expect(await client.next()).toEqual({ event: 'exception', data: { reason: 'expired', retry: true, status: 401 } });
    });

    it('shape what JwtErrorFilter sends for a handler', async () => {
      expect(await (await open({})).call('decode', 'not-a-token')).toEqual({
        error: { status: 422, message: expect.stringMatching(/^invalid: /) },
      });
    });
  });
});

/** A ws-adapter gateway that never hands the upgrade request over. */
@WebSocketGateway()
class ForgetfulGateway {
  @JwtRequired()
  @SubscribeMessage('whoami')
  whoami() {
    return { ran: true };
  }
}

describe('a ws client whose handshake was not remembered', () => {
  const t = useTestApp('express', { providers: [ForgetfulGateway], beforeInit: useWsAdapter('ws') });
  const open = clientsOf('ws', t);

  it('is refused (fails closed), whatever its handshake carries', async () => {
    const client = await open({ headers: { authorization: `Bearer ${await t.jwt.createAccessToken('alice')}` } });
    expect(await client.call('whoami')).toEqual({ error: expect.objectContaining({ status: 'error', message: 'Internal server error' }) });
  });
});

describe('wsAllowedOrigins', () => {
  it.each([
    [['https://app.example.com/'], /did you mean "https:\/\/app\.example\.com"/],
    [['https://App.Example.com'], /did you mean "https:\/\/app\.example\.com"/],
    [['https://app.example.com/path'], /wsAllowedOrigins/],
    [['app.example.com'], /wsAllowedOrigins/],
    [['null'], /wsAllowedOrigins/],
    [[''], /wsAllowedOrigins/],
    [[42], /wsAllowedOrigins/],
    ['https://app.example.com', /must be an array of origins/],
  ])('refuses %j at start-up', async (value, message) => {
    const error = await startupError('express', { options: { wsAllowedOrigins: value as string[] } });
    expect(error).toBeInstanceOf(JwtExtendedConfigError);
    expect((error as Error).message).toMatch(message);
  });

  it('accepts serialized origins, with ports and IPv6 hosts', async () => {
    const origins = ['https://app.example.com', 'http://localhost:3000', 'http://[::1]:8080'];
    expect(await startupError('express', { options: { wsAllowedOrigins: origins } })).toBeUndefined();
  });
});
