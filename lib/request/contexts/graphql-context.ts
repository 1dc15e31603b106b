import { type ArgumentsHost, HttpException, InternalServerErrorException, Logger } from '@nestjs/common';
import type { JwtExtendedConfig } from '../../config/jwt-extended-config.js';
import { errorExtensions } from '../../errors/exceptions.js';
import type { ExecutionContextAdapter } from './execution-contexts.js';
import { type HttpRequestLike, type HttpResponseLike, linkedResponse } from '../http-adapter.js';
import { fieldRequest } from '../jwt-request-state.js';
import { handshakeView } from './ws-context.js';

/**
 * The GraphQL context object (a resolver's third argument) as the drivers fill it: Apollo on
 * Express `{ req, res }`, Mercurius on Fastify `{ request, reply }` as apps set them (Nest's
 * drivers also add `req` to every context; Mercurius always adds `reply`). Read by shape: nothing
 * of `@nestjs/graphql` is imported, so HTTP-only apps never load it.
 */
interface GraphQLContextLike {
  req?: HttpRequestLike;
  request?: HttpRequestLike;
  res?: HttpResponseLike;
  reply?: HttpResponseLike;
}

function contextObject(context: ArgumentsHost): GraphQLContextLike | undefined {
  const value = context.getArgByIndex<unknown>(2);
  return typeof value === 'object' && value !== null ? (value as GraphQLContextLike) : undefined;
}

function requestOf(ctx: GraphQLContextLike | undefined): HttpRequestLike | undefined {
  const req = ctx?.req ?? ctx?.request;
  return typeof req === 'object' && req !== null && typeof req.headers === 'object' ? req : undefined;
}

/**
 * A subscription over graphql-ws: the context's request is the WebSocket upgrade request. It is a
 * handshake, read as gateways read theirs (a cookie counts only from a `wsAllowedOrigins` origin).
 */
function isUpgrade(req: HttpRequestLike): boolean {
  const upgrade = req.headers.upgrade;
  return typeof upgrade === 'string' && upgrade.toLowerCase() === 'websocket';
}

/**
 * One view per field resolution, keyed by its `info` (graphql-js makes one per resolution; the
 * guard and the param decorators of that field get the same one): see `fieldRequest`.
 */
const FIELD_REQUESTS = new WeakMap<object, HttpRequestLike>();

function fieldView(context: ArgumentsHost, config: JwtExtendedConfig | undefined): HttpRequestLike {
  const info = context.getArgByIndex<unknown>(3);
  const key = typeof info === 'object' && info !== null ? info : undefined;
  const cached = key && FIELD_REQUESTS.get(key);
  if (cached) return cached;
  const req = requestOf(contextObject(context));
  if (!req) {
    throw new TypeError(
      "nestjs-jwt-extended found no request in the GraphQL context: return { req, res } (Apollo) or { request, reply } (Mercurius) from the driver's `context` option",
    );
  }
  // Without the module's configuration (a param decorator on a field no guard ran on) a handshake
  // has nothing verified to find: an empty request, whose state reading fails with the usual hint.
  const operation = isUpgrade(req) ? (config ? handshakeView(req, config) : { method: 'GET', headers: {} }) : req;
  const view = fieldRequest(operation);
  if (key) FIELD_REQUESTS.set(key, view);
  return view;
}

/**
 * graphql-js copies a thrown error's `extensions` into the response (`errors[i].extensions`).
 * Library exceptions have them (JwtExtendedException); an error loader's own `HttpException`
 * gets the same ones here, so every failure carries its status.
 */
function withExtensions(error: unknown): unknown {
  if (error instanceof HttpException && (error as { extensions?: unknown }).extensions === undefined) {
    Object.defineProperty(error, 'extensions', { value: errorExtensions(error), configurable: true, writable: true });
  }
  return error;
}

const logger = new Logger('JwtGuard');

/**
 * A failure of the guard as the field's error. graphql-js would send any other error's message
 * (a loader's connection string, a query) to the client: it gets a generic 500, as a route's
 * client does, and the original goes to the log.
 */
function toFieldError(error: unknown): unknown {
  if (error instanceof HttpException) return withExtensions(error);
  logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  return withExtensions(new InternalServerErrorException());
}

/** Resolvers (`context.getType() === 'graphql'`): the HTTP request the GraphQL operation came in, one view per field. */
export const graphqlContext: ExecutionContextAdapter = {
  getRequest: fieldView,
  getResponse(context) {
    const ctx = contextObject(context);
    const req = requestOf(ctx);
    return ctx?.res ?? ctx?.reply ?? (req && linkedResponse(req));
  },
  // Nest hands the error to the GraphQL driver, which answers `{ data, errors }` (HTTP 200).
  toContextError: toFieldError,
  // What a filter returns in a resolver is the resolver's result: an error fails that field.
  sendError: (error) => withExtensions(error),
};
