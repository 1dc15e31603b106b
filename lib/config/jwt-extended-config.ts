import type { KeyObject } from 'node:crypto';
import type { JwtAlgorithm, TokenLocation } from '../tokens/jwt.interfaces.js';
import type { CookieSameSite } from './jwt-extended-options.interface.js';

/** Options after defaults, normalisation, validation and key import. Internal. */
export interface JwtExtendedConfig {
  accessTokenExpires: number | false;
  refreshTokenExpires: number | false;
  algorithm: JwtAlgorithm;
  /** `algorithm` plus `decodeAlgorithms`. */
  allowedAlgorithms: ReadonlySet<JwtAlgorithm>;
  /** `decodeAudience`, else `encodeAudience`; absent: a token carrying `aud` is refused. */
  decodeAudience?: readonly string[];
  decodeIssuer?: string;
  decodeLeeway: number;
  encodeAudience?: string | string[];
  encodeIssuer?: string;
  encodeNbf: boolean;
  errorMessageKey: string;
  identityClaim: string;
  /** Imported once at start-up; absent where a key loader stands in. */
  keys: { secret?: KeyObject; private?: KeyObject; public?: KeyObject };
  tokenLocation: readonly TokenLocation[];
  verifySub: boolean;
  headerName: string;
  headerType: string;
  accessCookieName: string;
  accessCookiePath: string;
  cookieCsrfProtect: boolean;
  cookieDomain?: string;
  cookieSameSite?: CookieSameSite;
  cookieSecure: boolean;
  refreshCookieName: string;
  refreshCookiePath: string;
  sessionCookie: boolean;
  accessCsrfCookieName: string;
  accessCsrfCookiePath: string;
  accessCsrfFieldName: string;
  accessCsrfHeaderName: string;
  csrfCheckForm: boolean;
  csrfInCookies: boolean;
  csrfMethods: ReadonlySet<string>;
  refreshCsrfCookieName: string;
  refreshCsrfCookiePath: string;
  refreshCsrfFieldName: string;
  refreshCsrfHeaderName: string;
  queryStringName: string;
  queryStringValuePrefix: string;
  jsonKey: string;
  refreshJsonKey: string;
  exposeCurrentUserToViews: boolean;
  maxTokenLength: number;
  /** Milliseconds, 0 to 2^31−1; 0 means no deadline. */
  loaderTimeout: number;
  tokenCacheSize: number;
}
