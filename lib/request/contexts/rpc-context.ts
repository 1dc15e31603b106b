import { type ArgumentsHost, type ExecutionContext, HttpException } from '@nestjs/common';
import { throwError } from 'rxjs';
import { markLibraryException } from '../../errors/context-exception.js';
import { JwtExtendedException } from '../../errors/exceptions.js';
import type { TokenLocation } from '../../tokens/jwt.interfaces.js';
import type { ExecutionContextAdapter } from './execution-contexts.js';
import type { HttpRequestLike } from '../http-adapter.js';
import { setDefaultLocations } from '../jwt-request-state.js';

/*
 * Microservice handlers (`context.getType() === 'rpc'`). Nothing of @nestjs/microservices is
 * imported here: transports are told apart by the shape of the handler's arguments, and
 * `RpcException` is loaded the first time an RPC failure needs one, so an HTTP-only app never
 * loads the package.
 */

/** Transports whose messages carry headers: the token is their `authorization` header (§10). */
const HEADER_LOCATIONS: readonly TokenLocation[] = Object.freeze(['headers']);
/** TCP, Redis and others: the token is the payload's `jsonKey` / `refreshJsonKey` field. */
const PAYLOAD_LOCATIONS: readonly TokenLocation[] = Object.freeze(['json']);

/** gRPC's `Metadata` (the second argument of a gRPC handler), recognised by its methods. */
interface GrpcMetadataLike {
  getMap(): Record<string, unknown>;
}

function isGrpcMetadata(value: unknown): value is GrpcMetadataLike {
  const metadata = value as Partial<Record<'getMap' | 'get' | 'set', unknown>> | null | undefined;
  return (
    typeof metadata === 'object' &&
    metadata !== null &&
    typeof metadata.getMap === 'function' &&
    typeof metadata.get === 'function' &&
    typeof metadata.set === 'function'
  );
}

/** The methods the transport contexts of @nestjs/microservices expose (each has some of them). */
interface RpcContextLike {
  /** NATS: a `MsgHdrs` (`keys()`/`get()`) or undefined. */
  getHeaders?(): unknown;
  /** RabbitMQ: `{ properties: { headers } }`; Kafka: `{ headers }`. */
  getMessage?(): unknown;
  /** MQTT 5: `{ properties: { userProperties } }`. */
  getPacket?(): unknown;
  /** TCP and Redis (Nest 12): the packet's metadata, set by the client's dispatch hook. */
  getMetadata?(): unknown;
}

function method(target: unknown, name: keyof RpcContextLike | 'keys' | 'get'): ((...args: unknown[]) => unknown) | undefined {
  if (typeof target !== 'object' || target === null) return undefined;
  const fn = (target as Record<string, unknown>)[name];
  return typeof fn === 'function' ? (...args: unknown[]) => (fn as (...args: unknown[]) => unknown).apply(target, args) : undefined;
}

function property(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, name) ? (value as Record<string, unknown>)[name] : undefined;
}

/** Where a message's token is looked for, and the headers it came with. */
interface TransportHeaders {
  carriesHeaders: boolean;
  headers: unknown;
}

function transportHeaders(args: readonly unknown[]): TransportHeaders {
  const second = args[1];
  if (isGrpcMetadata(second)) return { carriesHeaders: true, headers: second.getMap() };
  const getHeaders = method(second, 'getHeaders');
  if (getHeaders) return { carriesHeaders: true, headers: getHeaders() };
  const getMessage = method(second, 'getMessage');
  if (getMessage) {
    const message = getMessage();
    return { carriesHeaders: true, headers: property(property(message, 'properties'), 'headers') ?? property(message, 'headers') };
  }
  const getPacket = method(second, 'getPacket');
  if (getPacket) return { carriesHeaders: true, headers: property(property(getPacket(), 'properties'), 'userProperties') };
  const getMetadata = method(second, 'getMetadata');
  return { carriesHeaders: false, headers: getMetadata?.() };
}

/** A header value as text: strings, bytes (Kafka) as UTF-8, lists (MQTT, Kafka) element-wise; anything else is dropped. */
function headerText(value: unknown): string | string[] | undefined {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
  if (Array.isArray(value)) {
    const texts = value.map(headerText).filter((text): text is string => typeof text === 'string');
    return texts.length > 0 ? texts : undefined;
  }
  return undefined;
}

/**
 * The transport's headers as a request's: lower-case names, text values, on an object without a
 * prototype (a header named `__proto__` is just a header). No `cookie`: a cookie in RPC metadata
 * is a browser's ambient credential forwarded by a gateway (gRPC-web), with no CSRF check there.
 */
