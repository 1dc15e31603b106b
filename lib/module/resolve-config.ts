import type { KeyObject } from 'node:crypto';
import { parseDuration } from '../tokens/duration.js';
import { createSignature, verifySignature } from '../tokens/jws.js';
import {
  ASYMMETRIC_ALGORITHMS,
  type AsymmetricAlgorithm,
  type JwtAlgorithm,
  SYMMETRIC_ALGORITHMS,
  TOKEN_LOCATIONS,
  type TokenLocation,
} from '../tokens/jwt.interfaces.js';
import {
  KeyError,
  assertKeyFitsAlgorithm,
  assertSecretFitsAlgorithm,
  isSymmetric,
  toPrivateKey,
  toPublicKey,
  toSecretKey,
} from '../tokens/keys.js';
import type { JwtExtendedConfig } from './jwt-extended-config.js';
import type { CookieSameSite, JwtExtendedOptions, TokenLifetime } from './jwt-extended-options.interface.js';

/** A configuration the module refuses to start with. The message names the option. */
export class JwtExtendedConfigError extends Error {
  override name = 'JwtExtendedConfigError';
  constructor(
    readonly option: string,
    problem: string,
  ) {
    super(`JwtExtendedModule: option "${option}" ${problem}`);
  }
}

/** Which key loaders stand in for configured keys. */
export interface KeyLoaderPresence {
  encodeKey: boolean;
  decodeKey: boolean;
}

export interface ResolvedConfig {
  config: JwtExtendedConfig;
  /** Risky but legal settings, for the module to log. */
  warnings: string[];
}

const ALGORITHMS: readonly string[] = [...SYMMETRIC_ALGORITHMS, ...ASYMMETRIC_ALGORITHMS];

const DEFAULTS = {
  accessTokenExpires: 900,
  refreshTokenExpires: 2592000,
  algorithm: 'HS256',
  decodeLeeway: 0,
  encodeNbf: true,
  errorMessageKey: 'msg',
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
} as const satisfies JwtExtendedOptions;

const KNOWN_OPTIONS = new Set<string>([
  ...Object.keys(DEFAULTS),
  'decodeAlgorithms',
  'decodeAudience',
  'decodeIssuer',
  'encodeAudience',
  'encodeIssuer',
  'secretKey',
  'privateKey',
  'publicKey',
  'cookieDomain',
  'cookieSameSite',
]);

// Node turns a timer delay above 2^31−1 ms into 1 ms: a longer deadline would fire at once.
const MAX_TIMER_MS = 2 ** 31 - 1;

// RFC 7230 token characters: valid in header names and cookie names alike.
const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Characters a cookie attribute value (Path, Domain) may not hold.
const COOKIE_ATTRIBUTE_FORBIDDEN = /[;\s\u0000-\u001f\u007f]/;

function fail(option: string, problem: string): never {
  throw new JwtExtendedConfigError(option, problem);
}

function pick<K extends keyof typeof DEFAULTS>(options: JwtExtendedOptions, key: K): NonNullable<JwtExtendedOptions[K]> {
  const value = options[key];
  return (value === undefined ? DEFAULTS[key] : value) as NonNullable<JwtExtendedOptions[K]>;
}

