import 'reflect-metadata';
import type { IncomingMessage } from 'node:http';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { WsAdapter } from '@nestjs/platform-ws';
import { type OnGatewayConnection, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { JwtExtendedModule, JwtExtendedService, JwtIdentity, JwtRequired, rememberHandshake } from 'nestjs-jwt-extended';
import { io } from 'socket.io-client';
import { WebSocket } from 'ws';
import { compare, fmt, table } from './stats.js';

const SECRET = 'bench-secret-that-is-at-least-32-bytes-long';
/** Messages in flight per measured operation: a client that pipelines, as chat clients do. */
const IN_FLIGHT = 16;

@WebSocketGateway()
class BenchGateway implements OnGatewayConnection {
  /** The ws adapter hands the upgrade request over only here. */
  handleConnection(client: object, request?: IncomingMessage) {
    if (request) rememberHandshake(client, request);
  }

  @SubscribeMessage('open')
  open() {
    return { ok: true };
  }

  @JwtRequired()
  @SubscribeMessage('guarded')
  guarded(@JwtIdentity() identity: unknown) {
    return { ok: identity === 'bench-user' };
  }
}

@Module({ imports: [JwtExtendedModule.forRoot({ secretKey: SECRET })], providers: [BenchGateway] })
class WsBenchModule {}

type Send = (event: string) => Promise<unknown>;

async function socketIoClient(url: string, token: string): Promise<{ send: Send; close: () => void }> {
  const socket = io(url, { transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true });
  await new Promise<void>((resolve, reject) => socket.once('connect', () => resolve()).once('connect_error', reject));
  return { send: (event) => socket.emitWithAck(event, {}), close: () => socket.close() };
}

async function wsClient(url: string, token: string): Promise<{ send: Send; close: () => void }> {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), { headers: { authorization: `Bearer ${token}` } });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  // Answers come back in order: each resolves the oldest waiting message.
  const waiting: ((answer: unknown) => void)[] = [];
  socket.on('message', (data) => waiting.shift()?.(JSON.parse(String(data))));
  return {
    send: (event) =>
      new Promise((resolve) => {
        waiting.push(resolve);
        socket.send(JSON.stringify({ event, data: {} }));
      }),
    close: () => socket.close(),
  };
}

/**
 * A message to a `@JwtRequired()` handler (the guard verifies the handshake token on every
 * message) against the same gateway's unguarded handler, on socket.io and on `ws`: server and
 * client in this process on 127.0.0.1, alternating rounds, medians.
 */
export async function runWs(rounds: number, ms: number): Promise<string> {
  const rows: string[][] = [];
  for (const kind of ['socket.io', 'ws'] as const) {
    const app = await NestFactory.create(WsBenchModule, { logger: false });
    app.useWebSocketAdapter(kind === 'socket.io' ? new IoAdapter(app) : new WsAdapter(app));
    await app.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    const token = await app.get(JwtExtendedService).createAccessToken('bench-user');
    const client = await (kind === 'socket.io' ? socketIoClient(url, token) : wsClient(url, token));
    const burst = (event: string) => () => Promise.all(Array.from({ length: IN_FLIGHT }, () => client.send(event)));
    try {
      const answer = (await client.send('guarded')) as { ok?: boolean };
      if (answer.ok !== true) throw new Error(`${kind}: the guarded handler answered ${JSON.stringify(answer)}`);
      const results = await compare(
        [
          { name: 'open', run: burst('open') },
          { name: 'guarded', run: burst('guarded') },
        ],
        { rounds, ms },
      );
      const open = results.get('open')! * IN_FLIGHT;
      const guarded = results.get('guarded')! * IN_FLIGHT;
      rows.push([kind, 'unguarded @SubscribeMessage', fmt(open), `${fmt(1e6 / open, 1)} µs`, '1.00×']);
      rows.push([kind, '@JwtRequired() @SubscribeMessage', fmt(guarded), `${fmt(1e6 / guarded, 1)} µs`, `${fmt(guarded / open, 2)}×`]);
    } finally {
      client.close();
      await app.close();
    }
  }
  return table(['adapter', 'handler', 'messages/s', 'per message', 'vs unguarded'], rows);
}
