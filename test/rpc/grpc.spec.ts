import { Controller, Injectable, UnauthorizedException } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Client, credentials, loadPackageDefinition, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { CurrentUser, JwtIdentity, JwtLocation, JwtPublic, JwtRequired, type UnauthorizedLoader } from '../../lib/index.js';
import { SUBJECT_CHECKS } from '../support/loaders.js';
import { createRpcApp, PROTO_PATH, type RpcTestApp } from './rpc-app.js';

interface Identity {
  identity?: string;
  location?: string;
  user?: string;
}

const describeUser = (user: unknown) => (user === null ? '' : JSON.stringify(user));

@Controller()
class AuthController {
  @GrpcMethod('Auth', 'Me')
  @JwtRequired()
  me(@JwtIdentity() identity: string, @JwtLocation() location: string, @CurrentUser() user: unknown): Identity {
    return { identity, location, user: describeUser(user) };
  }

  @GrpcMethod('Auth', 'Fresh')
  @JwtRequired({ fresh: true })
  fresh(@JwtIdentity() identity: string): Identity {
    return { identity };
  }

  @GrpcMethod('Auth', 'Refresh')
  @JwtRequired({ refresh: true })
  refresh(@JwtIdentity() identity: string): Identity {
    return { identity };
  }

  @GrpcMethod('Auth', 'Public')
  @JwtPublic()
  open(@JwtLocation() location: string | null): Identity {
    return { location: String(location) };
  }

  @GrpcMethod('Auth', 'FromPayload')
  @JwtRequired({ locations: ['json'] })
  fromPayload(@JwtIdentity() identity: string, @JwtLocation() location: string): Identity {
    return { identity, location };
  }

  /** Only the global guard protects it. */
  @GrpcMethod('Auth', 'Undeclared')
  undeclared(): Identity {
    return { identity: 'open' };
  }
}

type Call = (request: object, metadata: Metadata, callback: (error: ServiceError | null, response?: Identity) => void) => void;
type AuthClient = Client & Record<'Me' | 'Fresh' | 'Refresh' | 'Public' | 'Undeclared' | 'FromPayload', Call>;

function grpcClient(port: number): AuthClient {
  const definition = loadPackageDefinition(loadSync(PROTO_PATH, { keepCase: true })) as unknown as {
    auth: { Auth: new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => AuthClient };
  };
  return new definition.auth.Auth(`127.0.0.1:${port}`, credentials.createInsecure());
}

/** Metadata with an `authorization` entry, as a gRPC client sends a bearer token. */
function withToken(value?: string): Metadata {
  const metadata = new Metadata();
  if (value !== undefined) metadata.set('authorization', value);
  return metadata;
}

function call(
  client: AuthClient,
  method: keyof Pick<AuthClient, 'Me' | 'Fresh' | 'Refresh' | 'Public' | 'Undeclared' | 'FromPayload'>,
  metadata: Metadata,
  request: object = {},
) {
  return new Promise<Identity>((resolve, reject) => {
    client[method](request, metadata, (error, response) => (error ? reject(error) : resolve(response ?? {})));
  });
}

/** The gRPC status a call failed with: code and details. */
async function failure(promise: Promise<Identity>): Promise<{ code: number; details: string } | { unexpected: Identity }> {
  return promise.then(
    (response) => ({ unexpected: response }),
    (error: ServiceError) => ({ code: error.code, details: error.details }),
  );
}