function bool(options: JwtExtendedOptions, key: keyof typeof DEFAULTS): boolean {
  const value = pick(options, key);
  if (typeof value !== 'boolean') fail(key, `must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

function text(options: JwtExtendedOptions, key: keyof typeof DEFAULTS, { allowEmpty = false } = {}): string {
  const value = pick(options, key);
  if (typeof value !== 'string') fail(key, `must be a string, got ${typeof value}`);
  if (!allowEmpty && value.trim() === '') fail(key, 'must not be empty');
  return value;
}

function httpToken(options: JwtExtendedOptions, key: keyof typeof DEFAULTS): string {
  const value = text(options, key);
  if (!HTTP_TOKEN.test(value)) fail(key, `must be a valid HTTP header or cookie name, got ${JSON.stringify(value)}`);
  return value;
}

function cookiePath(options: JwtExtendedOptions, key: keyof typeof DEFAULTS): string {
  const value = text(options, key);
  if (!value.startsWith('/') || COOKIE_ATTRIBUTE_FORBIDDEN.test(value)) {
    fail(key, `must be a cookie path starting with "/", got ${JSON.stringify(value)}`);
  }
  return value;
}

function lifetime(options: JwtExtendedOptions, key: 'accessTokenExpires' | 'refreshTokenExpires'): number | false {
  const value: TokenLifetime = pick(options, key);
  if (value === false) return false;
  const seconds = typeof value === 'number' || typeof value === 'string' ? parseDuration(value) : undefined;
  if (seconds === undefined) {
    fail(key, `must be seconds, a duration such as '15m', '2h' or '30d', or false; got ${JSON.stringify(value)}`);
  }
  if (seconds <= 0) fail(key, `must be a positive lifetime, got ${JSON.stringify(value)}`);
  return seconds;
}

function algorithmName(value: unknown, option: string): JwtAlgorithm {
  if (typeof value === 'string' && value.toLowerCase() === 'none') {
    fail(option, 'must not allow "none": unsigned tokens are never accepted');
  }
  if (typeof value !== 'string' || !ALGORITHMS.includes(value)) {
    fail(option, `has an unknown algorithm ${JSON.stringify(value)}; use one of ${ALGORITHMS.join(', ')}`);
  }
  return value as JwtAlgorithm;
}

function stringList(value: unknown, option: string): string[] | undefined {
  if (value === undefined) return undefined;
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.some((item) => typeof item !== 'string' || item === '')) {
    fail(option, 'must be a non-empty string or a non-empty array of non-empty strings');
  }
  return list as string[];
}

function optionalText(value: unknown, option: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') fail(option, 'must be a non-empty string');
  return value;
}

function tokenLocations(options: JwtExtendedOptions): TokenLocation[] {
  const value: unknown = pick(options, 'tokenLocation');
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) fail('tokenLocation', `must name at least one of ${TOKEN_LOCATIONS.join(', ')}`);
  for (const location of list) {
    if (!TOKEN_LOCATIONS.includes(location as TokenLocation)) {
      fail('tokenLocation', `has an unknown location ${JSON.stringify(location)}; use ${TOKEN_LOCATIONS.join(', ')}`);
    }
  }
  if (new Set(list).size !== list.length) fail('tokenLocation', 'names a location twice');
  return list as TokenLocation[];
}

function finiteNumber(
  options: JwtExtendedOptions,
  key: 'decodeLeeway' | 'maxTokenLength' | 'loaderTimeout' | 'tokenCacheSize',
  min: number,
  max = Number.MAX_VALUE,
): number {
  const value = pick(options, key);
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = max === Number.MAX_VALUE ? `>= ${min}` : `>= ${min} and <= ${max}`;
    fail(key, `must be a finite number ${range}, got ${JSON.stringify(value) ?? String(value)}`);
  }
  return value;
}

function sameSite(value: unknown): CookieSameSite | undefined {
  if (value === undefined) return undefined;
  const normalized = typeof value === 'string' ? value.charAt(0).toUpperCase() + value.slice(1).toLowerCase() : value;
  if (normalized !== 'Lax' && normalized !== 'Strict' && normalized !== 'None') {
    fail('cookieSameSite', `must be 'Lax', 'Strict' or 'None', got ${JSON.stringify(value)}`);
  }
  return normalized;
}

/** Signs and verifies a probe: a private and public key that do not belong together fail here. */
function assertKeyPair(alg: AsymmetricAlgorithm, privateKey: KeyObject, publicKey: KeyObject): void {
  const probe = 'nestjs-jwt-extended key pair self-test';
  if (!verifySignature(alg, publicKey, probe, createSignature(alg, privateKey, probe))) {
    throw new KeyError('publicKey', 'does not match privateKey (a token signed with privateKey would not verify)');
  }
}

function importConfiguredKeys(
  options: JwtExtendedOptions,
  algorithm: JwtAlgorithm,
  allowed: ReadonlySet<JwtAlgorithm>,
  loaders: KeyLoaderPresence,
): JwtExtendedConfig['keys'] {
  const keys: JwtExtendedConfig['keys'] = {};
  const symmetric = [...allowed].filter(isSymmetric);
  const asymmetric = [...allowed].filter((alg): alg is AsymmetricAlgorithm => !isSymmetric(alg));

  if (options.secretKey !== undefined) {
    const secret = toSecretKey(options.secretKey, 'secretKey');
    for (const alg of symmetric) assertSecretFitsAlgorithm(secret, alg, 'secretKey');
    keys.secret = secret;
  } else if (symmetric.length > 0 && !loaders.decodeKey) {
    fail('secretKey', `is required for ${symmetric.join(', ')} (or provide a decodeKey loader)`);
  }

  if (options.privateKey !== undefined) keys.private = toPrivateKey(options.privateKey, 'privateKey');
  // Without publicKey the verification key is derived from privateKey, so privateKey is the option at fault.
  const publicSource = options.publicKey === undefined ? 'privateKey' : 'publicKey';
  if (options.publicKey !== undefined) keys.public = toPublicKey(options.publicKey, 'publicKey');
  else if (keys.private) keys.public = toPublicKey(keys.private, 'privateKey');

  if (asymmetric.length > 0 && !keys.public && !loaders.decodeKey) {
    fail(
      !isSymmetric(algorithm) && !loaders.encodeKey ? 'privateKey' : 'publicKey',
      `is required for ${asymmetric.join(', ')}: give privateKey to sign and publicKey to verify (or provide key loaders)`,
    );
  }
  for (const alg of asymmetric) {
    if (keys.private && alg === algorithm) assertKeyFitsAlgorithm(keys.private, alg, 'privateKey');
    if (keys.public) assertKeyFitsAlgorithm(keys.public, alg, publicSource);
  }
  if (!isSymmetric(algorithm) && keys.private && keys.public) assertKeyPair(algorithm, keys.private, keys.public);
  return keys;
}

/** Imports the configured keys once; a key that does not fit fails start-up naming its own option. */
function importKeys(
  options: JwtExtendedOptions,
  algorithm: JwtAlgorithm,
  allowed: ReadonlySet<JwtAlgorithm>,
  loaders: KeyLoaderPresence,
): JwtExtendedConfig['keys'] {
  try {
    return importConfiguredKeys(options, algorithm, allowed, loaders);
  } catch (error) {
    if (error instanceof KeyError) fail(error.option, error.problem);
    throw error;
  }
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

  const config: JwtExtendedConfig = {
    accessTokenExpires: lifetime(options, 'accessTokenExpires'),
    refreshTokenExpires: lifetime(options, 'refreshTokenExpires'),
    algorithm,
    allowedAlgorithms,
    // Tokens this app issues must verify here; with neither set, any `aud` is foreign (RFC 7519 §4.1.3).
    decodeAudience: stringList(options.decodeAudience, 'decodeAudience') ?? stringList(options.encodeAudience, 'encodeAudience'),
    decodeIssuer: optionalText(options.decodeIssuer, 'decodeIssuer'),
    decodeLeeway: finiteNumber(options, 'decodeLeeway', 0),
    encodeAudience: stringList(options.encodeAudience, 'encodeAudience') ? options.encodeAudience : undefined,
    encodeIssuer: optionalText(options.encodeIssuer, 'encodeIssuer'),
    encodeNbf: bool(options, 'encodeNbf'),
    errorMessageKey: text(options, 'errorMessageKey'),
    identityClaim: text(options, 'identityClaim'),
    keys: importKeys(options, algorithm, allowedAlgorithms, loaders),
    tokenLocation: tokenLocations(options),
    verifySub: bool(options, 'verifySub'),
    headerName: httpToken(options, 'headerName'),
    headerType,
    accessCookieName: httpToken(options, 'accessCookieName'),
    accessCookiePath: cookiePath(options, 'accessCookiePath'),
    cookieCsrfProtect: bool(options, 'cookieCsrfProtect'),
    cookieDomain,
    cookieSameSite,
    cookieSecure,
    refreshCookieName: httpToken(options, 'refreshCookieName'),
    refreshCookiePath: cookiePath(options, 'refreshCookiePath'),
    sessionCookie: bool(options, 'sessionCookie'),
    accessCsrfCookieName: httpToken(options, 'accessCsrfCookieName'),
    accessCsrfCookiePath: cookiePath(options, 'accessCsrfCookiePath'),
    accessCsrfFieldName: text(options, 'accessCsrfFieldName'),
    accessCsrfHeaderName: httpToken(options, 'accessCsrfHeaderName'),
    csrfCheckForm: bool(options, 'csrfCheckForm'),
    csrfInCookies: bool(options, 'csrfInCookies'),
    csrfMethods: new Set((csrfMethodsValue as string[]).map((m) => m.toUpperCase())),
    refreshCsrfCookieName: httpToken(options, 'refreshCsrfCookieName'),
    refreshCsrfCookiePath: cookiePath(options, 'refreshCsrfCookiePath'),
    refreshCsrfFieldName: text(options, 'refreshCsrfFieldName'),
    refreshCsrfHeaderName: httpToken(options, 'refreshCsrfHeaderName'),
    queryStringName: text(options, 'queryStringName'),
    queryStringValuePrefix: text(options, 'queryStringValuePrefix', { allowEmpty: true }),
    jsonKey: text(options, 'jsonKey'),
    refreshJsonKey: text(options, 'refreshJsonKey'),
    exposeCurrentUserToViews: bool(options, 'exposeCurrentUserToViews'),
    maxTokenLength,
    loaderTimeout: finiteNumber(options, 'loaderTimeout', 0, MAX_TIMER_MS),
    tokenCacheSize,
  };
  return { config, warnings: riskWarnings(config) };
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
  return warnings;
}