function normaliseHeaders(source: unknown): Record<string, string | string[]> {
  const headers = Object.create(null) as Record<string, string | string[]>;
  const add = (name: unknown, value: unknown) => {
    if (typeof name !== 'string') return;
    const key = name.toLowerCase();
    const text = headerText(value);
    if (key !== 'cookie' && text !== undefined) headers[key] = text;
  };
  if (typeof source !== 'object' || source === null) return headers;
  const keys = method(source, 'keys');
  const get = method(source, 'get');
  // NATS MsgHdrs: names from keys(), the first value from get().
  if (keys && get) for (const name of keys() as Iterable<unknown>) add(name, get(name));
  else for (const [name, value] of Object.entries(source)) add(name, value);
  return headers;
}

/**
 * One request-like object per message. Nest spreads a message's arguments into new arrays for
 * guards and param decorators, but hands them the same transport context (a `TcpContext`,
 * `NatsContext`, … or gRPC's `Metadata`), which its servers create per message (per call on
 * gRPC), and the same payload: the object is keyed by the context, else by the payload, and is
 * reused only for the same payload too — a transport that reused one context object for every
 * message still gets one state per message, never one per connection.
 */
const MESSAGE_REQUESTS = new WeakMap<object, HttpRequestLike>();

function messageKey(args: readonly unknown[]): object | undefined {
  for (const arg of [args[1], args[0]]) if ((typeof arg === 'object' && arg !== null) || typeof arg === 'function') return arg;
  return undefined;
}

function messageRequest(args: unknown[]): HttpRequestLike {
  const key = messageKey(args);
  const cached = key && MESSAGE_REQUESTS.get(key);
  if (cached && cached.body === args[0]) return cached;
  const { carriesHeaders, headers } = transportHeaders(args);
  const requestHeaders = normaliseHeaders(headers);
  // The payload is a deserialised object (JSON over TCP, a protobuf message over gRPC): the json location reads it.
  requestHeaders['content-type'] = 'application/json';
  // Not an HTTP method: no body is ignored as a GET's would be.
  const req: HttpRequestLike = { method: 'RPC', headers: requestHeaders, body: args[0] };
  setDefaultLocations(req, carriesHeaders ? HEADER_LOCATIONS : PAYLOAD_LOCATIONS);
  if (key) MESSAGE_REQUESTS.set(key, req);
  return req;
}

/** gRPC status codes for the HTTP statuses the library answers with (grpc/doc/statuscodes.md). */
const GRPC_CODES: Readonly<Record<number, number>> = {
  400: 3, // INVALID_ARGUMENT
  401: 16, // UNAUTHENTICATED
  403: 7, // PERMISSION_DENIED
  422: 3, // INVALID_ARGUMENT
  429: 8, // RESOURCE_EXHAUSTED
  500: 13, // INTERNAL
  503: 14, // UNAVAILABLE
};
const GRPC_UNKNOWN = 2;

/**
 * The RPC error of an `HttpException`: `{ status, ...its body }` (§10: `{ status, [errorMessageKey]:
 * message }`). A gRPC client sees only `code` and `details`: they get the gRPC status and the message.
 */
function rpcError(exception: HttpException, args: readonly unknown[]): Record<string, unknown> {
  const status = exception.getStatus();
  const body = exception.getResponse();
  const error: Record<string, unknown> = typeof body === 'object' && body !== null ? { status, ...body } : { status, message: body };
  if (isGrpcMetadata(args[1])) {
    error.code = GRPC_CODES[status] ?? GRPC_UNKNOWN;
    error.details = exception.message;
  }
  return error;
}

type RpcExceptionClass = new (error: string | object) => Error;
let rpcExceptionClass: Promise<RpcExceptionClass> | undefined;

/** Loaded on the first RPC failure, through the app's own resolution: Nest's RPC filter then recognises it. */
function loadRpcException(): Promise<RpcExceptionClass> {
  rpcExceptionClass ??= import('@nestjs/microservices').then((microservices) => microservices.RpcException);
  return rpcExceptionClass;
}

export const rpcContext: ExecutionContextAdapter = {
  getRequest: (context: ExecutionContext) => messageRequest(context.getArgs()),
  getResponse: () => undefined,
  async toContextError(exception: unknown, context: ArgumentsHost) {
    if (!(exception instanceof HttpException)) return exception;
    const RpcException = await loadRpcException();
    const error = new RpcException(rpcError(exception, context.getArgs()));
    // Error loaders shape the library's own exceptions (JwtErrorFilter), not an HttpException a loader threw.
    return exception instanceof JwtExtendedException ? markLibraryException(error, exception) : error;
  },
  // An exception filter's answer in an RPC handler is an Observable that fails with the error.
  sendError: (exception: HttpException, host: ArgumentsHost) => throwError(() => rpcError(exception, host.getArgs())),
};
