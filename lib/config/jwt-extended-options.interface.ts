import type { JwtAlgorithm, JwtKey, TokenLocation } from '../tokens/jwt.interfaces.js';

/** Unit of a duration string: seconds, minutes, hours, days, weeks. */
export type DurationUnit = 's' | 'm' | 'h' | 'd' | 'w';

/**
 * Seconds, a duration string (`'15m'`, `'2h'`, `'30d'`), or `false` for no `exp`. Typed so
 * that `'15x'` does not compile; a value read from the environment needs a cast
 * (`process.env.ACCESS_TTL as TokenLifetime`) and is checked when the application starts.
 */
export type TokenLifetime = number | `${number}${DurationUnit}` | false;

export type CookieSameSite = 'Lax' | 'Strict' | 'None';

/** `refreshTokenRotation`: refresh tokens are single-use, in families (CONTRACT §12). */
export interface RefreshTokenRotationOptions {
  /**
   * Seconds after its consumption during which a refresh token presented again gets the
   * family's current refresh token (and a new access token) instead of counting as reuse:
   * for clients that send one refresh twice (two tabs, a retry). Default `0`; at most 2147483.
   */
  reuseInterval?: number;
}

/** Body of library errors: Flask's `{ [errorMessageKey]: message }`, or Nest's `{ statusCode, message, error, code }`. */
export type JwtErrorFormat = 'flask' | 'nest';

/**
 * Options of `JwtExtendedModule` — Flask-JWT-Extended's `JWT_*` settings in camelCase.
 * Every option is optional except the key(s) the algorithm needs.
 */
