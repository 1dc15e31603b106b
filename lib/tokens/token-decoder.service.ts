import { Inject, Injectable } from '@nestjs/common';
import { ClaimsValidator } from '../claims/claims-validator.js';
import { type KeyObject, createHash, timingSafeEqual } from 'node:crypto';
import {
  CsrfException,
  ExpiredTokenException,
  JwtDecodeException,
  type JwtExceptionOptions,
  JwtUnavailableException,
} from '../errors/exceptions.js';
import type { ResolvedLoaders } from '../loaders/jwt-extended-loaders.interface.js';
import { type MaybePromise, chain } from '../loaders/maybe-promise.js';
import { settleLoader } from '../loaders/settle-loader.js';
import { JWT_EXTENDED_CONFIG, JWT_EXTENDED_LOADERS } from '../config/injection-tokens.js';
import type { JwtExtendedConfig, ResolvedTrustedIssuer } from '../config/jwt-extended-config.js';
import { HeaderCache, type UnverifiedToken, own, parseCompactToken } from './compact-token.js';
import { verifySignature } from './jws.js';
import type { AsymmetricAlgorithm, JwtAlgorithm, JwtHeader, JwtPayload, VerifiedJwt } from './jwt.interfaces.js';
import { KeyRing } from '../keys/key-ring.js';
import { isSymmetric } from '../keys/keys.js';
import { LoaderKeyCache } from '../keys/loader-key-cache.js';
import { KeySetUnavailableError, RemoteKeySet } from '../keys/remote-key-set.js';
import { type ValueSharing, freezeValues } from './claim-values.js';
import { type KeyStillTrusted, VerifiedTokenCache } from './verified-token-cache.js';

/** A verified token, how the cache learns its remote key left the set, and whether its values may be shared. */
type Verification = [VerifiedJwt, KeyStillTrusted | undefined, ValueSharing];

export interface DecodeTokenOptions {
  /** CSRF double-submit value: the token's `csrf` claim must equal it. */
  csrfValue?: string;
  /** Accept a token whose `exp` has passed (everything else is still checked). */
  allowExpired?: boolean;
}

function audienceMatches(expected: readonly string[], aud: unknown): boolean {
  if (typeof aud === 'string') return expected.includes(aud);
  return Array.isArray(aud) && aud.some((item) => typeof item === 'string' && expected.includes(item));
}

/** Constant time whatever the lengths: both sides are hashed to 32 bytes first. */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/**
 * Verifies a compact JWS and its registered claims; the §6 exceptions on every failure.
 * Every result and every exception gets header and payload objects of its own (nested
 * values frozen), with the cache on or off: nothing user code does to them reaches
 * another request.
 */
@Injectable()
export class TokenDecoder {
  private readonly loaderKeys = new LoaderKeyCache('verify');
  private readonly headers = new HeaderCache();
  /** Absent when disabled, or when a decodeKey loader must be asked for every token. */
  private readonly cache?: VerifiedTokenCache;
  private readonly claims?: ClaimsValidator;
  /** `trustedIssuers` by exact `iss`, each with its lazily fetched key set. */
  private readonly issuers: ReadonlyMap<string, { settings: ResolvedTrustedIssuer; keySet: RemoteKeySet }>;

  constructor(
    @Inject(JWT_EXTENDED_CONFIG) private readonly config: JwtExtendedConfig,
    @Inject(JWT_EXTENDED_LOADERS) private readonly loaders: ResolvedLoaders,
    private readonly ring: KeyRing,
  ) {
    this.claims = ClaimsValidator.for(config);
    if (config.tokenCacheSize > 0 && !loaders.decodeKey) {
      this.cache = new VerifiedTokenCache(config.tokenCacheSize, config.decodeLeeway, this.claims !== undefined);
    }
    this.issuers = new Map(
      [...config.trustedIssuers].map(([issuer, settings]) => [issuer, { settings, keySet: new RemoteKeySet(settings) }]),
    );
  }

  /** Parses without verifying anything: for reading `kid`, `jti`, `csrf` of a token you hold. */
  parseUnverified(token: unknown): UnverifiedToken {
    return parseCompactToken(token, this.config.maxTokenLength, this.headers);
  }

  /**
   * `verify`, served from the verified-token cache where it can be, then the per-request CSRF check.
   * A promise only when a step is one (a remote key set, a key loader, a claims schema): a cached
   * token answers at once.
   */
  decode<Claims extends object = Record<string, unknown>>(
    token: unknown,
    options: DecodeTokenOptions = {},
  ): MaybePromise<VerifiedJwt<Claims>> {
    const allowExpired = options.allowExpired === true;
    const cache = allowExpired ? undefined : this.cache;
    const cached = cache && typeof token === 'string' ? cache.get(token, Date.now() / 1000) : undefined;
    if (cached) return this.csrfChecked(cached, options.csrfValue);
    return chain(this.verify(token, allowExpired), ([jwt, stillTrusted, sharing]) => {
      if (sharing !== 'unshared') cache?.set(token as string, jwt, { stillTrusted, cloned: sharing === 'cloned' });
      return this.csrfChecked(jwt, options.csrfValue);
    });
  }

