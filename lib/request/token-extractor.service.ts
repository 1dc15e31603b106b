import { Inject, Injectable } from '@nestjs/common';
import { CsrfException, InvalidHeaderException, InvalidQueryParamException, JwtDecodeException } from '../errors/exceptions.js';
import { JWT_EXTENDED_CONFIG } from '../config/injection-tokens.js';
import type { JwtExtendedConfig, TokenType, TokenTypeSettings } from '../config/jwt-extended-config.js';
import type { TokenLocation } from '../tokens/jwt.interfaces.js';
import {
  type HttpRequestLike,
  isJsonContentType,
  isWhitespace,
  readBody,
  readCookie,
  readHeader,
  readQueryParam,
  requestMethod,
} from './http-adapter.js';

/** A token found in a request, with the CSRF value that came with it (cookie tokens only). */
export interface FoundToken {
  token: string;
  location: TokenLocation;
  csrfValue?: string;
}

/**
 * Either the token, or why this location had none. A missing token is a value,
 * not an exception: the next location is tried. A malformed one throws.
 */
type LocationResult = FoundToken | { missing: string };

const COMMA = 0x2c;

function isCommaOrWhitespace(code: number): boolean {
  return code === COMMA || isWhitespace(code);
}

/** Whether `value` has a whitespace character in [start, end). */
function hasWhitespace(value: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (isWhitespace(value.charCodeAt(i))) return true;
  return false;
}

/**
 * Finds the token of a request in the configured locations: the one path for the guard and
 * `verifyJwtInRequest`. Every input is scanned in one pass, without regular expressions, so a
 * hostile header costs time linear in its size (a backtracking pattern made it quadratic).
 */
@Injectable()
export class TokenExtractor {
  // Configured header names and type, lower-cased once: incoming header names are lower-case.
  private readonly headerKey: string;
  private readonly headerType: string;
  private readonly missingHeader: string;
  private readonly missingHeaderType: string;
  private readonly badHeader: string;
  /** `csrfMethods`, plus HEAD when GET is among them: a HEAD request runs the GET handler. */
  private readonly csrfMethods: ReadonlySet<string>;

  constructor(@Inject(JWT_EXTENDED_CONFIG) private readonly config: JwtExtendedConfig) {
    const { headerName, headerType } = config;
    this.headerKey = headerName.toLowerCase();
    this.headerType = headerType.toLowerCase();
    this.missingHeader = `Missing ${headerName} Header`;
    this.missingHeaderType = `Missing '${headerType}' type in '${headerName}' header. Expected '${headerName}: ${headerType} <JWT>'`;
    this.badHeader =
      headerType === ''
        ? `Bad ${headerName} header. Expected '${headerName}: <JWT>'`
        : `Bad ${headerName} header. Expected '${headerName}: ${headerType} <JWT>'`;
    this.csrfMethods = config.csrfMethods.has('GET') ? new Set([...config.csrfMethods, 'HEAD']) : config.csrfMethods;
  }

  /** The first token found in `locations`, in order; or the combined "missing" message. */
  extract(req: HttpRequestLike, locations: readonly TokenLocation[], type: TokenType): FoundToken | { missing: string } {
    if (locations.length === 1) return this.read(req, locations[0], type);
    const reasons: string[] = [];
    for (const location of locations) {
      const result = this.read(req, location, type);
      if (!('missing' in result)) return result;
      reasons.push(result.missing);
    }
    return {
      missing: `Missing JWT in ${locations.slice(0, -1).join(', ')} or ${locations.at(-1)} (${reasons.join('; ')})`,
    };
  }

  private read(req: HttpRequestLike, location: TokenLocation, type: TokenType): LocationResult {
    switch (location) {
      case 'headers':
        return this.fromHeader(req);
      case 'cookies':
        return this.fromCookie(req, this.config.tokens[type]);
      case 'query_string':
        return this.fromQueryString(req);
      case 'json':
        return this.fromJsonBody(req, this.config.tokens[type]);
    }
  }

  private fromHeader(req: HttpRequestLike): LocationResult {
    const value = readHeader(req, this.headerKey) ?? '';
    // Leading and trailing commas and whitespace are ignored ("Bearer <JWT>, ").
    let start = 0;
    let end = value.length;
    while (start < end && isCommaOrWhitespace(value.charCodeAt(start))) start++;
    while (end > start && isCommaOrWhitespace(value.charCodeAt(end - 1))) end--;
    if (start === end) return { missing: this.missingHeader };
    if (this.headerType === '') return { token: value.slice(start, end), location: 'headers' };
    return this.typedCredential(value, start, end);
  }

  /**
   * The header's own error for a token that failed to decode, when the token has whitespace in
   * it: then the header was not `<type> <JWT>` (or `<JWT>`). Asked only after a failure, because
   * whitespace never gets through decoding (the compact form's alphabet has none): a valid token
   * is never scanned for it, which was a third of the guard's time on a cached token.
   */
  malformedHeader(found: FoundToken): InvalidHeaderException | undefined {
    const { token } = found;
    return found.location === 'headers' && hasWhitespace(token, 0, token.length) ? new InvalidHeaderException(this.badHeader) : undefined;
  }

