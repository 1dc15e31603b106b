import type { KeyObject } from 'node:crypto';
import type { ClaimsSchema } from '../claims/claims-validator.js';
import type { AsymmetricAlgorithm, JwtAlgorithm, TokenLocation } from '../tokens/jwt.interfaces.js';
import type { CookieSameSite, JwtErrorFormat } from './jwt-extended-options.interface.js';

/** Access or refresh: the two kinds of token, each with its own cookies, CSRF names and JSON key. */
export type TokenType = 'access' | 'refresh';

/** Where one kind of token travels, resolved once from the flat `access*` / `refresh*` options. */
export interface TokenTypeSettings {
  cookieName: string;
  cookiePath: string;
  csrfCookieName: string;
  csrfCookiePath: string;
  csrfHeaderName: string;
  /** `csrfHeaderName` lower-cased, as Node delivers incoming header names. */
  csrfHeaderKey: string;
  csrfFieldName: string;
  jsonKey: string;
}

/** A `verificationKeys` entry, imported and checked against its algorithm. */
export interface ResolvedVerificationKey {
  readonly kid: string;
  readonly algorithm: JwtAlgorithm;
  /** Public key, or the secret for HS*. */
  readonly key: KeyObject;
}

/** A `trustedIssuers` entry with its defaults, durations in milliseconds. */
export interface ResolvedTrustedIssuer {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly algorithms: ReadonlySet<AsymmetricAlgorithm>;
  /** The issuer's `audience`, else `decodeAudience`; absent: a token carrying `aud` is refused. */
  readonly audience?: readonly string[];
  readonly cacheMaxAgeMs: number;
  readonly cooldownMs: number;
  readonly timeoutMs: number;
}

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
  errorFormat: JwtErrorFormat;
  identityClaim: string;
  /** Imported once at start-up; absent where a key loader stands in. */
  keys: { secret?: KeyObject; private?: KeyObject; public?: KeyObject };
  tokenLocation: readonly TokenLocation[];
  verifySub: boolean;
  headerName: string;
  headerType: string;
  cookieCsrfProtect: boolean;
  cookieDomain?: string;
  cookieSameSite?: CookieSameSite;
  cookieSecure: boolean;
  sessionCookie: boolean;
  csrfCheckForm: boolean;
  csrfInCookies: boolean;
  csrfMethods: ReadonlySet<string>;
  queryStringName: string;
  queryStringValuePrefix: string;
  exposeCurrentUserToViews: boolean;
  /** Settings that differ between access and refresh tokens: `config.tokens[type]`, no ternaries. */
  tokens: Readonly<Record<TokenType, Readonly<TokenTypeSettings>>>;
  maxTokenLength: number;
  /** Milliseconds, 0 to 2^31−1; 0 means no deadline. */
  loaderTimeout: number;
  tokenCacheSize: number;
  claimsSchema?: ClaimsSchema;
  /** Serialized origins whose WebSocket handshakes may carry a cookie token. */
  wsAllowedOrigins: ReadonlySet<string>;
  /** `keyId` as configured; the thumbprint default is derived by `KeyRing` (asynchronous, jose). */
  keyId?: string;
  verificationKeys: readonly ResolvedVerificationKey[];
  jwksPath?: string;
  /** By exact `issuer`. */
  trustedIssuers: ReadonlyMap<string, ResolvedTrustedIssuer>;
  /** Present when refresh tokens rotate; `reuseInterval` in seconds. */
  refreshTokenRotation?: { readonly reuseInterval: number };
}