  /**
   * Signature and registered claims: what is true of the token whoever presents it. For a
   * remote issuer's token, also how the cache learns that its key left the issuer's set; and
   * whether the payload's values may be shared between requests (schema output may hold a Date or Set).
   */
  private verify(token: unknown, allowExpired: boolean): MaybePromise<Verification> {
    const unverified = this.parseUnverified(token);
    const iss = this.issuers.size > 0 ? own(unverified.payload, 'iss') : undefined;
    const issuer = typeof iss === 'string' ? this.issuers.get(iss) : undefined;
    let selected: MaybePromise<[JwtAlgorithm, KeyObject, KeyStillTrusted?]>;
    if (issuer) selected = this.remoteKey(issuer.settings, issuer.keySet, unverified.header);
    else if (this.loaders.decodeKey) selected = this.loaderKey(this.allowedAlgorithm(unverified.header), unverified);
    else selected = this.localKey(unverified.header);
    return chain(selected, ([alg, key, stillTrusted]) => {
      if (!verifySignature(alg, key, unverified.signingInput, unverified.signature)) {
        throw this.invalid('Signature verification failed');
      }
      const { header, payload } = unverified;
      this.checkRegisteredClaims(header, payload, allowExpired, issuer?.settings);
      freezeValues(header);
      // claimsSchema runs here, inside what the cache keeps: once per token, its output cached.
      return chain(this.claims ? this.claims.decoded(header, this.withDefaults(payload)) : payload, (checked): Verification => {
        const sharing = freezeValues(checked);
        return [{ header, payload: withFlaskDefaults(checked) }, stillTrusted, sharing];
      });
    });
  }

  /**
   * A configured key: the one its `kid` names, for that key's algorithm only (a kid this app does
   * not know is refused, even when it knows none); for a token without `kid`, the current key for
   * an allowed algorithm.
   */
  private localKey(header: JwtHeader): [JwtAlgorithm, KeyObject] {
    const kid = own(header, 'kid');
    if (kid === undefined) {
      const alg = this.allowedAlgorithm(header);
      return [alg, this.configKey(alg)];
    }
    const entry = typeof kid === 'string' ? this.ring.get(kid) : undefined;
    if (!entry) throw this.invalid('Unknown key id');
    if (own(header, 'alg') !== entry.algorithm) throw this.invalid('The specified alg value is not allowed');
    this.checkExtensions(header);
    return [entry.algorithm, entry.key];
  }

  /** A trusted issuer's key: by the `kid` its tokens must carry, for one of its algorithms, from its key set. */
  private async remoteKey(
    settings: ResolvedTrustedIssuer,
    keySet: RemoteKeySet,
    header: JwtHeader,
  ): Promise<[JwtAlgorithm, KeyObject, KeyStillTrusted]> {
    const alg = own(header, 'alg');
    if (typeof alg !== 'string' || !settings.algorithms.has(alg as AsymmetricAlgorithm)) {
      throw this.invalid('The specified alg value is not allowed');
    }
    this.checkExtensions(header);
    const kid = own(header, 'kid');
    if (typeof kid !== 'string') throw this.invalid('Unknown key id');
    let found;
    try {
      found = await keySet.lookup(kid, alg as AsymmetricAlgorithm);
    } catch (error) {
      if (error instanceof KeySetUnavailableError) throw new JwtUnavailableException('Key set unavailable');
      throw error;
    }
    if ('unknownKid' in found) throw this.invalid('Unknown key id');
    if ('unfit' in found) throw this.invalid('Invalid key for the token algorithm');
    const { key } = found;
    return [alg as JwtAlgorithm, key, () => keySet.holds(kid, key)];
  }

  private invalid(reason: string, header?: JwtHeader, payload?: Record<string, unknown>): JwtDecodeException {
    return new JwtDecodeException(reason, this.exceptionOptions(header, payload));
  }

  private exceptionOptions(header?: JwtHeader, payload?: Record<string, unknown>): JwtExceptionOptions {
    return {
      jwtHeader: header,
      jwtPayload: payload && this.withDefaults(payload),
    };
  }

  private allowedAlgorithm(header: JwtHeader): JwtAlgorithm {
    const alg = own(header, 'alg');
    if (typeof alg !== 'string' || !this.config.allowedAlgorithms.has(alg as JwtAlgorithm)) {
      throw this.invalid('The specified alg value is not allowed');
    }
    this.checkExtensions(header);
    return alg as JwtAlgorithm;
  }

  private checkExtensions(header: JwtHeader): void {
    // No JWS extension is implemented, so any critical one must be refused (RFC 7515 §4.1.11).
    if (own(header, 'crit') !== undefined) throw this.invalid('Unsupported critical header parameter');
    const b64 = own(header, 'b64');
    if (b64 !== undefined && b64 !== true) throw this.invalid('Unencoded payloads (b64) are not supported');
  }

