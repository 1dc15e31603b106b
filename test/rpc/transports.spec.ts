import { Controller, Get, type INestApplication, Injectable, UnauthorizedException } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import {
  ClientProxyFactory,
  type ClientProxy,
  KafkaContext,
  MessagePattern,
  type MicroserviceOptions,
  MqttContext,
  NatsContext,
  RmqContext,
  RpcException,
  TcpContext,
  Transport,
} from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { Metadata } from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { lastValueFrom } from 'rxjs';
import request from 'supertest';
import {
  type ExpiredTokenLoader,
  JwtExtendedModule,
  JwtExtendedService,
  JwtGuard,
  JwtIdentity,
  JwtLocation,
  JwtRequired,
} from '../../lib/index.js';
import { bearer } from '../support/http.js';
import { SECRET, TOKEN_CACHE, listenOnLoopback } from '../support/app.js';
import { freePort } from '../support/redis-server.js';
import { createRpcApp, type RpcTestApp } from './rpc-app.js';

@Controller()
class HeaderController {
  @MessagePattern('me')
  @JwtRequired()
  me(@JwtIdentity() identity: unknown, @JwtLocation() location: unknown) {
    return { identity, location };
  }

  @MessagePattern('me-by-header')
  @JwtRequired({ locations: ['headers'] })
  byHeader(@JwtIdentity() identity: unknown, @JwtLocation() location: unknown) {
    return { identity, location };
  }

  @MessagePattern('by-cookie')
  @JwtRequired({ locations: ['cookies'] })
  byCookie() {
    return 'ran';
  }

  /** Only a global guard protects it. */
  @MessagePattern('undeclared')
  undeclared() {
    return 'ran';
  }

  @Get('undeclared')
  undeclaredRoute() {
    return 'ran';
  }
}

@Injectable()
class ShapedExpiry implements ExpiredTokenLoader {
  onExpiredToken() {
    return new UnauthorizedException({ shaped: 'expired' });
  }
}

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    (result) => ({ unexpected: result }),
    (error: unknown) => error,
  );

describe('TCP packet metadata (Nest 12 dispatch hook) with @JwtRequired({ locations: ["headers"] })', () => {
  let t: RpcTestApp;
  let client: ClientProxy;
  let metadata: Record<string, string> | undefined;
  beforeAll(async () => {
    t = await createRpcApp({ transport: 'tcp', controllers: [HeaderController] });
    client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port: t.port } });
    client.setOnDispatchHook((packet) => {
      packet.metadata = metadata;
    });
  });
  afterEach(() => {
    metadata = undefined;
  });
  afterAll(async () => {
    await client.close();
    await t.close();
  });

  it("reads the packet metadata's authorization", async () => {
    metadata = { authorization: `Bearer ${await t.jwt.createAccessToken('alice')}` };
    expect(await lastValueFrom(client.send('me-by-header', {}))).toEqual({ identity: 'alice', location: 'headers' });
  });
  it('without metadata: the header message', async () => {
    expect(await failureOf(lastValueFrom(client.send('me-by-header', {})))).toEqual({ status: 401, msg: 'Missing Authorization Header' });
  });
  it('a handler without locations still reads the payload on TCP, not the metadata', async () => {
    metadata = { authorization: `Bearer ${await t.jwt.createAccessToken('alice')}` };
    expect(await failureOf(lastValueFrom(client.send('me', {})))).toEqual({ status: 401, msg: 'Missing "access_token" key in json data.' });
  });
});

describe('header-carrying transports (NATS, RabbitMQ, Kafka, MQTT): their message headers', () => {
  let t: RpcTestApp;
  beforeAll(async () => {
    t = await createRpcApp({ transport: 'tcp', controllers: [HeaderController] });
  });
  afterAll(() => t.close());

  // No broker runs here: the guard gets Nest's own context classes, shaped as each server builds them.
  const contexts: Record<string, (authorization?: string) => object> = {
    NATS: (authorization) =>
      new NatsContext(['subject', authorization === undefined ? undefined : natsHeaders({ Authorization: authorization })]),
    RabbitMQ: (authorization) =>
      new RmqContext([
        { properties: { headers: authorization === undefined ? {} : { authorization } }, content: Buffer.from('{}') },
        {},
        'me',
      ]),
    Kafka: (authorization) =>
      new KafkaContext([
        { headers: authorization === undefined ? {} : { authorization: Buffer.from(authorization) }, value: null },
        0,
        'topic',
        {} as never,
        async () => {},
        {} as never,
      ] as never),
    MQTT: (authorization) =>
      new MqttContext(['topic', { properties: { userProperties: authorization === undefined ? {} : { authorization } } }] as never),
  };

  /** A NATS `MsgHdrs`-like object: names from keys(), the first value from get(). */
  function natsHeaders(values: Record<string, string>) {
    return {
      keys: () => Object.keys(values),
      get: (name: string) => values[name] ?? '',
    };
  }

  async function guard(transportContext: object, payload: object = {}, method: keyof HeaderController = 'me') {
    const handler = Object.getOwnPropertyDescriptor(HeaderController.prototype, method)!.value as () => unknown;
    const context = new ExecutionContextHost([payload, transportContext], HeaderController, handler);
    context.setType('rpc');
    return await t.app.get(JwtGuard).canActivate(context);
  }

  for (const [transport, contextWith] of Object.entries(contexts)) {
    it(`${transport}: a valid bearer header passes, none fails with the header message, a payload token is not read`, async () => {
      const token = await t.jwt.createAccessToken('alice');
      await expect(guard(contextWith(`Bearer ${token}`))).resolves.toBe(true);
      const missing = await failureOf(guard(contextWith(), { access_token: token }));
      expect(missing).toBeInstanceOf(RpcException);
      expect((missing as RpcException).getError()).toEqual({ status: 401, msg: 'Missing Authorization Header' });
      const expired = await failureOf(guard(contextWith(`Bearer ${await t.jwt.createAccessToken('alice', { expiresDelta: -1 })}`)));
      expect((expired as RpcException).getError()).toEqual({ status: 401, msg: 'Token has expired' });
    });
  }
});

