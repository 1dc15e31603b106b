import type { ArgumentsHost, ExecutionContext, HttpException } from '@nestjs/common';
import type { JwtExtendedConfig } from '../../config/jwt-extended-config.js';
import { graphqlContext } from './graphql-context.js';
import type { HttpRequestLike, HttpResponseLike } from '../http-adapter.js';
import { rpcContext } from './rpc-context.js';
import { wsContext } from './ws-context.js';

/**
 * What one Nest execution context says about itself: where the object the token is read
 * from (and verification state is kept on) lives, and where responses are written. The
 * extractor, verifier and guard read requests only through this seam, so a new context
 * (GraphQL, WebSocket, RPC) is one more adapter in CONTEXT_ADAPTERS, not edits across them.
 */
export interface ExecutionContextAdapter {
  /**
   * The request-like object: headers, cookies (in the `cookie` header), query, body, method.
   * `config` is the guard's module configuration (param decorators pass none: they read what the
   * guard left).
   */
  getRequest(context: ExecutionContext, config?: JwtExtendedConfig): HttpRequestLike;
  /** Where cookies and view locals are written; `undefined` where the context has no response. */
  getResponse(context: ExecutionContext): HttpResponseLike | undefined;
  /**
   * What a library exception becomes when it leaves the guard in this context: HTTP and GraphQL
   * keep the `HttpException` (Nest answers it), WebSocket and RPC wrap its body in their exception
   * (loaded lazily, hence possibly a promise; only failures pay for it). `config` is the module
   * the guard belongs to (WebSocket gateways get no app-wide filter: its error loaders run here).
   */
  toContextError(exception: unknown, context: ArgumentsHost, config: JwtExtendedConfig): unknown;
  /**
   * Answers with `error` from an exception filter (`JwtErrorFilter`, once an error loader shaped
   * it) and returns what the filter returns. `reply` is Nest's HTTP answer (`BaseExceptionFilter`);
   * a context that answers otherwise (GraphQL: the error its response carries; RPC: an error
   * observable) ignores it.
   */
  sendError(error: HttpException, host: ArgumentsHost, reply: (error: HttpException) => void): unknown;
}

/** Express and Fastify: the request and response Nest hands controllers. */
const httpContext: ExecutionContextAdapter = {
  getRequest: (context) => context.switchToHttp().getRequest<HttpRequestLike>(),
  getResponse: (context) => context.switchToHttp().getResponse<HttpResponseLike>(),
  toContextError: (exception) => exception,
  sendError: (error, _host, reply) => reply(error),
};

/** One adapter per `context.getType()`. */
const CONTEXT_ADAPTERS: Readonly<Record<string, ExecutionContextAdapter>> = {
  http: httpContext,
  graphql: graphqlContext,
  rpc: rpcContext,
  ws: wsContext,
};

/** The adapter of a context; a context the library does not know yet is an error, never a silent pass. */
export function contextAdapter(context: Pick<ArgumentsHost, 'getType'>): ExecutionContextAdapter {
  const type = context.getType();
  const adapter = Object.hasOwn(CONTEXT_ADAPTERS, type) ? CONTEXT_ADAPTERS[type] : undefined;
  if (!adapter) throw new TypeError(`nestjs-jwt-extended cannot read tokens in the '${type}' execution context`);
  return adapter;
}