  private async loaderKey(alg: JwtAlgorithm, { header, payload }: UnverifiedToken): Promise<[JwtAlgorithm, KeyObject]> {
    // The loader gets copies: whatever it does to them, the checks below read the token as sent.
    freezeValues(header);
    freezeValues(payload);
    const supplied = await settleLoader(
      this.loaders.decodeKey!.decodeKey({ ...header }, { ...payload }),
      'decodeKey',
      this.config.loaderTimeout,
    );
    try {
      return [alg, this.loaderKeys.import(supplied, alg)];
    } catch {
      throw this.invalid('Invalid key for the token algorithm');
    }
  }

  private configKey(alg: JwtAlgorithm) {
    const key = isSymmetric(alg) ? this.config.keys.secret : this.config.keys.public;
    // Start-up validation guarantees a key for every allowed algorithm; this is defence in depth.
    if (!key) throw this.invalid('The specified alg value is not allowed');
    return key;
  }

  /**
   * What is true of the token whoever presents it: time window, audience, issuer, identity.
   * A trusted issuer's token is checked against that issuer's audience; its `iss` already chose it.
   */
  private checkRegisteredClaims(
    header: JwtHeader,
    payload: Record<string, unknown>,
    allowExpired: boolean,
    trusted?: ResolvedTrustedIssuer,
  ): void {
    const { decodeLeeway: leeway, identityClaim } = this.config;
    const now = Date.now() / 1000;
    const exp = own(payload, 'exp');
    const nbf = own(payload, 'nbf');
    const iat = own(payload, 'iat');
    this.checkTimestamp('exp', exp, header, payload);
    this.checkTimestamp('nbf', nbf, header, payload);
    this.checkTimestamp('iat', iat, header, payload);
    if (typeof exp === 'number' && exp <= now - leeway && !allowExpired) {
      throw new ExpiredTokenException(this.exceptionOptions(header, payload));
    }
    if (typeof nbf === 'number' && nbf > now + leeway) throw this.invalid('The token is not yet valid (nbf)', header, payload);
    if (typeof iat === 'number' && iat > now + leeway) throw this.invalid('The token is not yet valid (iat)', header, payload);

    // With no audience of its own, this app is not the recipient of a token addressed to anyone (RFC 7519 §4.1.3).
    const aud = own(payload, 'aud');
    const audience = trusted ? trusted.audience : this.config.decodeAudience;
    if (audience ? !audienceMatches(audience, aud) : aud !== undefined) {
      throw this.invalid('Invalid audience', header, payload);
    }
    if (!trusted && this.config.decodeIssuer !== undefined && own(payload, 'iss') !== this.config.decodeIssuer) {
      throw this.invalid('Invalid issuer', header, payload);
    }
    if (own(payload, identityClaim) === undefined) throw this.invalid(`Missing claim: ${identityClaim}`, header, payload);
    if (this.config.verifySub && Object.hasOwn(payload, 'sub') && typeof payload.sub !== 'string') {
      throw this.invalid('Subject must be a string', header, payload);
    }
  }

  private checkTimestamp(name: string, value: unknown, header: JwtHeader, payload: Record<string, unknown>): void {
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) {
      throw this.invalid(`The ${name} claim must be a finite number`, header, payload);
    }
  }

  /** The double-submit check: per request, never cached. Its exceptions carry this request's own objects. */
  private csrfChecked<Claims extends object>(jwt: VerifiedJwt, csrfValue: string | undefined): VerifiedJwt<Claims> {
    if (csrfValue !== undefined) this.checkCsrf(jwt.header, jwt.payload, csrfValue);
    return jwt as VerifiedJwt<Claims>;
  }

  private checkCsrf(header: JwtHeader, payload: JwtPayload, csrfValue: string): void {
    const csrf = own(payload, 'csrf');
    const context = { jwtHeader: header, jwtPayload: payload };
    if (csrf === undefined) throw new JwtDecodeException('Missing claim: csrf', context);
    if (typeof csrf !== 'string' || !sameSecret(csrf, csrfValue)) {
      throw new CsrfException('CSRF double submit tokens do not match', context);
    }
  }

  /** `withFlaskDefaults`, nested values made read-only first. */
  private withDefaults(payload: Record<string, unknown>): JwtPayload {
    freezeValues(payload);
    return withFlaskDefaults(payload);
  }
}

/** A new object with Flask's defaults for claims its own tokens always carry. */
function withFlaskDefaults(payload: Record<string, unknown>): JwtPayload {
  return {
    ...payload,
    type: Object.hasOwn(payload, 'type') ? payload.type : 'access',
    fresh: Object.hasOwn(payload, 'fresh') ? payload.fresh : false,
    jti: Object.hasOwn(payload, 'jti') ? payload.jti : null,
  } as JwtPayload;
}