describe('gRPC microservice: the token is the metadata authorization', () => {
  let t: RpcTestApp;
  let client: AuthClient;
  beforeAll(async () => {
    t = await createRpcApp({ transport: 'grpc', controllers: [AuthController], loaders: SUBJECT_CHECKS });
    client = grpcClient(t.port);
  });
  afterAll(async () => {
    client.close();
    await t.close();
  });

  it('runs the handler for a valid bearer token; param decorators see the call state', async () => {
    const token = await t.jwt.createAccessToken('alice');
    expect(await call(client, 'Me', withToken(`Bearer ${token}`))).toEqual({
      identity: 'alice',
      location: 'headers',
      user: JSON.stringify({ id: 'alice' }),
    });
  });
  it('refuses a call without a token: UNAUTHENTICATED with the §6 message', async () => {
    expect(await failure(call(client, 'Me', withToken()))).toEqual({
      code: status.UNAUTHENTICATED,
      details: 'Missing Authorization Header',
    });
  });
  it('a token in the payload is not read: the token of a gRPC call is its metadata', async () => {
    const token = await t.jwt.createAccessToken('alice');
    expect(await failure(call(client, 'Me', withToken(), { access_token: token }))).toEqual({
      code: status.UNAUTHENTICATED,
      details: 'Missing Authorization Header',
    });
  });
  it("a handler's @JwtRequired({ locations: ['json'] }) reads the request message's access_token instead", async () => {
    const token = await t.jwt.createAccessToken('alice');
    expect(await call(client, 'FromPayload', withToken(), { access_token: token })).toEqual({ identity: 'alice', location: 'json' });
    expect(await failure(call(client, 'FromPayload', withToken(`Bearer ${token}`)))).toEqual({
      code: status.UNAUTHENTICATED,
      details: 'Missing "access_token" key in json data.',
    });
  });
  it('applies the header rules: a missing Bearer type, a bad header', async () => {
    const token = await t.jwt.createAccessToken('alice');
    expect(await failure(call(client, 'Me', withToken(token)))).toEqual({
      code: status.UNAUTHENTICATED,
      details: "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'",
    });
    expect(await failure(call(client, 'Me', withToken(`Bearer ${token} extra`)))).toEqual({
      code: status.INVALID_ARGUMENT,
      details: "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'",
    });
  });
  it('refuses an expired token', async () => {
    const token = await t.jwt.createAccessToken('alice', { expiresDelta: -1 });
    expect(await failure(call(client, 'Me', withToken(`Bearer ${token}`)))).toEqual({
      code: status.UNAUTHENTICATED,
      details: 'Token has expired',
    });
  });
  it('refuses the wrong token type both ways', async () => {
    const refresh = await t.jwt.createRefreshToken('alice');
    expect(await failure(call(client, 'Me', withToken(`Bearer ${refresh}`)))).toEqual({
      code: status.INVALID_ARGUMENT,
      details: 'Only non-refresh tokens are allowed',
    });
    const access = await t.jwt.createAccessToken('alice');
    expect(await failure(call(client, 'Refresh', withToken(`Bearer ${access}`)))).toEqual({
      code: status.INVALID_ARGUMENT,
      details: 'Only refresh tokens are allowed',
    });
    expect(await call(client, 'Refresh', withToken(`Bearer ${refresh}`))).toEqual({ identity: 'alice' });
  });
  it('requires a fresh token where fresh is asked for', async () => {
    const stale = await t.jwt.createAccessToken('alice');
    expect(await failure(call(client, 'Fresh', withToken(`Bearer ${stale}`)))).toEqual({
      code: status.UNAUTHENTICATED,
      details: 'Fresh token required',
    });
    const fresh = await t.jwt.createAccessToken('alice', { fresh: true });
    expect(await call(client, 'Fresh', withToken(`Bearer ${fresh}`))).toEqual({ identity: 'alice' });
  });
  it('refuses a revoked token and an unknown user', async () => {
    const revoked = await t.jwt.createAccessToken('revoked');
    expect(await failure(call(client, 'Me', withToken(`Bearer ${revoked}`)))).toEqual({
      code: status.UNAUTHENTICATED,
      details: 'Token has been revoked',
    });
    const ghost = await t.jwt.createAccessToken('ghost');
    expect(await failure(call(client, 'Me', withToken(`Bearer ${ghost}`)))).toEqual({
      code: status.UNAUTHENTICATED,
      details: 'Error loading the user ghost',
    });
  });
  it('@JwtPublic(): no token is read, an expired one does not fail', async () => {
    const expired = await t.jwt.createAccessToken('alice', { expiresDelta: -1 });
    expect(await call(client, 'Public', withToken(`Bearer ${expired}`))).toEqual({ location: 'null' });
  });
  it('keeps the state per call: concurrent calls each see their own token', async () => {
    const subjects = ['alice', 'bob', 'carol', 'dave'];
    const tokens = await Promise.all(subjects.map((subject) => t.jwt.createAccessToken(subject)));
    const results = await Promise.all(tokens.map((token) => call(client, 'Me', withToken(`Bearer ${token}`))));
    expect(results.map((result) => result.identity)).toEqual(subjects);
  });
});

describe('gRPC microservice with globalGuard', () => {
  let t: RpcTestApp;
  let client: AuthClient;
  beforeAll(async () => {
    t = await createRpcApp({ transport: 'grpc', controllers: [AuthController], globalGuard: true });
    client = grpcClient(t.port);
  });
  afterAll(async () => {
    client.close();
    await t.close();
  });

  it('protects an undeclared method and leaves @JwtPublic() open', async () => {
    expect(await failure(call(client, 'Undeclared', withToken()))).toEqual({
      code: status.UNAUTHENTICATED,
      details: 'Missing Authorization Header',
    });
    const token = await t.jwt.createAccessToken('alice');
    expect(await call(client, 'Undeclared', withToken(`Bearer ${token}`))).toEqual({ identity: 'open' });
    expect(await call(client, 'Public', withToken())).toEqual({ location: 'null' });
  });
});

@Injectable()
class ShapedUnauthorized implements UnauthorizedLoader {
  onUnauthorized(reason: string) {
    return new UnauthorizedException(`custom: ${reason}`);
  }
}

describe('gRPC microservice with an error loader', () => {
  let t: RpcTestApp;
  let client: AuthClient;
  beforeAll(async () => {
    t = await createRpcApp({ transport: 'grpc', controllers: [AuthController], loaders: { unauthorized: ShapedUnauthorized } });
    client = grpcClient(t.port);
  });
  afterAll(async () => {
    client.close();
    await t.close();
  });

  it("the loader's HttpException is the gRPC status and details", async () => {
    expect(await failure(call(client, 'Me', withToken()))).toEqual({
      code: status.UNAUTHENTICATED,
      details: 'custom: Missing Authorization Header',
    });
  });
});
