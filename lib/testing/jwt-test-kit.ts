import type { INestApplicationContext } from '@nestjs/common';
import { JWT_EXTENDED_CONFIG } from '../config/injection-tokens.js';
import type { JwtExtendedConfig, TokenType } from '../config/jwt-extended-config.js';
import { JwtExtendedService } from '../service/jwt-extended.service.js';
import type { CreateAccessTokenOptions, CreateRefreshTokenOptions } from '../tokens/token-signer.service.js';

/** Request headers to hand to supertest's `.set()` (or any HTTP client). */
export type TestHeaders = Record<string, string>;

/**
 * Tokens and request headers for tests, made by the app's own `JwtExtendedService` with
 * the app's configuration and keys: requests carrying them go through the real guard.
 */
export class JwtTestKit {
  private constructor(
    private readonly jwt: JwtExtendedService,
    private readonly config: JwtExtendedConfig,
  ) {}

  /**
   * The kit for an app (`INestApplication`) or a compiled `TestingModule` that imports
   * `JwtExtendedModule` anywhere in its module tree.
   */
  static from(app: Pick<INestApplicationContext, 'get'>): JwtTestKit {
    let jwt: JwtExtendedService;
    let config: JwtExtendedConfig;
    try {
      // Not strict: the module may be imported anywhere in the app's tree.
      jwt = app.get(JwtExtendedService, { strict: false });
      config = app.get<symbol, JwtExtendedConfig>(JWT_EXTENDED_CONFIG, { strict: false });
    } catch (cause) {
      throw new Error(
        'JwtTestKit.from(): the application does not use JwtExtendedModule; import JwtExtendedModule.forRoot() or forRootAsync() in the module under test',
        { cause },
      );
    }
    return new JwtTestKit(jwt, config);
  }

  /** An access token, as `createAccessToken` makes it. */
  accessToken(identity: unknown, options?: CreateAccessTokenOptions): Promise<string> {
    return this.jwt.createAccessToken(identity, options);
  }

  /** A refresh token, as `createRefreshToken` makes it. */
  refreshToken(identity: unknown, options?: CreateRefreshTokenOptions): Promise<string> {
    return this.jwt.createRefreshToken(identity, options);
  }

  /** An access token that expired a minute before the decoder's leeway ends: the guard answers 401 `Token has expired`. */
  expiredAccessToken(identity: unknown, options?: Omit<CreateAccessTokenOptions, 'expiresDelta'>): Promise<string> {
    return this.jwt.createAccessToken(identity, { ...options, expiresDelta: -(this.config.decodeLeeway + 60) });
  }

  /** `{ [headerName]: '<headerType> <access token>' }` with the configured names; the bare token when `headerType` is `''`. */
  async bearer(identity: unknown, options?: CreateAccessTokenOptions): Promise<TestHeaders> {
    const token = await this.accessToken(identity, options);
    const { headerName, headerType } = this.config;
    return { [headerName]: headerType === '' ? token : `${headerType} ${token}` };
  }

  /**
   * What a browser sends after `setAccessCookies`: `Cookie` with the access cookie (and the
   * CSRF cookie when `csrfInCookies`), plus the CSRF header that the double submit needs on
   * `csrfMethods` (left out when `cookieCsrfProtect` is off).
   */
  async cookies(identity: unknown, options?: CreateAccessTokenOptions): Promise<TestHeaders> {
    return this.cookieHeaders('access', await this.accessToken(identity, options));
  }

  /** Like `cookies()`, for a refresh token: the refresh cookie names, CSRF cookie and CSRF header. */
  async refreshCookies(identity: unknown, options?: CreateRefreshTokenOptions): Promise<TestHeaders> {
    return this.cookieHeaders('refresh', await this.refreshToken(identity, options));
  }

  private cookieHeaders(type: TokenType, token: string): TestHeaders {
    const { cookieName, csrfCookieName, csrfHeaderName } = this.config.tokens[type];
    const tokenCookie = `${cookieName}=${token}`;
    if (!this.config.cookieCsrfProtect) return { Cookie: tokenCookie };
    const csrf = this.jwt.getCsrfToken(token);
    const cookie = this.config.csrfInCookies ? `${tokenCookie}; ${csrfCookieName}=${csrf}` : tokenCookie;
    return { Cookie: cookie, [csrfHeaderName]: csrf };
  }
}
