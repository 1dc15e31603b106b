import type { JwtExtendedOptions } from './jwt-extended-options.interface.js';

/**
 * Longest token lifetime (seconds) while refresh tokens rotate: 100 years. A store keeps each
 * family as long as its tokens live, in milliseconds that must stay exact (and fit Redis's expiry).
 */
export const MAX_FAMILY_LIFETIME = 100 * 365 * 86400;

/** Flask-JWT-Extended's defaults (CONTRACT §2) and this library's own. */
export const DEFAULTS = {
  accessTokenExpires: 900,
  refreshTokenExpires: 2592000,
  algorithm: 'HS256',
  decodeLeeway: 0,
  encodeNbf: true,
  errorMessageKey: 'msg',
  errorFormat: 'flask',
  identityClaim: 'sub',
  tokenLocation: ['headers'],
  verifySub: true,
  headerName: 'Authorization',
  headerType: 'Bearer',
  accessCookieName: 'access_token_cookie',
  accessCookiePath: '/',
  cookieCsrfProtect: true,
  cookieSecure: false,
  refreshCookieName: 'refresh_token_cookie',
  refreshCookiePath: '/',
  sessionCookie: true,
  accessCsrfCookieName: 'csrf_access_token',
  accessCsrfCookiePath: '/',
  accessCsrfFieldName: 'csrf_token',
  accessCsrfHeaderName: 'X-CSRF-TOKEN',
  csrfCheckForm: false,
  csrfInCookies: true,
  csrfMethods: ['POST', 'PUT', 'PATCH', 'DELETE'],
  refreshCsrfCookieName: 'csrf_refresh_token',
  refreshCsrfCookiePath: '/',
  refreshCsrfFieldName: 'csrf_token',
  refreshCsrfHeaderName: 'X-CSRF-TOKEN',
  queryStringName: 'jwt',
  queryStringValuePrefix: '',
  jsonKey: 'access_token',
  refreshJsonKey: 'refresh_token',
  exposeCurrentUserToViews: false,
  maxTokenLength: 8192,
  loaderTimeout: 5000,
  tokenCacheSize: 10000,
  wsAllowedOrigins: [],
} as const satisfies JwtExtendedOptions;

/** Defaults of each `trustedIssuers` entry (CONTRACT §11): seconds, seconds, milliseconds. */
export const TRUSTED_ISSUER_DEFAULTS = { cacheMaxAge: 600, cooldown: 30, timeout: 5000 } as const;

/**
 * Every option name, checked against the options type both ways: adding an option to
 * `JwtExtendedOptions` without listing it here does not compile.
 */
const OPTION_NAMES = {
  accessTokenExpires: true,
  refreshTokenExpires: true,
  algorithm: true,
  decodeAlgorithms: true,
  decodeAudience: true,
  decodeIssuer: true,
  decodeLeeway: true,
  encodeAudience: true,
  encodeIssuer: true,
  encodeNbf: true,
  errorMessageKey: true,
  errorFormat: true,
  identityClaim: true,
  secretKey: true,
  privateKey: true,
  publicKey: true,
  tokenLocation: true,
  verifySub: true,
  headerName: true,
  headerType: true,
  accessCookieName: true,
  accessCookiePath: true,
  cookieCsrfProtect: true,
  cookieDomain: true,
  cookieSameSite: true,
  cookieSecure: true,
  refreshCookieName: true,
  refreshCookiePath: true,
  sessionCookie: true,
  accessCsrfCookieName: true,
  accessCsrfCookiePath: true,
  accessCsrfFieldName: true,
  accessCsrfHeaderName: true,
  csrfCheckForm: true,
  csrfInCookies: true,
  csrfMethods: true,
  refreshCsrfCookieName: true,
  refreshCsrfCookiePath: true,
  refreshCsrfFieldName: true,
  refreshCsrfHeaderName: true,
  queryStringName: true,
  queryStringValuePrefix: true,
  jsonKey: true,
  refreshJsonKey: true,
  exposeCurrentUserToViews: true,
  maxTokenLength: true,
  loaderTimeout: true,
  tokenCacheSize: true,
  claimsSchema: true,
  wsAllowedOrigins: true,
  keyId: true,
  verificationKeys: true,
  jwksPath: true,
  trustedIssuers: true,
  refreshTokenRotation: true,
} as const satisfies Record<keyof JwtExtendedOptions, true>;

/** Names `resolveConfig` accepts; anything else is a typo and stops start-up. */
export const KNOWN_OPTIONS: ReadonlySet<string> = new Set(Object.keys(OPTION_NAMES));
