/*
 * WebSocket gateways (`@nestjs/websockets`, socket.io and `ws` adapters). The token lives in the
 * connection's handshake; the guard runs on every `@SubscribeMessage` message. Nothing here
 * imports `@nestjs/websockets` at load time: an HTTP-only app never loads it, and `WsException`
 * is imported (the app's own copy, which Nest's WS exception filter recognises) the first time
 * a WebSocket failure needs one.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { type ExecutionContext, HttpException } from '@nestjs/common';
import type { JwtExtendedConfig } from '../../config/jwt-extended-config.js';
import { errorResponseOf } from '../../errors/error-responder.service.js';
import { JwtExtendedException } from '../../errors/exceptions.js';
import type { ExecutionContextAdapter } from './execution-contexts.js';
import type { HttpRequestLike } from '../http-adapter.js';
import { clearGuarded } from '../jwt-request-state.js';

/** What the library reads of a WebSocket handshake: a socket.io `socket.handshake`, or the `ws` upgrade request. */
export interface WsHandshakeLike {
  headers: IncomingHttpHeaders;
  url?: string;
  /** socket.io's parsed query; without it the query is read from `url`. */
  query?: unknown;
  /** socket.io's `auth` payload: `auth.token` is read like the authorization header. */
  auth?: unknown;
}

/** Upgrade requests handed over with `rememberHandshake`: a `ws` client does not keep its own. */
const REMEMBERED = new WeakMap<object, WsHandshakeLike>();

/**
 * Tells the library which upgrade request opened a `ws` client, for the guard on its messages
 * and `verifyJwtInHandshake`. Call it in `handleConnection(client, request)`: with
 * `@nestjs/platform-ws` the client object does not carry its request. socket.io clients need
 * nothing (their `handshake` is read).
 */
export function rememberHandshake(client: object, request: WsHandshakeLike): void {
  REMEMBERED.set(client, request);
}

function isHandshake(value: unknown): value is WsHandshakeLike {
  return typeof value === 'object' && value !== null && typeof (value as WsHandshakeLike).headers === 'object';
}

function handshakeOf(client: unknown): WsHandshakeLike {
  if (typeof client === 'object' && client !== null) {
    const handshake = REMEMBERED.get(client) ?? (client as { handshake?: unknown }).handshake;
    if (isHandshake(handshake)) return handshake;
  }
  throw new TypeError(
    'nestjs-jwt-extended cannot find the handshake of this WebSocket client: with the ws adapter, ' +
      'call rememberHandshake(client, request) in handleConnection(client, request)',
  );
}

/** `auth.token` as the configured header would carry it: bare, or already prefixed with the header type. */
function authTokenHeader(token: string, headerType: string): string {
  if (headerType === '') return token;
  const prefix = token.slice(0, headerType.length + 1).toLowerCase();
  return prefix === `${headerType.toLowerCase()} ` ? token : `${headerType} ${token}`;
}

/**
 * The request-like view of a client's handshake under `config`: a GET with the handshake's
 * headers, URL and query, where
 * - a cookie counts only when the handshake's `Origin` is in `wsAllowedOrigins` (no CSRF header
 *   exists on a WebSocket: any site could open one with the user's cookies); otherwise the
 *   cookie location finds nothing;
 * - socket.io's `auth.token` stands in for a missing authorization header;
 * - there is no body: the `json` location never has a token.
 */
export function handshakeRequest(client: unknown, config: JwtExtendedConfig): HttpRequestLike {
  return handshakeView(handshakeOf(client), config);
}

/** `handshakeRequest` of a handshake at hand (a GraphQL subscription's upgrade request). */
export function handshakeView(handshake: WsHandshakeLike, config: JwtExtendedConfig): HttpRequestLike {
  const headers: IncomingHttpHeaders = { ...handshake.headers };
  delete headers['content-type'];
  const origin = headers.origin;
  if (typeof origin !== 'string' || !config.wsAllowedOrigins.has(origin)) delete headers.cookie;
  const headerKey = config.headerName.toLowerCase();
  const auth = handshake.auth;
  const token = typeof auth === 'object' && auth !== null ? (auth as { token?: unknown }).token : undefined;
  if (headers[headerKey] === undefined && typeof token === 'string' && token !== '') {
    headers[headerKey] = authTokenHeader(token, config.headerType);
  }
  return { method: 'GET', url: handshake.url, headers, query: handshake.query };
}

