import type { JwtAlgorithm } from '../tokens/jwt.interfaces.js';
import { type KeyLoaderPresence, importKeys, importVerificationKeys } from '../keys/configured-keys.js';
import { isPublishable } from '../keys/key-ring.js';
import { JwtExtendedConfigError, fail } from './config-error.js';
import { MAX_TIMER_MS } from '../loaders/deadline.js';
import { KNOWN_OPTIONS } from './defaults.js';
import type { JwtExtendedConfig, TokenType, TokenTypeSettings } from './jwt-extended-config.js';
import type { JwtExtendedOptions } from './jwt-extended-options.interface.js';
import {
  COOKIE_ATTRIBUTE_FORBIDDEN,
  HTTP_TOKEN,
  algorithmName,
  allowedOrigins,
  bool,
  claimsSchema,
  cookiePath,
  errorFormat,
  finiteNumber,
  httpToken,
  jwksPath,
  lifetime,
  optionalText,
  pick,
  refreshTokenRotation,
  sameSite,
  stringList,
  text,
  tokenLocations,
  trustedIssuers,
} from './option-checks.js';

export interface ResolvedConfig {
  config: JwtExtendedConfig;
  /** Risky but legal settings, for the module to log. */
  warnings: string[];
}

/**
 * Applies defaults, validates every option, and imports keys once. Throws
 * `JwtExtendedConfigError` (naming the option) on anything the module must not run with.
 */
export function resolveConfig(options: JwtExtendedOptions, loaders: KeyLoaderPresence): ResolvedConfig {
  if (typeof options !== 'object' || options === null) {
    throw new JwtExtendedConfigError('options', 'must be an object');
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) fail(key, 'is not an option of JwtExtendedModule');
  }

  const algorithm = algorithmName(pick(options, 'algorithm'), 'algorithm');
  if (options.decodeAlgorithms !== undefined && (!Array.isArray(options.decodeAlgorithms) || options.decodeAlgorithms.length === 0)) {
    fail('decodeAlgorithms', 'must be a non-empty array of algorithm names');
  }
  const allowedAlgorithms = new Set<JwtAlgorithm>([
    algorithm,
    ...(options.decodeAlgorithms ?? []).map((alg) => algorithmName(alg, 'decodeAlgorithms')),
  ]);

  const cookieSecure = bool(options, 'cookieSecure');
  const cookieSameSite = sameSite(options.cookieSameSite);
  if (cookieSameSite === 'None' && !cookieSecure) {
    fail('cookieSameSite', "is 'None', which browsers only accept with cookieSecure: true");
  }
  const cookieDomain = optionalText(options.cookieDomain, 'cookieDomain');
  if (cookieDomain !== undefined && COOKIE_ATTRIBUTE_FORBIDDEN.test(cookieDomain)) {
    fail('cookieDomain', `must be a domain name, got ${JSON.stringify(cookieDomain)}`);
  }

  const headerType = text(options, 'headerType', { allowEmpty: true });
  if (headerType !== '' && !HTTP_TOKEN.test(headerType)) {
    fail('headerType', `must be a single word such as 'Bearer' (or '' for a bare token), got ${JSON.stringify(headerType)}`);
  }

  const csrfMethodsValue: unknown = pick(options, 'csrfMethods');
  if (!Array.isArray(csrfMethodsValue) || csrfMethodsValue.some((m) => typeof m !== 'string' || !HTTP_TOKEN.test(m))) {
    fail('csrfMethods', 'must be an array of HTTP method names');
  }

  const maxTokenLength = finiteNumber(options, 'maxTokenLength', 1);
  if (!Number.isInteger(maxTokenLength)) fail('maxTokenLength', 'must be a whole number of characters');
  const tokenCacheSize = finiteNumber(options, 'tokenCacheSize', 0);
  if (!Number.isInteger(tokenCacheSize)) fail('tokenCacheSize', 'must be a whole number of tokens');

  // Tokens this app issues must verify here; with neither set, any `aud` is foreign (RFC 7519 §4.1.3).
  const decodeAudience = stringList(options.decodeAudience, 'decodeAudience') ?? stringList(options.encodeAudience, 'encodeAudience');
  const keys = importKeys(options, algorithm, allowedAlgorithms, loaders);
  const verificationKeys = importVerificationKeys(options, loaders);
  const path = jwksPath(options.jwksPath);
  const publishable =
    (keys.public && isPublishable(algorithm, keys.public)) || verificationKeys.some(({ algorithm: alg, key }) => isPublishable(alg, key));
  if (path !== undefined && !publishable) {
    fail(
      'jwksPath',
      'has no public key to publish: HS* secrets are never published, RSA-PSS-restricted keys have no JWK form (configure an asymmetric key)',
    );
  }

  const accessTokenExpires = lifetime(options, 'accessTokenExpires');
  const refreshTokenExpires = lifetime(options, 'refreshTokenExpires');
  const config: JwtExtendedConfig = {
    accessTokenExpires,
    refreshTokenExpires,
    algorithm,
    allowedAlgorithms,
    decodeAudience,
    decodeIssuer: optionalText(options.decodeIssuer, 'decodeIssuer'),
    decodeLeeway: finiteNumber(options, 'decodeLeeway', 0),
    encodeAudience: stringList(options.encodeAudience, 'encodeAudience') ? options.encodeAudience : undefined,
    encodeIssuer: optionalText(options.encodeIssuer, 'encodeIssuer'),
    encodeNbf: bool(options, 'encodeNbf'),
    errorMessageKey: text(options, 'errorMessageKey'),
    errorFormat: errorFormat(options),
    identityClaim: text(options, 'identityClaim'),
    keys,
    tokenLocation: tokenLocations(options),
    verifySub: bool(options, 'verifySub'),
    headerName: httpToken(options, 'headerName'),
    headerType,
    cookieCsrfProtect: bool(options, 'cookieCsrfProtect'),
    cookieDomain,
    cookieSameSite,
    cookieSecure,
    sessionCookie: bool(options, 'sessionCookie'),
    csrfCheckForm: bool(options, 'csrfCheckForm'),
    csrfInCookies: bool(options, 'csrfInCookies'),
    csrfMethods: new Set((csrfMethodsValue as string[]).map((m) => m.toUpperCase())),
    queryStringName: text(options, 'queryStringName'),
    queryStringValuePrefix: text(options, 'queryStringValuePrefix', { allowEmpty: true }),
    exposeCurrentUserToViews: bool(options, 'exposeCurrentUserToViews'),
    tokens: {
      access: tokenTypeSettings(options, 'access'),
      refresh: tokenTypeSettings(options, 'refresh'),
    },
    maxTokenLength,
    loaderTimeout: finiteNumber(options, 'loaderTimeout', 0, MAX_TIMER_MS),
    tokenCacheSize,
    claimsSchema: claimsSchema(options.claimsSchema),
    wsAllowedOrigins: allowedOrigins(options),
    keyId: optionalText(options.keyId, 'keyId'),
    verificationKeys,
    jwksPath: path,
    trustedIssuers: trustedIssuers(options, decodeAudience),
    refreshTokenRotation: refreshTokenRotation(options, { access: accessTokenExpires, refresh: refreshTokenExpires }),
  };
  return { config, warnings: riskWarnings(config) };
}

