import type { IncomingMessage } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { WsAdapter } from '@nestjs/platform-ws';
import { io } from 'socket.io-client';
import { WebSocket } from 'ws';
import { rememberHandshake } from '../../lib/index.js';
import type { AdapterName } from '../support/app.js';

/** The two Nest WebSocket adapters. */
export type WsKind = 'socket.io' | 'ws';
export const WS_KINDS: WsKind[] = ['socket.io', 'ws'];

/** Every WebSocket adapter on every HTTP adapter. */
export const WS_MATRIX: [WsKind, AdapterName][] = [
  ['socket.io', 'express'],
  ['socket.io', 'fastify'],
  ['ws', 'express'],
  ['ws', 'fastify'],
];

/** `beforeInit` of createTestApp: the app's gateways use `kind`. */
export function useWsAdapter(kind: WsKind) {
  return (app: INestApplication) => {
    app.useWebSocketAdapter(kind === 'socket.io' ? new IoAdapter(app) : new WsAdapter(app));
  };
}

/** What a handshake carries. `auth` is socket.io only. */
export interface Handshake {
  headers?: Record<string, string>;
  query?: Record<string, string>;
  auth?: Record<string, unknown>;
}

/** A message the server pushed: an event name and its data (`exception` for errors). */
export interface Pushed {
  event: string;
  data: unknown;
}

/** A handler's answer, or the error the client received instead. */
export type Reply = { data: unknown } | { error: unknown };

export interface TestWsClient {
  /** Sends `event` to a `@SubscribeMessage` handler and waits for its answer or an `exception`. */
  call(event: string, data?: unknown): Promise<Reply>;
  /** The next message the server pushes (outside answers to `call`). */
  next(): Promise<Pushed>;
  /** Resolves when the server closes the connection. */
  closed: Promise<void>;
  close(): void;
}

/** A real client of `kind` connected to the app at `url` with `handshake`. */
export function connect(kind: WsKind, url: string, handshake: Handshake = {}): Promise<TestWsClient> {
  return kind === 'socket.io' ? connectSocketIo(url, handshake) : connectWs(url, handshake);
}

/** Pushed messages in arrival order, handed to whoever waits for them. */
class Inbox {
  private readonly queue: Pushed[] = [];
  private readonly waiting: ((message: Pushed) => void)[] = [];
  push(message: Pushed): void {
    const waiter = this.waiting.shift();
    if (waiter) waiter(message);
    else this.queue.push(message);
  }
  next(): Promise<Pushed> {
    const queued = this.queue.shift();
    return queued ? Promise.resolve(queued) : new Promise((resolve) => this.waiting.push(resolve));
  }
}

function connectSocketIo(url: string, handshake: Handshake): Promise<TestWsClient> {
  const socket = io(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    extraHeaders: handshake.headers,
    query: handshake.query,
    auth: handshake.auth,
  });
  const inbox = new Inbox();
  // An `exception` while a call waits is that call's answer; anything else is a push.
  let failCall: ((error: unknown) => void) | undefined;
  socket.onAny((event: string, data: unknown) => {
    if (event === 'exception' && failCall) failCall(data);
    else inbox.push({ event, data });
  });
  const closed = new Promise<void>((resolve) => socket.on('disconnect', () => resolve()));
  const client: TestWsClient = {
    call: (event, data) =>
      new Promise<Reply>((resolve) => {
        failCall = (error) => {
          failCall = undefined;
          resolve({ error });
        };
        socket.emit(event, data, (value: unknown) => {
          failCall = undefined;
          resolve({ data: value });
        });
      }),
    next: () => inbox.next(),
    closed,
    close: () => socket.close(),
  };
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(client));
    socket.once('connect_error', reject);
  });
}

function connectWs(url: string, handshake: Handshake): Promise<TestWsClient> {
  const query = new URLSearchParams(handshake.query).toString();
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/${query ? `?${query}` : ''}`, { headers: handshake.headers });
  const inbox = new Inbox();
  socket.on('message', (raw) => {
    const message = JSON.parse(String(raw)) as Partial<Pushed>;
    // A handler's answer is its return value as JSON; Nest's errors and gateway pushes are { event, data }.
    inbox.push(typeof message.event === 'string' ? (message as Pushed) : { event: 'answer', data: message });
  });
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  const client: TestWsClient = {
    call: async (event, data) => {
      socket.send(JSON.stringify({ event, data }));
      const message = await inbox.next();
      return message.event === 'exception' ? { error: message.data } : { data: message.data };
    },
    next: () => inbox.next(),
    closed,
    close: () => socket.close(),
  };
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(client));
    socket.once('error', reject);
  });
}

/**
 * A server-side `ws` client, told apart as Nest does (a numeric `readyState`): the WsAdapter
 * loads its own copy of `ws`, so `instanceof` cannot tell.
 */
function isNativeWebSocket(client: object): client is WebSocket {
  return typeof (client as { readyState?: unknown }).readyState === 'number';
}

/** Where a gateway pushes a message to one client of either adapter. */
export function push(client: object, event: string, data: unknown): void {
  if (isNativeWebSocket(client)) client.send(JSON.stringify({ event, data }));
  else (client as { emit(event: string, data: unknown): void }).emit(event, data);
}

/** Closes one client of either adapter. */
export function disconnect(client: object): void {
  if (isNativeWebSocket(client)) client.close();
  else (client as { disconnect(close: boolean): void }).disconnect(true);
}

/**
 * `handleConnection(client, request)` of a gateway: with the ws adapter the request arrives
 * here and nowhere else, so it is handed to the library. The URL tells the gateway what to do.
 */
export function handshakeUrl(client: object, request: IncomingMessage | undefined): string {
  if (request) {
    rememberHandshake(client, request);
    return request.url ?? '';
  }
  return (client as { handshake: { url: string } }).handshake.url;
}