  /**
   * The header may carry several comma-separated credentials: "Basic x, Bearer <JWT>" (RFC 7235
   * §4.2). Exactly one must start with the header type, and be exactly two words.
   */
  private typedCredential(value: string, start: number, end: number): LocationResult {
    let credentialStart = -1;
    let credentialEnd = -1;
    let found = 0;
    for (let partStart = start; partStart < end;) {
      // Commas and whitespace between credentials: skipped in one run (a part of them never holds the type).
      while (partStart < end && isCommaOrWhitespace(value.charCodeAt(partStart))) partStart++;
      let partEnd = value.indexOf(',', partStart);
      if (partEnd < 0 || partEnd > end) partEnd = end;
      let trimmedEnd = partEnd;
      while (trimmedEnd > partStart && isWhitespace(value.charCodeAt(trimmedEnd - 1))) trimmedEnd--;
      if (this.startsWithType(value, partStart, trimmedEnd)) {
        credentialStart = partStart;
        credentialEnd = trimmedEnd;
        found++;
      }
      partStart = partEnd;
    }
    if (found !== 1) return { missing: this.missingHeaderType };
    // The part is trimmed: after the type comes one run of whitespace, then the token, then nothing
    // (whitespace inside the token: see malformedHeader).
    let tokenStart = credentialStart + this.headerType.length;
    while (tokenStart < credentialEnd && isWhitespace(value.charCodeAt(tokenStart))) tokenStart++;
    if (tokenStart === credentialEnd) throw new InvalidHeaderException(this.badHeader);
    return { token: value.slice(tokenStart, credentialEnd), location: 'headers' };
  }

  /** Whether the first word of `value[start, end)` is the header type, compared case-insensitively (ASCII). */
  private startsWithType(value: string, start: number, end: number): boolean {
    const type = this.headerType;
    const wordEnd = start + type.length;
    if (wordEnd > end || (wordEnd < end && !isWhitespace(value.charCodeAt(wordEnd)))) return false;
    for (let i = 0; i < type.length; i++) {
      const code = value.charCodeAt(start + i);
      // type is lower-case; fold A-Z only
      if ((code >= 0x41 && code <= 0x5a ? code + 0x20 : code) !== type.charCodeAt(i)) return false;
    }
    return true;
  }

  private fromCookie(req: HttpRequestLike, settings: TokenTypeSettings): LocationResult {
    const config = this.config;
    const token = readCookie(req, settings.cookieName);
    if (!token) return { missing: `Missing cookie "${settings.cookieName}"` };
    if (!config.cookieCsrfProtect || !this.csrfMethods.has(requestMethod(req))) {
      return { token, location: 'cookies' };
    }
    let csrfValue = readHeader(req, settings.csrfHeaderKey);
    if (!csrfValue && config.csrfCheckForm) {
      const body = readBody(req);
      const field = settings.csrfFieldName;
      const value = body && typeof body === 'object' && Object.hasOwn(body, field) ? (body as Record<string, unknown>)[field] : undefined;
      if (typeof value === 'string') csrfValue = value;
    }
    if (!csrfValue) throw new CsrfException('Missing CSRF token');
    return { token, location: 'cookies', csrfValue };
  }

  private fromQueryString(req: HttpRequestLike): LocationResult {
    const { queryStringName: name, queryStringValuePrefix: prefix } = this.config;
    const value = readQueryParam(req, name);
    if (value === undefined || value === '') return { missing: `Missing '${name}' query parameter` };
    if (typeof value !== 'string') {
      // Repeated or structured parameters (?jwt=a&jwt=b, ?jwt[x]=y) are ambiguous: refuse them.
      throw new InvalidQueryParamException(`Invalid value for query parameter '${name}'. Expected a single value`);
    }
    if (!value.startsWith(prefix)) {
      throw new InvalidQueryParamException(`Invalid value for query parameter '${name}'. Expected the value to start with '${prefix}'`);
    }
    return { token: value.slice(prefix.length), location: 'query_string' };
  }

  private fromJsonBody(req: HttpRequestLike, settings: TokenTypeSettings): LocationResult {
    if (!isJsonContentType(readHeader(req, 'content-type'))) {
      return { missing: 'Invalid content-type. Must be application/json.' };
    }
    const key = settings.jsonKey;
    // A GET, HEAD or TRACE request has no body token (readBody): the key is missing, as from an empty body.
    const body = readBody(req);
    const value =
      body && typeof body === 'object' && !Array.isArray(body) && Object.hasOwn(body, key)
        ? (body as Record<string, unknown>)[key]
        : undefined;
    if (value === undefined || value === null || value === '' || value === false) {
      return { missing: `Missing "${key}" key in json data.` };
    }
    if (typeof value !== 'string') {
      throw new JwtDecodeException('Invalid token type. Token must be a string');
    }
    return { token: value, location: 'json' };
  }
}