/**
 * One request-like object per (client, message pattern). A connection's token is its
 * handshake's and a pattern's handler has one protection, so every message on it verifies the
 * same token the same way: the object is shared, and only the "already guarded" mark is per
 * message (cleared for each message Nest dispatches, below), so each message is verified again.
 * The guard and the param decorators of one message see different copies of its arguments
 * (Nest spreads them), which is why the object is not keyed by them.
 */
const MESSAGE_REQUESTS = new WeakMap<object, Map<unknown, HttpRequestLike>>();
/** The argument lists already seen: every binding of the guard on one message shares one list. */
const SEEN_MESSAGES = new WeakSet<unknown[]>();

function messageRequest(context: ExecutionContext, config: JwtExtendedConfig | undefined): HttpRequestLike {
  const args = context.getArgs<unknown[]>();
  const client = args[0] as object;
  const pattern = args.at(-1);
  let byPattern = MESSAGE_REQUESTS.get(client);
  let req = byPattern?.get(pattern);
  if (!req) {
    // Without the module's configuration (a param decorator on a handler no guard ran on) there is
    // nothing verified to find: an empty request, whose state reading fails with the usual hint.
    if (!config) return { method: 'GET', headers: {} };
    req = handshakeRequest(client, config);
    if (!byPattern) MESSAGE_REQUESTS.set(client, (byPattern = new Map()));
    byPattern.set(pattern, req);
  }
  if (!SEEN_MESSAGES.has(args)) {
    SEEN_MESSAGES.add(args);
    clearGuarded(req);
  }
  return req;
}

/** `@nestjs/websockets`, imported the first time a WebSocket failure needs `WsException`. */
let websockets: Promise<typeof import('@nestjs/websockets')> | undefined;

/** The error a WebSocket client receives: the §6 status beside the library's (or the error loader's) body. */
function wsErrorBody(exception: HttpException): object {
  const body = exception.getResponse();
  const status = exception.getStatus();
  return typeof body === 'object' && body !== null ? { ...body, status } : { status, message: body };
}

/**
 * An `HttpException` as the `WsException` a gateway client receives; a library exception is
 * shaped first by `config`'s error loaders (Nest applies no app-wide filter to gateways). Other
 * errors are left as they are (Nest logs them and the client gets its generic error).
 */
export async function toWsException(error: unknown, config: JwtExtendedConfig | undefined): Promise<unknown> {
  if (!(error instanceof HttpException)) return error;
  const response = error instanceof JwtExtendedException && config ? await errorResponseOf(error, config) : error;
  const { WsException } = await (websockets ??= import('@nestjs/websockets'));
  return new WsException(wsErrorBody(response));
}

interface SocketIoClientLike {
  emit(event: string, data: unknown): unknown;
}
interface NativeWebSocketLike {
  readyState: number;
  send(data: string): unknown;
}

const WS_OPEN = 1;

/** socket.io and `ws` clients, the way Nest's WS exception filter tells them apart (`ws` ones have a numeric `readyState`). */
function emitException(client: unknown, body: object): void {
  if (typeof (client as NativeWebSocketLike).readyState === 'number') {
    const ws = client as NativeWebSocketLike;
    if (ws.readyState === WS_OPEN) ws.send(JSON.stringify({ event: 'exception', data: body }));
  } else {
    (client as SocketIoClientLike).emit('exception', body);
  }
}

/** `context.getType() === 'ws'`: a `@SubscribeMessage` handler of a gateway. */
export const wsContext: ExecutionContextAdapter = {
  getRequest: messageRequest,
  getResponse: () => undefined,
  toContextError: (exception, _context, config) => toWsException(exception, config),
  sendError: (exception, host) => emitException(host.switchToWs().getClient(), wsErrorBody(exception)),
};
