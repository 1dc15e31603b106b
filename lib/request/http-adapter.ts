/*
 * The one place that knows how an Express request/response and a Fastify
 * request/reply differ. Everything else in the library goes through these helpers.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** What the library reads from a request: common to Express, Fastify and Node. */
export interface HttpRequestLike {
  method?: string;
  headers: IncomingHttpHeaders;
  url?: string;
  query?: unknown;
  body?: unknown;
  [key: string | symbol]: unknown;
}

/** An Express `Response`, a Fastify `FastifyReply`, or a Node `ServerResponse`. */
export type HttpResponseLike = object;

/**
 * A header value by its lower-case name (Node lower-cases incoming names; callers
 * lower-case configured names once, not per request). Repeated headers are joined
 * with ', ' as RFC 9110 §5.3 allows.
 */
export function readHeader(req: HttpRequestLike, lowerCaseName: string): string | undefined {
  const value = req.headers[lowerCaseName];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Reads a cookie from the raw `Cookie` header, so it works with or without
 * cookie-parser / @fastify/cookie (whose parsed values may be objects or signed).
 * The first occurrence of a name wins, as in the `cookie` package.
 */
export function readCookie(req: HttpRequestLike, name: string): string | undefined {
  const header = readHeader(req, 'cookie');
  if (!header) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim() !== name) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (!value.includes('%')) return value;
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  }
  return undefined;
}

/** A query parameter: a string, or an array/object where the adapter's parser produced one. */
export function readQueryParam(req: HttpRequestLike, name: string): unknown {
  const query = req.query;
  if (query && typeof query === 'object') return Object.hasOwn(query, name) ? (query as Record<string, unknown>)[name] : undefined;
  // No parsed query (plain Node request): parse the URL ourselves.
  const url = req.url ?? '';
  const params = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
  const values = params.getAll(name);
  return values.length > 1 ? values : values[0];
}

/** The parsed body (Express body-parser and Fastify both put it on `body`). */
export function readBody(req: HttpRequestLike): unknown {
  return req.body;
}

interface FastifyReplyLike {
  raw: object;
  header(name: string, value: string): unknown;
  locals?: Record<string, unknown>;
}

function isFastifyReply(res: object): res is FastifyReplyLike {
  return 'raw' in res && typeof (res as { header?: unknown }).header === 'function';
}

/** Adds one `Set-Cookie` line without dropping those already set (by us or by cookie plugins). */
export function appendSetCookie(res: HttpResponseLike, cookie: string): void {
  if (isFastifyReply(res)) {
    // Fastify's reply.header() accumulates set-cookie values into an array.
    res.header('set-cookie', cookie);
    return;
  }
  const node = res as { append?: (n: string, v: string) => unknown; appendHeader?: (n: string, v: string) => unknown };
  if (typeof node.append === 'function') node.append('Set-Cookie', cookie);
  else if (typeof node.appendHeader === 'function') node.appendHeader('Set-Cookie', cookie);
  else throw new TypeError('Cannot set cookies: expected an Express Response, a Fastify reply or a Node ServerResponse');
}

/** Where template engines read per-request values: Express `res.locals`, Fastify `reply.locals`. */
export function viewLocals(res: HttpResponseLike): Record<string, unknown> {
  const holder = res as { locals?: Record<string, unknown> };
  holder.locals ??= {};
  return holder.locals;
}
