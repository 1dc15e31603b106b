/*
 * One check per kind of option value. Each returns the value in the form the resolved
 * configuration keeps, or stops start-up naming the option.
 */
import type { ClaimsSchema } from '../claims/claims-validator.js';
import { LIFETIME_FORMS, parseLifetime } from '../tokens/duration.js';
import { ASYMMETRIC_ALGORITHMS, SYMMETRIC_ALGORITHMS, TOKEN_LOCATIONS } from '../tokens/jwt.constants.js';
import type { AsymmetricAlgorithm, JwtAlgorithm, TokenLocation } from '../tokens/jwt.interfaces.js';
import { MAX_TIMER_MS } from '../loaders/deadline.js';
import { fail } from './config-error.js';
import { DEFAULTS, MAX_FAMILY_LIFETIME, TRUSTED_ISSUER_DEFAULTS } from './defaults.js';
import type { ResolvedTrustedIssuer } from './jwt-extended-config.js';
import type { CookieSameSite, JwtErrorFormat, JwtExtendedOptions, TrustedIssuer } from './jwt-extended-options.interface.js';

const ALGORITHMS: readonly string[] = [...SYMMETRIC_ALGORITHMS, ...ASYMMETRIC_ALGORITHMS];

// RFC 7230 token characters: valid in header names and cookie names alike.
export const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Characters a cookie attribute value (Path, Domain) may not hold.
export const COOKIE_ATTRIBUTE_FORBIDDEN = /[;\s\u0000-\u001f\u007f]/;

export function pick<K extends keyof typeof DEFAULTS>(options: JwtExtendedOptions, key: K): NonNullable<JwtExtendedOptions[K]> {
  const value = options[key];
  return (value === undefined ? DEFAULTS[key] : value) as NonNullable<JwtExtendedOptions[K]>;
}