describe('message state and metadata the library does not trust', () => {
  let t: RpcTestApp;
  beforeAll(async () => {
    t = await createRpcApp({ transport: 'tcp', controllers: [HeaderController] });
  });
  afterAll(() => t.close());

  async function guard(args: unknown[], method: keyof HeaderController) {
    const handler = Object.getOwnPropertyDescriptor(HeaderController.prototype, method)!.value as () => unknown;
    const context = new ExecutionContextHost(args, HeaderController, handler);
    context.setType('rpc');
    return await t.app.get(JwtGuard).canActivate(context);
  }

  it('a transport that reuses one context object for every message still verifies each message', async () => {
    const shared = new TcpContext([{} as never, 'me']);
    await expect(guard([{ access_token: await t.jwt.createAccessToken('alice') }, shared], 'me')).resolves.toBe(true);
    const next = await failureOf(guard([{}, shared], 'me'));
    expect((next as RpcException).getError()).toEqual({ status: 401, msg: 'Missing "access_token" key in json data.' });
  });
  it('a cookie in gRPC metadata is never a token (a gateway may forward a browser cookie without CSRF)', async () => {
    const metadata = new Metadata();
    metadata.set('cookie', `access_token_cookie=${await t.jwt.createAccessToken('alice')}`);
    const refused = await failureOf(guard([{}, metadata, {}], 'byCookie'));
    expect((refused as RpcException).getError()).toMatchObject({ status: 401, msg: 'Missing cookie "access_token_cookie"' });
  });
});

describe('a hybrid app (HTTP + connectMicroservice) with globalGuard', () => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function hybrid(inheritAppConfig: boolean) {
    const moduleRef = await Test.createTestingModule({
      imports: [
        JwtExtendedModule.forRoot({ secretKey: SECRET, ...TOKEN_CACHE, globalGuard: true, loaders: { expiredToken: ShapedExpiry } }),
      ],
      controllers: [HeaderController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    const port = await freePort();
    app.connectMicroservice<MicroserviceOptions>({ transport: Transport.TCP, options: { host: '127.0.0.1', port } }, { inheritAppConfig });
    await app.startAllMicroservices();
    const url = await listenOnLoopback(app);
    const client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
    const send = (data: object, pattern = 'undeclared') => lastValueFrom(client.send(pattern, data));
    return { url, client, send, jwt: app.get(JwtExtendedService) };
  }

  it('inheritAppConfig: true — the global guard protects microservice handlers too', async () => {
    const { url, client, send, jwt } = await hybrid(true);
    try {
      await request(url).get('/undeclared').expect(401);
      expect(await failureOf(send({}))).toEqual({ status: 401, msg: 'Missing "access_token" key in json data.' });
      const token = await jwt.createAccessToken('alice');
      expect(await send({ access_token: token })).toBe('ran');
      await request(url).get('/undeclared').set(bearer(token)).expect(200);
      // APP_FILTER too: the error loader shapes the microservice's failures.
      const expired = await jwt.createAccessToken('alice', { expiresDelta: -1 });
      expect(await failureOf(send({ access_token: expired }, 'me'))).toEqual({ status: 401, shaped: 'expired' });
    } finally {
      await client.close();
    }
  });
  it('without inheritAppConfig Nest gives the microservice its own app config: APP_GUARD and APP_FILTER do not reach it', async () => {
    const { url, client, send, jwt } = await hybrid(false);
    try {
      await request(url).get('/undeclared').expect(401);
      expect(await send({})).toBe('ran');
      // Nor APP_FILTER: a declared handler is guarded, its errors keep the default body.
      const expired = await jwt.createAccessToken('alice', { expiresDelta: -1 });
      expect(await failureOf(send({ access_token: expired }, 'me'))).toEqual({ status: 401, msg: 'Token has expired' });
    } finally {
      await client.close();
    }
  });
});
