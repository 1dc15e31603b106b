import type { ClaimsSchema } from '../claims/claims-validator.js';
import type { AsymmetricAlgorithm, JwtAlgorithm, JwtKey, TokenLocation } from '../tokens/jwt.interfaces.js';

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
   * still run on every request. Once full, a new token gets in on its second request (with
   * a `claimsSchema`, on its first). Not used with a `decodeKey` loader. Default `10000`; `0` disables.
   */
  tokenCacheSize?: number;
  /**
   * Refresh-token rotation with reuse detection: `rotateRefreshToken` consumes a refresh token
   * and hands out its successor; presenting a consumed one again revokes its whole family.
   * Needs `loaders.refreshTokenStore` and finite token lifetimes. Default: off.
   */
  refreshTokenRotation?: RefreshTokenRotationOptions;
  /**
   * A Standard Schema v1 (zod, valibot, arktype, …) of the whole payload. Every decoded payload
   * goes through it after the signature and registered claims (422 `Invalid claims: <path>: <issue>`,
   * through the `invalidToken` loader); its output is what handlers and loaders see (claims it
   * leaves out, and the registered claims, stay as verified). New tokens' claims are checked too:
   * creation rejects with `ClaimsValidationError`. With the verified-token cache, once per token.
   */
  claimsSchema?: ClaimsSchema;
  /**
   * Origins (`scheme://host[:port]`, as browsers send them in `Origin`) whose WebSocket
   * handshakes may carry the token in a cookie. A WebSocket has no CSRF header, so any site
   * could open one with the user's cookies (cross-site WebSocket hijacking). Default `[]`:
   * cookie tokens are never accepted on WebSockets.
   */
  wsAllowedOrigins?: string[];
  /** `kid` header of created tokens. Default: the RFC 7638 thumbprint of an asymmetric signing key; none for HS*. */
  keyId?: string;
  /** Further keys accepted for tokens whose `kid` names them, each with its own algorithm (key rotation). */
  verificationKeys?: VerificationKey[];
  /** Serve `getPublicJwks()` at this path (GET), e.g. `'/.well-known/jwks.json'`. */
  jwksPath?: string;
  /** Identity providers whose tokens (selected by exact `iss`) are verified with their remote JWKS. */
  trustedIssuers?: TrustedIssuer[];
}

/** A key accepted for tokens whose `kid` header names it (option `verificationKeys`): the old key during a rotation. */
export interface VerificationKey {
  /** The `kid` tokens signed with this key carry; unique among all keys. */
  kid: string;
  /** The one algorithm accepted for tokens with this `kid`. */
  algorithm: JwtAlgorithm;
  /** The public key (PEM, JWK, KeyObject; a private key's public half is used) or, for HS*, the secret. */
  key: JwtKey;
}

/** An identity provider whose tokens are verified with its published key set (option `trustedIssuers`). */
export interface TrustedIssuer {
  /** Selects this issuer when a token's `iss` claim equals it exactly. */
  issuer: string;
  /** `https:` (or `http:`) URL of the issuer's JWKS. */
  jwksUri: string;
  /** Algorithms accepted from this issuer; asymmetric only. */
  algorithms: AsymmetricAlgorithm[];
  /** The `aud` its tokens must carry (one of). Default: the module's `decodeAudience`. */
  audience?: string | string[];
  /** Seconds the key set is cached. Default `600`. */
  cacheMaxAge?: number;
  /** Seconds between refetches caused by an unknown `kid`. Default `30`. */
  cooldown?: number;
  /** Milliseconds a fetch of the key set may take. Default `5000`. */
  timeout?: number;
}

/** Implemented by classes given to `forRootAsync({ useClass | useExisting })`. */
export interface JwtExtendedOptionsFactory {
  createJwtExtendedOptions(): JwtExtendedOptions | Promise<JwtExtendedOptions>;
}
