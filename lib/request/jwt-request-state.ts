import type { JwtHeader, JwtPayload, TokenLocation } from '../tokens/jwt.interfaces.js';
import { type HttpRequestLike, type HttpResponseLike, linkedResponse, nodeRequest, viewLocals } from './http-adapter.js';

/** What verification leaves on the request. Never on a singleton: requests never share it. */
export interface JwtRequestState {
  header: JwtHeader | Record<string, never>;
  payload: JwtPayload | Record<string, never>;
  location: TokenLocation | null;
  identity: unknown;
  user: unknown;
  /** False when no `userLookup` loader is configured (then asking for the user is an error). */
  userLookupConfigured: boolean;
}

/** Where a verification is mirrored besides the state itself; fixed by the configuration at start-up. */
export interface StateMirrors {
  /** `request.user` (when a `userLookup` loader is configured). */
  user: boolean;
  /** The view locals' `currentUser` (`exposeCurrentUserToViews`). */
  viewLocals: boolean;
}

// Private symbols: nothing in a request (headers, body, query) can forge them.
const STATE = Symbol('nestjs-jwt-extended.state');
const GUARDED = Symbol('nestjs-jwt-extended.guarded');
const GUARDED_FOR = Symbol('nestjs-jwt-extended.guarded-for');
const VIEW_RESPONSE = Symbol('nestjs-jwt-extended.view-response');
const DEFAULT_LOCATIONS = Symbol('nestjs-jwt-extended.default-locations');
const FIELD_OF = Symbol('nestjs-jwt-extended.field-of');
const FIELD_STATE = Symbol('nestjs-jwt-extended.field-state');
const REQUEST_STATE = Symbol('nestjs-jwt-extended.request-state');

// The state lives on the Node request (see nodeRequest): Fastify middleware and handlers then share it.
export function setJwtState(req: HttpRequestLike, state: JwtRequestState): void {
  nodeRequest(req)[STATE] = state;
}

export function getJwtState(req: HttpRequestLike): JwtRequestState | undefined {
  return nodeRequest(req)[STATE] as JwtRequestState | undefined;
}

/**
 * Replaces the whole verification state of a request, and its mirrors: `getJwt` & co.,
 * `request.user` and the view locals then always tell the same story, however many times
 * the request is verified (guard, middleware, handler).
 */
export function publishJwtState(req: HttpRequestLike, state: JwtRequestState, mirrors: StateMirrors): void {
  const request = req[FIELD_OF] as HttpRequestLike | undefined;
  if (request) {
    // A GraphQL field keeps its own state; its request (`request.user`, getJwt) keeps the operation's last verification.
    req[STATE] = state;
    const node = nodeRequest(request);
    // What middleware or `verifyJwtInRequest` left there stays the starting point of later fields.
    if (node[STATE] !== node[FIELD_STATE]) node[REQUEST_STATE] = node[STATE];
    publishJwtState(request, state, mirrors);
    node[FIELD_STATE] = state;
    return;
  }
  const node = nodeRequest(req);
  node[STATE] = state;
  if (mirrors.user) {
    req.user = state.user;
    node.user = state.user;
  }
  if (mirrors.viewLocals) {
    const res = (node[VIEW_RESPONSE] as HttpResponseLike | undefined) ?? linkedResponse(node);
    if (res) viewLocals(res).currentUser = state.user ?? null;
  }
}

/**
 * Called with a request and its response where both are at hand (the guard, the Fastify hook):
 * the response's view locals mirror the request's state from now on, and `request.user` catches
 * up with a state that middleware left on the raw request.
 */
export function adoptJwtState(req: HttpRequestLike, res: HttpResponseLike, mirrors: StateMirrors): void {
  // A GraphQL field's response is its request's: the mirrors follow the request, the field keeps its own state.
  const request = fieldRequestOf(req) ?? req;
  const node = nodeRequest(request);
  if (mirrors.viewLocals) node[VIEW_RESPONSE] = res;
  const state = node[STATE] as JwtRequestState | undefined;
  if (state) publishJwtState(request, state, mirrors);
}

/**
 * One GraphQL field resolution's view of the operation's request: the request's method, URL,
 * headers (cookies), query and body, with its own state and "already guarded" mark, so sibling
 * fields never read each other's token. It starts with the state middleware or
 * `verifyJwtInRequest` left on the request (§17), never with one a field published there.
 */
export function fieldRequest(request: HttpRequestLike): HttpRequestLike {
  const node = nodeRequest(request);
  const { method, url, headers, query, body } = request;
  return {
    method,
    url,
    headers,
    query,
    body,
    [FIELD_OF]: request,
    [STATE]: node[STATE] === node[FIELD_STATE] ? node[REQUEST_STATE] : node[STATE],
  };
}

/** The request a GraphQL field's view reads (`undefined` for any other request). */
export function fieldRequestOf(req: HttpRequestLike): HttpRequestLike | undefined {
  return req[FIELD_OF] as HttpRequestLike | undefined;
}

/**
 * The guard bound several times (global, class, handler) verifies once: later passes of the
 * same module's guard with the same protection are no-ops. `by` is that module's configuration,
 * so a guard of another JwtExtendedModule (another secret, another audience) still verifies with
 * its own; `protection` is what the (class, handler) asks, so another resolver of the same GraphQL
 * request that asks more (fresh, refresh, required inside a public class) is verified again.
 * Two slots rather than one pair: the guard's hot path allocates nothing.
 */
export function markGuarded(req: HttpRequestLike, by: object, protection: unknown): void {
  req[GUARDED] = by;
  req[GUARDED_FOR] = protection;
}

export function isGuarded(req: HttpRequestLike, by: object, protection: unknown): boolean {
  return req[GUARDED] === by && req[GUARDED_FOR] === protection;
}

/**
 * Where a context fixes the token's place (an RPC message: its transport's headers, else its
 * payload) instead of `tokenLocation`; a handler's `@JwtRequired({ locations })` still decides.
 */
export function setDefaultLocations(req: HttpRequestLike, locations: readonly TokenLocation[]): void {
  req[DEFAULT_LOCATIONS] = locations;
}

export function defaultLocations(req: HttpRequestLike): readonly TokenLocation[] | undefined {
  return req[DEFAULT_LOCATIONS] as readonly TokenLocation[] | undefined;
}

/** A new message on a long-lived connection: the guard verifies it again (see ws-context.ts). */
export function clearGuarded(req: HttpRequestLike): void {
  // Not `delete`: the object keeps its shape (and V8 its fast properties) message after message.
  req[GUARDED] = undefined;
}

export function requireJwtState(req: HttpRequestLike): JwtRequestState {
  const state = req && getJwtState(req);
  if (!state) {
    throw new Error('You must use @JwtRequired() (or call verifyJwtInRequest()) before reading the JWT of a request');
  }
  return state;
}
