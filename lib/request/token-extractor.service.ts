import { Inject, Injectable } from '@nestjs/common';
import { CsrfException, InvalidHeaderException, InvalidQueryParamException, JwtDecodeException } from '../errors/exceptions.js';
import { JWT_EXTENDED_CONFIG } from '../module/constants.js';
import type { JwtExtendedConfig } from '../module/jwt-extended-config.js';
import type { TokenLocation } from '../tokens/jwt.interfaces.js';
import { type HttpRequestLike, readBody, readCookie, readHeader, readQueryParam } from './http-adapter.js';

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

const EDGE_COMMAS_AND_SPACES = /^[\s,]+|[\s,]+$/g;
const JSON_CONTENT_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** Finds the token of a request in the configured locations: the one path for the guard and `verifyJwtInRequest`. */
@Injectable()
export class TokenExtractor {
  private readonly messageKey: string;
  // Configured header names, lower-cased once: incoming names are lower-case.
  private readonly headerKey: string;
  private readonly accessCsrfHeaderKey: string;
  private readonly refreshCsrfHeaderKey: string;

  constructor(@Inject(JWT_EXTENDED_CONFIG) private readonly config: JwtExtendedConfig) {
    this.messageKey = config.errorMessageKey;
    this.headerKey = config.headerName.toLowerCase();
    this.accessCsrfHeaderKey = config.accessCsrfHeaderName.toLowerCase();
    this.refreshCsrfHeaderKey = config.refreshCsrfHeaderName.toLowerCase();
  }

  /** The first token found in `locations`, in order; or the combined "missing" message. */
  extract(req: HttpRequestLike, locations: readonly TokenLocation[], refresh: boolean): FoundToken | { missing: string } {
    if (locations.length === 1) return this.read(req, locations[0], refresh);
    const reasons: string[] = [];
    for (const location of locations) {
      const result = this.read(req, location, refresh);
      if (!('missing' in result)) return result;
      reasons.push(result.missing);
    }
    return {
      missing: `Missing JWT in ${locations.slice(0, -1).join(', ')} or ${locations.at(-1)} (${reasons.join('; ')})`,
    };
  }

  private read(req: HttpRequestLike, location: TokenLocation, refresh: boolean): LocationResult {
    switch (location) {
      case 'headers':
        return this.fromHeader(req);
      case 'cookies':
        return this.fromCookie(req, refresh);
      case 'query_string':
        return this.fromQueryString(req);
      case 'json':
        return this.fromJsonBody(req, refresh);
    }
  }

  private fromHeader(req: HttpRequestLike): LocationResult {
    const { headerName, headerType } = this.config;
    const raw = readHeader(req, this.headerKey)?.replace(EDGE_COMMAS_AND_SPACES, '');
    if (!raw) return { missing: `Missing ${headerName} Header` };

    if (headerType === '') {
      const parts = raw.split(/\s+/);
      if (parts.length !== 1) {
        throw new InvalidHeaderException(`Bad ${headerName} header. Expected '${headerName}: <JWT>'`, { messageKey: this.messageKey });
      }
      return { token: parts[0], location: 'headers' };
    }

    // The header may carry several credentials: "Basic x, Bearer <JWT>" (RFC 7235 §4.2).
    const type = headerType.toLowerCase();
    let credential = '';
    let found = 0;
    for (const part of raw.includes(',') ? raw.split(',') : [raw]) {
      const candidate = part.trim();
      if (candidate.split(/\s/, 1)[0].toLowerCase() === type) {
        credential = candidate;
        found++;
      }
    }
    if (found !== 1) {
      return {
        missing: `Missing '${headerType}' type in '${headerName}' header. Expected '${headerName}: ${headerType} <JWT>'`,
      };
    }
    const parts = credential.split(/\s+/);
    if (parts.length !== 2) {
      throw new InvalidHeaderException(`Bad ${headerName} header. Expected '${headerName}: ${headerType} <JWT>'`, {
        messageKey: this.messageKey,
      });
    }
    return { token: parts[1], location: 'headers' };
  }

  private fromCookie(req: HttpRequestLike, refresh: boolean): LocationResult {
    const config = this.config;
    const cookieName = refresh ? config.refreshCookieName : config.accessCookieName;
    const token = readCookie(req, cookieName);
    if (!token) return { missing: `Missing cookie "${cookieName}"` };
    if (!config.cookieCsrfProtect || !config.csrfMethods.has((req.method ?? 'GET').toUpperCase())) {
      return { token, location: 'cookies' };
    }
    let csrfValue = readHeader(req, refresh ? this.refreshCsrfHeaderKey : this.accessCsrfHeaderKey);
    if (!csrfValue && config.csrfCheckForm) {
      const body = readBody(req);
      const field = refresh ? config.refreshCsrfFieldName : config.accessCsrfFieldName;
      const value = body && typeof body === 'object' && Object.hasOwn(body, field) ? (body as Record<string, unknown>)[field] : undefined;
      if (typeof value === 'string') csrfValue = value;
    }
    if (!csrfValue) throw new CsrfException('Missing CSRF token', { messageKey: this.messageKey });
    return { token, location: 'cookies', csrfValue };
  }

  private fromQueryString(req: HttpRequestLike): LocationResult {
    const { queryStringName: name, queryStringValuePrefix: prefix } = this.config;
    const value = readQueryParam(req, name);
    if (value === undefined || value === '') return { missing: `Missing '${name}' query parameter` };
    if (typeof value !== 'string') {
      // Repeated or structured parameters (?jwt=a&jwt=b, ?jwt[x]=y) are ambiguous: refuse them.
      throw new InvalidQueryParamException(`Invalid value for query parameter '${name}'. Expected a single value`, {
        messageKey: this.messageKey,
      });
    }
    if (!value.startsWith(prefix)) {
      throw new InvalidQueryParamException(`Invalid value for query parameter '${name}'. Expected the value to start with '${prefix}'`, {
        messageKey: this.messageKey,
      });
    }
    return { token: value.slice(prefix.length), location: 'query_string' };
  }

  private fromJsonBody(req: HttpRequestLike, refresh: boolean): LocationResult {
    if (!JSON_CONTENT_TYPE.test(readHeader(req, 'content-type') ?? '')) {
      return { missing: 'Invalid content-type. Must be application/json.' };
    }
    const key = refresh ? this.config.refreshJsonKey : this.config.jsonKey;
    const body = readBody(req);
    const value =
      body && typeof body === 'object' && !Array.isArray(body) && Object.hasOwn(body, key)
        ? (body as Record<string, unknown>)[key]
        : undefined;
    if (value === undefined || value === null || value === '' || value === false) {
      return { missing: `Missing "${key}" key in json data.` };
    }
    if (typeof value !== 'string') {
      throw new JwtDecodeException('Invalid token type. Token must be a string', { messageKey: this.messageKey });
    }
    return { token: value, location: 'json' };
  }
}
