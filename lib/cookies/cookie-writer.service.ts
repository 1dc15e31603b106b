import { Inject, Injectable } from '@nestjs/common';
import { JWT_EXTENDED_CONFIG } from '../config/injection-tokens.js';
import type { JwtExtendedConfig, TokenType, TokenTypeSettings } from '../config/jwt-extended-config.js';
import { type HttpResponseLike, appendSetCookie } from '../request/http-adapter.js';

export interface SetCookieOptions {
  /** Max-Age: whole seconds, 0 to 34560000 (400 days); overrides `sessionCookie`. */
  maxAge?: number;
  /** Overrides `cookieDomain`. */
  domain?: string;
}

export interface UnsetCookieOptions {
  /** Overrides `cookieDomain`; must match the domain the cookie was set with. */
  domain?: string;
}

/** Flask's `JWT_SESSION_COOKIE = False` lifetime: one year. */
const PERSISTENT_MAX_AGE = 31540000;
/** 400 days: browsers cap cookie lifetimes there (RFC 6265bis §5.6.1); a longer one only looks valid. */
const MAX_COOKIE_AGE = 34560000;
const FORBIDDEN_IN_ATTRIBUTE = /[;\s\u0000-\u001f\u007f]/;

interface CookieSpec {
  name: string;
  value: string;
  path: string;
  httpOnly: boolean;
}

/** Writes the token and CSRF cookies on Express responses and Fastify replies, no cookie plugin needed. */
@Injectable()
export class CookieWriter {
  constructor(@Inject(JWT_EXTENDED_CONFIG) private readonly config: JwtExtendedConfig) {}

  setTokenCookies(res: HttpResponseLike, type: TokenType, token: string, csrf: string | undefined, options: SetCookieOptions = {}): void {
    const { maxAge, domain } = options;
    // Anything else writes a cookie that lies: `Expires=Invalid Date` (1e21), or Max-Age=0 with a future Expires (0.5).
    if (maxAge !== undefined && !(Number.isInteger(maxAge) && maxAge >= 0 && maxAge <= MAX_COOKIE_AGE)) {
      throw new TypeError(
        `maxAge must be a whole number of seconds from 0 to ${MAX_COOKIE_AGE} (400 days), got ${typeof maxAge === 'string' ? JSON.stringify(maxAge) : String(maxAge)}`,
      );
    }
    const lifetime = maxAge ?? (this.config.sessionCookie ? undefined : PERSISTENT_MAX_AGE);
    for (const spec of this.cookies(this.config.tokens[type], token, csrf)) {
      appendSetCookie(res, this.serialize(spec, lifetime, domain));
    }
  }

  unsetTokenCookies(res: HttpResponseLike, type: TokenType, options: UnsetCookieOptions = {}): void {
    for (const spec of this.cookies(this.config.tokens[type], '', '')) {
      appendSetCookie(res, this.serialize(spec, 0, options.domain));
    }
  }

  private cookies(settings: TokenTypeSettings, token: string, csrf: string | undefined): CookieSpec[] {
    const specs: CookieSpec[] = [{ name: settings.cookieName, value: token, path: settings.cookiePath, httpOnly: true }];
    if (this.config.cookieCsrfProtect && this.config.csrfInCookies && csrf !== undefined) {
      specs.push({
        name: settings.csrfCookieName,
        value: csrf,
        path: settings.csrfCookiePath,
        // Readable by the page's JavaScript, which echoes it in the CSRF header.
        httpOnly: false,
      });
    }
    return specs;
  }

  private serialize(spec: CookieSpec, maxAge: number | undefined, domainOverride: string | undefined): string {
    if (FORBIDDEN_IN_ATTRIBUTE.test(spec.value) || spec.value.includes(',')) {
      throw new TypeError(`Cookie ${spec.name} would hold characters a cookie value cannot carry`);
    }
    const domain = domainOverride ?? this.config.cookieDomain;
    if (domain !== undefined && FORBIDDEN_IN_ATTRIBUTE.test(domain)) throw new TypeError(`Invalid cookie domain ${JSON.stringify(domain)}`);
    let cookie = `${spec.name}=${spec.value}; Path=${spec.path}`;
    if (domain) cookie += `; Domain=${domain}`;
    if (maxAge !== undefined) {
      cookie += `; Max-Age=${maxAge}`;
      if (maxAge === 0) cookie += '; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
      else cookie += `; Expires=${new Date(Date.now() + maxAge * 1000).toUTCString()}`;
    }
    if (this.config.cookieSecure) cookie += '; Secure';
    if (spec.httpOnly) cookie += '; HttpOnly';
    if (this.config.cookieSameSite) cookie += `; SameSite=${this.config.cookieSameSite}`;
    return cookie;
  }
}
