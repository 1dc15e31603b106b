import { type ArgumentsHost, HttpException } from '@nestjs/common';
import { errorExtensions } from '../../errors/exceptions.js';
import type { ExecutionContextAdapter } from './execution-contexts.js';
import { type HttpRequestLike, type HttpResponseLike, linkedResponse } from '../http-adapter.js';

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

/** Resolvers (`context.getType() === 'graphql'`): the HTTP request the GraphQL operation came in. */
export const graphqlContext: ExecutionContextAdapter = {
  getRequest(context) {
    const req = requestOf(contextObject(context));
    if (!req) {
      throw new TypeError(
        "nestjs-jwt-extended found no request in the GraphQL context: return { req, res } (Apollo) or { request, reply } (Mercurius) from the driver's `context` option",
      );
    }
    return req;
  },
  getResponse(context) {
    const ctx = contextObject(context);
    const req = requestOf(ctx);
    return ctx?.res ?? ctx?.reply ?? (req && linkedResponse(req));
  },
  // Nest hands the error to the GraphQL driver, which answers `{ data, errors }` (HTTP 200).
  toContextError: withExtensions,
  // What a filter returns in a resolver is the resolver's result: an error fails that field.
  sendError: (error) => withExtensions(error),
};
