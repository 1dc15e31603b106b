import { Controller, Injectable, UnauthorizedException, UnprocessableEntityException } from '@nestjs/common';
import { ClientProxyFactory, type ClientProxy, MessagePattern, Payload, Transport } from '@nestjs/microservices';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { lastValueFrom } from 'rxjs';
import {
  CurrentUser,
  Jwt,
  JwtExtendedModule,
  JwtExtendedService,
  JwtIdentity,
  JwtLocation,
  JwtPublic,
  JwtRequired,
  type InvalidTokenLoader,
  type JwtPayload,
  type UnauthorizedLoader,
} from '../../lib/index.js';
import { SECRET, TOKEN_CACHE } from '../support/app.js';
import { SUBJECT_CHECKS } from '../support/loaders.js';
import { createRpcApp, type RpcTestApp } from './rpc-app.js';

@Controller()
class TcpController {
  constructor(private readonly jwt: JwtExtendedService) {}

  /** A library exception thrown in a handler, not by the guard. */
  @MessagePattern('decode')
  @JwtPublic()
  decode(@Payload() data: { token: string }) {
    return this.jwt.decodeToken(data.token);
  }

  @MessagePattern('me')
  @JwtRequired()
  me(@JwtIdentity() identity: unknown, @JwtLocation() location: unknown, @Jwt('type') type: unknown, @CurrentUser() user: unknown) {
    return { identity, location, type, user };
  }

  @MessagePattern('fresh')
  @JwtRequired({ fresh: true })
  fresh(@JwtIdentity() identity: unknown) {
    return { identity };
  }

  @MessagePattern('refresh')
  @JwtRequired({ refresh: true })
  refresh(@JwtIdentity() identity: unknown) {
    return { identity };
  }

  @MessagePattern('optional')
  @JwtRequired({ optional: true })
  optional(@Jwt() payload: JwtPayload, @JwtLocation() location: unknown) {
    return { payload, location };
  }

  @MessagePattern('public')
  @JwtPublic()
  open(@Jwt() payload: JwtPayload, @Payload() data: unknown) {
    return { payload, data };
  }

  /** Only the global guard protects it. */
  @MessagePattern('undeclared')
  undeclared(@Payload() data: unknown) {
    return { data };
  }
}

async function send(client: ClientProxy, pattern: string, data: object): Promise<unknown> {
  return lastValueFrom(client.send(pattern, data));
}

/** What a TCP client receives for a failed message: the RpcException's error. */
async function failure(client: ClientProxy, pattern: string, data: object): Promise<unknown> {
  return send(client, pattern, data).then(
    (result) => ({ unexpectedResult: result }),
    (error: unknown) => error,
  );
}

/** A TCP microservice with TcpController and a TCP client for the describe block, closed after it. */
function useTcpApp(
  setup: Omit<Parameters<typeof createRpcApp>[0], 'transport' | 'controllers'>,
  assign: (started: { t: RpcTestApp; client: ClientProxy }) => void,
): void {
  let started: { t: RpcTestApp; client: ClientProxy } | undefined;
  beforeAll(async () => {
    const t = await createRpcApp({ transport: 'tcp', controllers: [TcpController], ...setup });
    started = { t, client: ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port: t.port } }) };
    assign(started);
  });
  afterAll(async () => {
    await started?.client.close();
    await started?.t.close();
  });
}

describe('TCP microservice: the token is the payload field jsonKey', () => {
  let t: RpcTestApp;
  let client: ClientProxy;
  useTcpApp({ loaders: SUBJECT_CHECKS }, (started) => ({ t, client } = started));

  it('runs the handler for a valid access token; param decorators see the message state', async () => {
    expect(await send(client, 'me', { access_token: await t.jwt.createAccessToken('alice') })).toEqual({
      identity: 'alice',
      location: 'json',
      type: 'access',
      user: { id: 'alice' },
    });
  });
  it('refuses a message without a token with the §6 status and message', async () => {
    expect(await failure(client, 'me', { other: 1 })).toEqual({ status: 401, msg: 'Missing "access_token" key in json data.' });
  });
  it('refuses an expired token', async () => {
    const token = await t.jwt.createAccessToken('alice', { expiresDelta: -1 });
    expect(await failure(client, 'me', { access_token: token })).toEqual({ status: 401, msg: 'Token has expired' });
  });
  it('refuses a refresh token where an access token is required, and the reverse', async () => {
    const refresh = await t.jwt.createRefreshToken('alice');
    expect(await failure(client, 'me', { access_token: refresh })).toEqual({ status: 422, msg: 'Only non-refresh tokens are allowed' });
    const access = await t.jwt.createAccessToken('alice');
    expect(await failure(client, 'refresh', { refresh_token: access })).toEqual({ status: 422, msg: 'Only refresh tokens are allowed' });
  });
  it('reads a refresh token from refreshJsonKey', async () => {
    expect(await send(client, 'refresh', { refresh_token: await t.jwt.createRefreshToken('alice') })).toEqual({ identity: 'alice' });
    expect(await failure(client, 'refresh', { access_token: await t.jwt.createRefreshToken('alice') })).toEqual({
      status: 401,
      msg: 'Missing "refresh_token" key in json data.',
    });
  });
  it('requires a fresh token where fresh is asked for', async () => {
    expect(await failure(client, 'fresh', { access_token: await t.jwt.createAccessToken('alice') })).toEqual({
      status: 401,
      msg: 'Fresh token required',
    });
    expect(await send(client, 'fresh', { access_token: await t.jwt.createAccessToken('alice', { fresh: true }) })).toEqual({
      identity: 'alice',
    });
  });
  it('refuses a revoked token, a failed claims check and an unknown user', async () => {
    expect(await failure(client, 'me', { access_token: await t.jwt.createAccessToken('revoked') })).toEqual({
      status: 401,
      msg: 'Token has been revoked',
    });
    expect(await failure(client, 'me', { access_token: await t.jwt.createAccessToken('unverified') })).toEqual({
      status: 400,
      msg: 'User claims verification failed',
    });
    expect(await failure(client, 'me', { access_token: await t.jwt.createAccessToken('ghost') })).toEqual({
      status: 401,
      msg: 'Error loading the user ghost',
    });
  });
  it('refuses a malformed token and a token that is not a string', async () => {
    expect(await failure(client, 'me', { access_token: 'not.a.token' })).toMatchObject({ status: 422 });
    expect(await failure(client, 'me', { access_token: 42 })).toEqual({ status: 422, msg: 'Invalid token type. Token must be a string' });
  });
  it('optional: no token runs the handler with the "no token" state; a bad one still fails', async () => {
    expect(await send(client, 'optional', {})).toEqual({ payload: {}, location: null });
    expect(await failure(client, 'optional', { access_token: 'x.y.z' })).toMatchObject({ status: 422 });
  });
  it('@JwtPublic(): no token is read, an expired one does not fail', async () => {
    const expired = await t.jwt.createAccessToken('alice', { expiresDelta: -1 });
    expect(await send(client, 'public', { access_token: expired })).toEqual({ payload: {}, data: { access_token: expired } });
  });
  it('keeps the state per message: concurrent messages on one connection each see their own token', async () => {
    const subjects = ['alice', 'bob', 'carol', 'dave'];
    const tokens = await Promise.all(subjects.map((subject) => t.jwt.createAccessToken(subject)));
    const results = await Promise.all(tokens.map((token) => send(client, 'me', { access_token: token })));
    expect(results.map((result) => (result as { identity: string }).identity)).toEqual(subjects);
    // A message without a token after good ones on the same connection is still refused.
    expect(await failure(client, 'me', {})).toMatchObject({ status: 401 });
  });
  it('a handler without a declaration is open when no global guard is configured', async () => {
    expect(await send(client, 'undeclared', { x: 1 })).toEqual({ data: { x: 1 } });
  });
});

