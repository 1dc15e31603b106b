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
 * JavaScript's `\s` (what `String.prototype.trim` removes), by UTF-16 code unit. Request data is
 * scanned with this rather than with regular expressions, so parsing stays linear in its size.
 */
export function isWhitespace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0xa0) return false;
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/** `value.slice(start, end).trim()`, without the intermediate string. */
function trimmedSlice(value: string, start: number, end: number): string {
  while (start < end && isWhitespace(value.charCodeAt(start))) start++;
  while (end > start && isWhitespace(value.charCodeAt(end - 1))) end--;
  return value.slice(start, end);
}

/** Whether `value.slice(start, end).trim() === name`, allocating nothing. */
function trimmedEquals(value: string, start: number, end: number, name: string): boolean {
  while (start < end && isWhitespace(value.charCodeAt(start))) start++;
  while (end > start && isWhitespace(value.charCodeAt(end - 1))) end--;
  return end - start === name.length && value.startsWith(name, start);
}

/**
 * Reads a cookie from the raw `Cookie` header, so it works with or without
 * cookie-parser / @fastify/cookie (whose parsed values may be objects or signed).
 * The first occurrence of a name wins, as in the `cookie` package. One pass over the
 * header: every character is looked at a bounded number of times, whatever its shape.
 */
export function readCookie(req: HttpRequestLike, name: string): string | undefined {
  const raw = req.headers.cookie;
  // Node joins repeated Cookie headers with '; ' (RFC 6265 §5.4); do the same for plain objects.
  const header = Array.isArray(raw) ? raw.join('; ') : raw;
  if (!header) return undefined;
  let eq = -1;
  for (let start = 0; start < header.length;) {
    let end = header.indexOf(';', start);
    if (end < 0) end = header.length;
    // The first '=' at or after `start`, searched again only once passed: no rescans of the header.
    if (eq < start) eq = header.indexOf('=', start);
    if (eq < 0) return undefined;
    if (eq < end && trimmedEquals(header, start, eq, name)) return cookieValue(trimmedSlice(header, eq + 1, end));
    start = end + 1;
  }
  return undefined;
}

function cookieValue(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** A query parameter: a string, or an array/object where the adapter's parser produced one. */
export function readQueryParam(req: HttpRequestLike, name: string): unknown {
  const query = req.query;
  if (query && typeof query === 'object') return Object.hasOwn(query, name) ? (query as Record<string, unknown>)[name] : undefined;
  // No parsed query (plain Node request): parse the URL ourselves (WHATWG parser, linear).
  const url = req.url ?? '';
  const mark = url.indexOf('?');
  const values = new URLSearchParams(mark < 0 ? '' : url.slice(mark + 1)).getAll(name);
  return values.length > 1 ? values : values[0];
}

/** The request method, upper-case; a request-like object without one counts as `GET`. */
export function requestMethod(req: HttpRequestLike): string {
  return req.method === undefined ? 'GET' : req.method.toUpperCase();
}

/**
 * Methods whose body is never read. Fastify does not parse it and Express would: ignoring it on
 * both keeps the adapters alike (RFC 9110 gives a GET, HEAD or TRACE body no meaning).
 */
const BODYLESS_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'TRACE']);

/** The parsed body (Express body-parser and Fastify both put it on `body`); none for bodyless methods. */
export function readBody(req: HttpRequestLike): unknown {
  return BODYLESS_METHODS.has(requestMethod(req)) ? undefined : req.body;
}

const APPLICATION = 'application/';

/**
 * Whether a Content-Type is `application/json` or `application/<x>+json`, parameters and case
 * aside. Scanned, not matched with a regular expression: linear whatever the header holds.
 */
export function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const semicolon = value.indexOf(';');
  const type = (semicolon < 0 ? value : value.slice(0, semicolon)).trimEnd().toLowerCase();
  if (!type.startsWith(APPLICATION) || !type.endsWith('json')) return false;
  const suffix = type.length - 'json'.length;
  if (suffix === APPLICATION.length) return true;
  // application/<prefix>+json with a non-empty prefix of [A-Za-z0-9_.+-]
  if (suffix - 1 <= APPLICATION.length || type.charCodeAt(suffix - 1) !== 0x2b) return false;
  for (let i = APPLICATION.length; i < suffix - 1; i++) {
    if (!isSubtypeChar(type.charCodeAt(i))) return false;
  }
  return true;
}

/** [a-z0-9_.+-] (input lower-cased): what a `+json` media type may hold before its suffix. */
function isSubtypeChar(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39) || code === 0x5f || code === 0x2e || code === 0x2b || code === 0x2d
  );
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

/**
 * The Node request under an adapter's wrapper. On Fastify, Nest middleware gets the raw Node
 * request and guards and handlers the FastifyRequest around it (`request.raw`): what the library
 * keeps per request lives on the raw one so that both see it. Express and Node requests, and
 * plain request-like objects, are their own.
 */
export function nodeRequest(req: HttpRequestLike): HttpRequestLike {
  const raw = req.raw;
  return typeof raw === 'object' && raw !== null && 'headers' in raw ? (raw as HttpRequestLike) : req;
}

/** The response Express links to its request (`req.res`); Node and Fastify requests have none. */
export function linkedResponse(req: HttpRequestLike): HttpResponseLike | undefined {
  const res = req.res;
  return typeof res === 'object' && res !== null ? res : undefined;
}

/** The few members of Nest's `AbstractHttpAdapter` the library uses. */
export interface HttpAdapterLike {
  getType(): string;
  getInstance<T>(): T;
}

interface FastifyHooks {
  addHook(name: 'preHandler', hook: (request: HttpRequestLike, reply: HttpResponseLike, done: (error?: Error) => void) => void): unknown;
}

/**
 * On Fastify, runs `hook` for every request after Nest middleware and before the route's guards
 * and handler, with the FastifyRequest and reply. Express needs none: its middleware and handlers
 * share one request and one response object.
 */
export function addFastifyPreHandler(
  adapter: HttpAdapterLike | undefined,
  hook: (request: HttpRequestLike, reply: HttpResponseLike) => void,
): void {
  if (adapter?.getType() !== 'fastify') return;
  adapter.getInstance<FastifyHooks>().addHook('preHandler', (request, reply, done) => {
    try {
      hook(request, reply);
    } catch (error) {
      done(error as Error);
      return;
    }
    done();
  });
}