export interface JwtExtendedOptions {
  /** `JWT_ACCESS_TOKEN_EXPIRES`. Default `900` seconds. */
  accessTokenExpires?: TokenLifetime;
  /** `JWT_REFRESH_TOKEN_EXPIRES`. Default `2592000` seconds (30 days). */
  refreshTokenExpires?: TokenLifetime;
  /** `JWT_ALGORITHM`: the signing algorithm. Default `'HS256'`. */
  algorithm?: JwtAlgorithm;
  /** `JWT_DECODE_ALGORITHMS`: algorithms accepted when decoding. Default `[algorithm]`; `algorithm` is always allowed. */
  decodeAlgorithms?: JwtAlgorithm[];
  /**
   * `JWT_DECODE_AUDIENCE`: the `aud` claim must match one of these. Default `encodeAudience`; with
   * neither set, a token carrying any `aud` claim is refused (422 `Invalid audience`).
   */
  decodeAudience?: string | string[];
  /** `JWT_DECODE_ISSUER`: when set, the `iss` claim must equal it. */
  decodeIssuer?: string;
  /** `JWT_DECODE_LEEWAY`: clock skew allowed for `exp`, `nbf`, `iat`, in seconds. Default `0`. */
  decodeLeeway?: number;
  /** `JWT_ENCODE_AUDIENCE`: `aud` claim of created tokens. */
  encodeAudience?: string | string[];
  /** `JWT_ENCODE_ISSUER`: `iss` claim of created tokens. */
  encodeIssuer?: string;
  /** `JWT_ENCODE_NBF`: add `nbf` (= `iat`) to created tokens. Default `true`. */
  encodeNbf?: boolean;
  /** `JWT_ERROR_MESSAGE_KEY`: key of the message in error bodies. Default `'msg'`. */
  errorMessageKey?: string;
  /**
   * Body of the library's error responses: `'flask'` is `{ [errorMessageKey]: message }`;
   * `'nest'` is `{ statusCode, message, error, code }` like Nest's own exceptions
   * (`errorMessageKey` then does not apply). Error loaders still replace the whole response. Default `'flask'`.
   */
  errorFormat?: JwtErrorFormat;
  /** `JWT_IDENTITY_CLAIM`: claim holding the identity. Default `'sub'`. */
  identityClaim?: string;
  /**
   * `JWT_SECRET_KEY`: HMAC secret for HS*; at least as long as the hash output (32/48/64 bytes).
   * Key material (PEM, certificate, JWK, DER), as a string or as bytes, is refused.
   */
  secretKey?: string | Uint8Array;
  /** `JWT_PRIVATE_KEY`: signing key for RS*, PS*, ES*, EdDSA. */
  privateKey?: Exclude<JwtKey, Uint8Array>;
  /** `JWT_PUBLIC_KEY`: verification key for RS*, PS*, ES*, EdDSA (derived from `privateKey` when omitted). */
  publicKey?: Exclude<JwtKey, Uint8Array>;
  /** `JWT_TOKEN_LOCATION`: where tokens are looked for, in order of precedence. Default `['headers']`. */
  tokenLocation?: TokenLocation | TokenLocation[];
  /** `JWT_VERIFY_SUB`: the `sub` claim must be a string, when decoding and when creating tokens. Default `true`. */
  verifySub?: boolean;
  /** `JWT_HEADER_NAME`. Default `'Authorization'`. */
  headerName?: string;
  /** `JWT_HEADER_TYPE`. Default `'Bearer'`; `''` means the header holds the bare token. */
  headerType?: string;
  /** `JWT_ACCESS_COOKIE_NAME`. Default `'access_token_cookie'`. */
  accessCookieName?: string;
  /** `JWT_ACCESS_COOKIE_PATH`. Default `'/'`. */
  accessCookiePath?: string;
  /** `JWT_COOKIE_CSRF_PROTECT`: double-submit CSRF protection for cookie tokens. Default `true`. */
  cookieCsrfProtect?: boolean;
  /** `JWT_COOKIE_DOMAIN`. */
  cookieDomain?: string;
  /** `JWT_COOKIE_SAMESITE`. `'None'` requires `cookieSecure`. */
  cookieSameSite?: CookieSameSite;
  /** `JWT_COOKIE_SECURE`. Default `false`. */
  cookieSecure?: boolean;
  /** `JWT_REFRESH_COOKIE_NAME`. Default `'refresh_token_cookie'`. */
  refreshCookieName?: string;
  /** `JWT_REFRESH_COOKIE_PATH`. Default `'/'`. */
  refreshCookiePath?: string;
  /** `JWT_SESSION_COOKIE`: session cookies; `false` gives them `Max-Age=31540000`. Default `true`. */
  sessionCookie?: boolean;
  /** `JWT_ACCESS_CSRF_COOKIE_NAME`. Default `'csrf_access_token'`. */
  accessCsrfCookieName?: string;
  /** `JWT_ACCESS_CSRF_COOKIE_PATH`. Default `'/'`. */
  accessCsrfCookiePath?: string;
  /** `JWT_ACCESS_CSRF_FIELD_NAME`: form field read when `csrfCheckForm`. Default `'csrf_token'`. */
  accessCsrfFieldName?: string;
  /** `JWT_ACCESS_CSRF_HEADER_NAME`. Default `'X-CSRF-TOKEN'`. */
  accessCsrfHeaderName?: string;
  /** `JWT_CSRF_CHECK_FORM`: also accept the CSRF value from a form field. Default `false`. */
  csrfCheckForm?: boolean;
  /** `JWT_CSRF_IN_COOKIES`: set readable CSRF cookies beside the token cookies. Default `true`. */
  csrfInCookies?: boolean;
  /** `JWT_CSRF_METHODS`: methods that need the CSRF value. Default `['POST', 'PUT', 'PATCH', 'DELETE']`. */
  csrfMethods?: string[];
  /** `JWT_REFRESH_CSRF_COOKIE_NAME`. Default `'csrf_refresh_token'`. */
  refreshCsrfCookieName?: string;
  /** `JWT_REFRESH_CSRF_COOKIE_PATH`. Default `'/'`. */
  refreshCsrfCookiePath?: string;
  /** `JWT_REFRESH_CSRF_FIELD_NAME`. Default `'csrf_token'`. */
  refreshCsrfFieldName?: string;
  /** `JWT_REFRESH_CSRF_HEADER_NAME`. Default `'X-CSRF-TOKEN'`. */
  refreshCsrfHeaderName?: string;
  /** `JWT_QUERY_STRING_NAME`. Default `'jwt'`. */
  queryStringName?: string;
  /** `JWT_QUERY_STRING_VALUE_PREFIX`. Default `''`. */
  queryStringValuePrefix?: string;
  /** `JWT_JSON_KEY`. Default `'access_token'`. */
  jsonKey?: string;
  /** `JWT_REFRESH_JSON_KEY`. Default `'refresh_token'`. */
  refreshJsonKey?: string;
  /** Flask `add_context_processor`: also expose the user to views (`res.locals.currentUser`). Default `false`. */
  exposeCurrentUserToViews?: boolean;
  /** Tokens longer than this many characters are refused before parsing. Default `8192`. */
  maxTokenLength?: number;
  /**
   * Milliseconds a request-time loader (blocklist, token verification, user lookup,
   * decode key) may take before the request fails closed with 503. Default `5000`;
   * `0` disables the timeout; at most 2147483647 (2^31−1, the longest timer Node keeps).
   */
  loaderTimeout?: number;
  /**
   * How many verified tokens to remember (keyed by the whole token) so a repeated
   * token skips parsing and the signature check. Entries never outlive the token's
   * `exp`; type, freshness, CSRF, revocation, claims verification and user lookup
   * still run on every request. Not used with a `decodeKey` loader. Default `10000`; `0` disables.
   */
  tokenCacheSize?: number;
  /**
   * Refresh-token rotation with reuse detection: `rotateRefreshToken` consumes a refresh token
   * and hands out its successor; presenting a consumed one again revokes its whole family.
   * Needs `loaders.refreshTokenStore` and finite token lifetimes. Default: off.
   */
  refreshTokenRotation?: RefreshTokenRotationOptions;
}

/** Implemented by classes given to `forRootAsync({ useClass | useExisting })`. */
export interface JwtExtendedOptionsFactory {
  createJwtExtendedOptions(): JwtExtendedOptions | Promise<JwtExtendedOptions>;
}