export function bool(options: JwtExtendedOptions, key: keyof typeof DEFAULTS): boolean {
  const value = pick(options, key);
  if (typeof value !== 'boolean') fail(key, `must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

export function text(options: JwtExtendedOptions, key: keyof typeof DEFAULTS, { allowEmpty = false } = {}): string {
  const value = pick(options, key);
  if (typeof value !== 'string') fail(key, `must be a string, got ${typeof value}`);
  if (!allowEmpty && value.trim() === '') fail(key, 'must not be empty');
  return value;
}

export function httpToken(options: JwtExtendedOptions, key: keyof typeof DEFAULTS): string {
  const value = text(options, key);
  if (!HTTP_TOKEN.test(value)) fail(key, `must be a valid HTTP header or cookie name, got ${JSON.stringify(value)}`);
  return value;
}

export function cookiePath(options: JwtExtendedOptions, key: keyof typeof DEFAULTS): string {
  const value = text(options, key);
  if (!value.startsWith('/') || COOKIE_ATTRIBUTE_FORBIDDEN.test(value)) {
    fail(key, `must be a cookie path starting with "/", got ${JSON.stringify(value)}`);
  }
  return value;
}

export function lifetime(options: JwtExtendedOptions, key: 'accessTokenExpires' | 'refreshTokenExpires'): number | false {
  const value: unknown = pick(options, key);
  const seconds = parseLifetime(value);
  if (seconds === undefined) fail(key, `${LIFETIME_FORMS}; got ${JSON.stringify(value)}`);
  if (seconds !== false && seconds <= 0) fail(key, `must be a positive lifetime, got ${JSON.stringify(value)}`);
  return seconds;
}

export function algorithmName(value: unknown, option: string): JwtAlgorithm {
  if (typeof value === 'string' && value.toLowerCase() === 'none') {
    fail(option, 'must not allow "none": unsigned tokens are never accepted');
  }
  if (typeof value !== 'string' || !ALGORITHMS.includes(value)) {
    fail(option, `has an unknown algorithm ${JSON.stringify(value)}; use one of ${ALGORITHMS.join(', ')}`);
  }
  return value as JwtAlgorithm;
}

export function stringList(value: unknown, option: string): string[] | undefined {
  if (value === undefined) return undefined;
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.some((item) => typeof item !== 'string' || item === '')) {
    fail(option, 'must be a non-empty string or a non-empty array of non-empty strings');
  }
  return list as string[];
}

export function optionalText(value: unknown, option: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') fail(option, 'must be a non-empty string');
  return value;
}

export function tokenLocations(options: JwtExtendedOptions): TokenLocation[] {
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

export function finiteNumber(
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

export function sameSite(value: unknown): CookieSameSite | undefined {
  if (value === undefined) return undefined;
  const normalized = typeof value === 'string' ? value.charAt(0).toUpperCase() + value.slice(1).toLowerCase() : value;
  if (normalized !== 'Lax' && normalized !== 'Strict' && normalized !== 'None') {
    fail('cookieSameSite', `must be 'Lax', 'Strict' or 'None', got ${JSON.stringify(value)}`);
  }
  return normalized;
}

const ERROR_FORMATS: readonly JwtErrorFormat[] = ['flask', 'nest'];

export function errorFormat(options: JwtExtendedOptions): JwtErrorFormat {
  const value = pick(options, 'errorFormat');
  if (!ERROR_FORMATS.includes(value)) fail('errorFormat', `must be 'flask' or 'nest', got ${JSON.stringify(value) ?? String(value)}`);
  return value;
}

/** A Standard Schema v1: an object (or, as arktype makes them, a function) whose `~standard` has version 1 and `validate`. */
export function claimsSchema(value: unknown): ClaimsSchema | undefined {
  if (value === undefined) return undefined;
  const props =
    (typeof value === 'object' || typeof value === 'function') && value !== null ? (value as ClaimsSchema)['~standard'] : undefined;
  if (typeof props !== 'object' || props === null || props.version !== 1 || typeof props.validate !== 'function') {
    fail(
      'claimsSchema',
      'must be a Standard Schema v1 (zod, valibot, arktype, …): an object whose "~standard" has version 1 and a validate function',
    );
  }
  return value as ClaimsSchema;
}

/**
 * `wsAllowedOrigins`: each entry must be an origin exactly as a browser serializes it in the
 * `Origin` header (lower-case scheme and host, no path, no trailing slash), so comparing the
 * header with the list is a plain string match.
 */
export function allowedOrigins(options: JwtExtendedOptions): ReadonlySet<string> {
  const value: unknown = pick(options, 'wsAllowedOrigins');
  if (!Array.isArray(value)) fail('wsAllowedOrigins', `must be an array of origins, got ${JSON.stringify(value) ?? String(value)}`);
  for (const origin of value as unknown[]) {
    let serialized: string | undefined;
    try {
      serialized = typeof origin === 'string' ? new URL(origin).origin : undefined;
    } catch {
      serialized = undefined;
    }
    if (serialized === undefined || serialized === 'null' || serialized !== origin) {
      const hint = serialized && serialized !== 'null' ? ` (did you mean ${JSON.stringify(serialized)}?)` : '';
      fail('wsAllowedOrigins', `must list origins like 'https://app.example.com', got ${JSON.stringify(origin) ?? String(origin)}${hint}`);
    }
  }
  return new Set(value as string[]);
}

/** A URL path for the JWKS route: absolute, no query, fragment or whitespace. */
export function jwksPath(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\/[^\s?#]*$/.test(value)) {
    fail('jwksPath', `must be a URL path starting with "/" (no query or fragment), got ${JSON.stringify(value) ?? String(value)}`);
  }
  return value;
}

const TRUSTED_ISSUER_MEMBERS: ReadonlySet<string> = new Set<keyof TrustedIssuer>([
  'issuer',
  'jwksUri',
  'algorithms',
  'audience',
  'cacheMaxAge',
  'cooldown',
  'timeout',
]);

/** A duration of a trusted issuer in milliseconds: finite, within [min, 2^31−1] ms (§17 timers). */
function issuerDuration(value: unknown, option: string, unit: 's' | 'ms', min: number): number {
  const ms = typeof value === 'number' ? (unit === 's' ? value * 1000 : value) : Number.NaN;
  if (!Number.isFinite(ms) || ms < min || ms > MAX_TIMER_MS) {
    const max = unit === 's' ? Math.floor(MAX_TIMER_MS / 1000) : MAX_TIMER_MS;
    fail(
      option,
      `must be a finite number of ${unit === 's' ? 'seconds' : 'milliseconds'} from ${unit === 's' ? min / 1000 : min} to ${max}, got ${JSON.stringify(value) ?? String(value)}`,
    );
  }
  return ms;
}

function trustedIssuer(value: unknown, option: string, decodeAudience: readonly string[] | undefined): ResolvedTrustedIssuer {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(option, 'must be an object');
  for (const key of Object.keys(value)) {
    if (!TRUSTED_ISSUER_MEMBERS.has(key)) fail(`${option}.${key}`, 'is not a member of a trusted issuer');
  }
  const entry = value as Partial<TrustedIssuer>;
  const issuer = optionalText(entry.issuer, `${option}.issuer`);
  if (issuer === undefined) fail(`${option}.issuer`, 'is required (the exact "iss" of its tokens)');
  let url: URL | undefined;
  try {
    url = typeof entry.jwksUri === 'string' ? new URL(entry.jwksUri) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    fail(`${option}.jwksUri`, `must be an https: or http: URL, got ${JSON.stringify(entry.jwksUri) ?? String(entry.jwksUri)}`);
  }
  if (!Array.isArray(entry.algorithms) || entry.algorithms.length === 0) {
    fail(`${option}.algorithms`, 'must be a non-empty array of asymmetric algorithm names');
  }
  const algorithms = entry.algorithms.map((alg) => {
    const name = algorithmName(alg, `${option}.algorithms`);
    // A shared secret cannot come from a public key set: HS* from an issuer would let anyone who reads the set sign.
    if (!ASYMMETRIC_ALGORITHMS.includes(name as AsymmetricAlgorithm)) {
      fail(`${option}.algorithms`, `must list asymmetric algorithms only, got ${name}`);
    }
    return name as AsymmetricAlgorithm;
  });
  const d = TRUSTED_ISSUER_DEFAULTS;
  return Object.freeze({
    issuer,
    jwksUri: url.href,
    algorithms: new Set(algorithms),
    audience: stringList(entry.audience, `${option}.audience`) ?? decodeAudience,
    cacheMaxAgeMs: issuerDuration(entry.cacheMaxAge ?? d.cacheMaxAge, `${option}.cacheMaxAge`, 's', 1000),
    cooldownMs: issuerDuration(entry.cooldown ?? d.cooldown, `${option}.cooldown`, 's', 0),
    timeoutMs: issuerDuration(entry.timeout ?? d.timeout, `${option}.timeout`, 'ms', 1),
  });
}

/** `trustedIssuers` by exact issuer; the module's own `encodeIssuer` cannot be one of them. */
export function trustedIssuers(
  options: JwtExtendedOptions,
  decodeAudience: readonly string[] | undefined,
): ReadonlyMap<string, ResolvedTrustedIssuer> {
  const value: unknown = options.trustedIssuers;
  const issuers = new Map<string, ResolvedTrustedIssuer>();
  if (value === undefined) return issuers;
  if (!Array.isArray(value)) fail('trustedIssuers', 'must be an array');
  value.forEach((item, index) => {
    const resolved = trustedIssuer(item, `trustedIssuers[${index}]`, decodeAudience);
    if (issuers.has(resolved.issuer)) fail(`trustedIssuers[${index}].issuer`, `names ${JSON.stringify(resolved.issuer)} twice`);
    // This app's own tokens would then be checked against the remote set, and never verify.
    if (resolved.issuer === options.encodeIssuer) {
      fail(`trustedIssuers[${index}].issuer`, "must not be this module's own encodeIssuer");
    }
    issuers.set(resolved.issuer, resolved);
  });
  return issuers;
}

/**
 * `refreshTokenRotation`: an object with only `reuseInterval` (seconds, default 0, up to what a
 * timer holds). Rotation keeps each family as long as its tokens live, so lifetimes must be finite.
 */
export function refreshTokenRotation(
  options: JwtExtendedOptions,
  lifetimes: { access: number | false; refresh: number | false },
): { reuseInterval: number } | undefined {
  const value: unknown = options.refreshTokenRotation;
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail('refreshTokenRotation', `must be an object such as { reuseInterval: 0 }, got ${JSON.stringify(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (key !== 'reuseInterval') {
      fail('refreshTokenRotation', `has an unknown key ${JSON.stringify(key)}; its only option is reuseInterval`);
    }
  }
  const reuseInterval = (value as { reuseInterval?: unknown }).reuseInterval ?? 0;
  const maxSeconds = Math.floor(MAX_TIMER_MS / 1000);
  if (typeof reuseInterval !== 'number' || !Number.isFinite(reuseInterval) || reuseInterval < 0 || reuseInterval > maxSeconds) {
    fail(
      'refreshTokenRotation',
      `.reuseInterval must be a finite number of seconds >= 0 and <= ${maxSeconds}, got ${JSON.stringify(reuseInterval) ?? String(reuseInterval)}`,
    );
  }
  if (lifetimes.access === false || lifetimes.refresh === false) {
    fail(
      'refreshTokenRotation',
      'needs finite accessTokenExpires and refreshTokenExpires: the store keeps each family as long as its tokens live',
    );
  }
  if (lifetimes.access > MAX_FAMILY_LIFETIME || lifetimes.refresh > MAX_FAMILY_LIFETIME) {
    fail(
      'refreshTokenRotation',
      `needs accessTokenExpires and refreshTokenExpires of at most ${MAX_FAMILY_LIFETIME} seconds (100 years): the store keeps each family as long as its tokens live`,
    );
  }
  return { reuseInterval };
}
