import type { JwtHeader, JwtPayload, TokenLocation } from '../tokens/jwt.interfaces.js';
import type { HttpRequestLike } from './http-adapter.js';

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

// A private symbol: nothing in a request (headers, body, query) can forge it.
const STATE = Symbol('nestjs-jwt-extended.state');
const GUARDED = Symbol('nestjs-jwt-extended.guarded');

export function setJwtState(req: HttpRequestLike, state: JwtRequestState): void {
  req[STATE] = state;
}

export function getJwtState(req: HttpRequestLike): JwtRequestState | undefined {
  return req[STATE] as JwtRequestState | undefined;
}

/** `@JwtRequired()` on a class and a handler applies the guard twice; the second pass is a no-op. */
export function markGuarded(req: HttpRequestLike): void {
  req[GUARDED] = true;
}

export function isGuarded(req: HttpRequestLike): boolean {
  return req[GUARDED] === true;
}

export function requireJwtState(req: HttpRequestLike): JwtRequestState {
  const state = req && getJwtState(req);
  if (!state) {
    throw new Error('You must use @JwtRequired() (or call verifyJwtInRequest()) before reading the JWT of a request');
  }
  return state;
}