/** The flat, Flask-named options behind each kind of token's settings. */
const TOKEN_TYPE_OPTIONS = {
  access: {
    cookieName: 'accessCookieName',
    cookiePath: 'accessCookiePath',
    csrfCookieName: 'accessCsrfCookieName',
    csrfCookiePath: 'accessCsrfCookiePath',
    csrfHeaderName: 'accessCsrfHeaderName',
    csrfFieldName: 'accessCsrfFieldName',
    jsonKey: 'jsonKey',
  },
  refresh: {
    cookieName: 'refreshCookieName',
    cookiePath: 'refreshCookiePath',
    csrfCookieName: 'refreshCsrfCookieName',
    csrfCookiePath: 'refreshCsrfCookiePath',
    csrfHeaderName: 'refreshCsrfHeaderName',
    csrfFieldName: 'refreshCsrfFieldName',
    jsonKey: 'refreshJsonKey',
  },
} as const satisfies Record<TokenType, Record<Exclude<keyof TokenTypeSettings, 'csrfHeaderKey'>, keyof JwtExtendedOptions>>;

function tokenTypeSettings(options: JwtExtendedOptions, type: TokenType): TokenTypeSettings {
  const names = TOKEN_TYPE_OPTIONS[type];
  const csrfHeaderName = httpToken(options, names.csrfHeaderName);
  return Object.freeze({
    cookieName: httpToken(options, names.cookieName),
    cookiePath: cookiePath(options, names.cookiePath),
    csrfCookieName: httpToken(options, names.csrfCookieName),
    csrfCookiePath: cookiePath(options, names.csrfCookiePath),
    csrfHeaderName,
    csrfHeaderKey: csrfHeaderName.toLowerCase(),
    csrfFieldName: text(options, names.csrfFieldName),
    jsonKey: text(options, names.jsonKey),
  });
}

function riskWarnings(config: JwtExtendedConfig): string[] {
  const warnings: string[] = [];
  if (config.tokenLocation.includes('cookies') && !config.cookieCsrfProtect) {
    warnings.push('cookieCsrfProtect is off while tokens are read from cookies: cookie-authenticated requests are open to CSRF');
  }
  if (config.tokenLocation.includes('query_string')) {
    warnings.push('tokens are read from the query string: URLs end up in logs, proxies and browser history');
  }
  if (config.accessTokenExpires === false) warnings.push('access tokens never expire (accessTokenExpires: false)');
  if (config.refreshTokenExpires === false) warnings.push('refresh tokens never expire (refreshTokenExpires: false)');
  for (const { issuer, jwksUri } of config.trustedIssuers.values()) {
    const { protocol, hostname } = new URL(jwksUri);
    // Loopback is where tests and sidecars live; anywhere else, a key set fetched without TLS can be swapped in transit.
    if (protocol === 'http:' && hostname !== 'localhost' && hostname !== '127.0.0.1' && hostname !== '[::1]') {
      warnings.push(
        `the key set of trusted issuer ${issuer} is fetched over plain http (${jwksUri}): anyone on the path can replace its keys`,
      );
    }
  }
  return warnings;
}