describe('TCP microservice with globalGuard', () => {
  let t: RpcTestApp;
  let client: ClientProxy;
  useTcpApp({ globalGuard: true }, (started) => ({ t, client } = started));

  it('protects an undeclared handler', async () => {
    expect(await failure(client, 'undeclared', {})).toEqual({ status: 401, msg: 'Missing "access_token" key in json data.' });
    const token = await t.jwt.createAccessToken('alice');
    expect(await send(client, 'undeclared', { access_token: token })).toEqual({ data: { access_token: token } });
  });
  it('leaves a @JwtPublic() handler open', async () => {
    expect(await send(client, 'public', {})).toEqual({ payload: {}, data: {} });
  });
});

@Injectable()
class ShapedErrors implements UnauthorizedLoader, InvalidTokenLoader {
  onUnauthorized(reason: string) {
    return new UnauthorizedException({ reason, shapedBy: 'unauthorized' });
  }
  onInvalidToken(reason: string) {
    return new UnprocessableEntityException({ reason, shapedBy: 'invalidToken' });
  }
}

describe('TCP microservice with error loaders', () => {
  let t: RpcTestApp;
  let client: ClientProxy;
  useTcpApp(
    {
      loaders: { unauthorized: ShapedErrors, invalidToken: ShapedErrors },
    },
    (started) => ({ t, client } = started),
  );

  it("the loader's HttpException becomes the RPC error, with its status", async () => {
    expect(await failure(client, 'me', {})).toEqual({
      status: 401,
      reason: 'Missing "access_token" key in json data.',
      shapedBy: 'unauthorized',
    });
    expect(await failure(client, 'me', { access_token: await t.jwt.createRefreshToken('alice') })).toEqual({
      status: 422,
      reason: 'Only non-refresh tokens are allowed',
      shapedBy: 'invalidToken',
    });
  });
  it('shapes a library exception a handler throws (decodeToken) too', async () => {
    expect(await failure(client, 'decode', { token: 'not-a-token' })).toMatchObject({ status: 422, shapedBy: 'invalidToken' });
  });
  it('an error no loader shapes keeps the default body', async () => {
    const token = await t.jwt.createAccessToken('alice', { expiresDelta: -1 });
    expect(await failure(client, 'me', { access_token: token })).toEqual({ status: 401, msg: 'Token has expired' });
  });
});

describe.each([
  [
    "errorFormat 'nest'",
    { errorFormat: 'nest' },
    {},
    { status: 401, statusCode: 401, message: 'Missing "access_token" key in json data.', error: 'Unauthorized', code: 'NO_AUTHORIZATION' },
  ],
  ['a custom errorMessageKey', { errorMessageKey: 'error' }, 'refresh', { status: 422, error: 'Only non-refresh tokens are allowed' }],
] as const)('TCP microservice with %s', (_name, options, presented, body) => {
  let t: RpcTestApp;
  let client: ClientProxy;
  useTcpApp(
    {
      module: JwtExtendedModule.forRoot({ secretKey: SECRET, ...TOKEN_CACHE, ...options }),
    },
    (started) => ({ t, client } = started),
  );

  it("the failure carries { status } beside the module's error body", async () => {
    const payload = presented === 'refresh' ? { access_token: await t.jwt.createRefreshToken('alice') } : {};
    expect(await failure(client, 'me', payload)).toEqual(body);
  });
});
