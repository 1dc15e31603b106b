import { Inject, Injectable } from '@nestjs/common';
import { type KeyObject, randomUUID } from 'node:crypto';
import { ClaimsValidator } from '../claims/claims-validator.js';
import type { ResolvedLoaders } from '../loaders/jwt-extended-loaders.interface.js';
import { JWT_EXTENDED_CONFIG, JWT_EXTENDED_LOADERS } from '../config/injection-tokens.js';
import type { JwtExtendedConfig, TokenType } from '../config/jwt-extended-config.js';
import type { TokenLifetime } from '../config/jwt-extended-options.interface.js';
import { LIFETIME_FORMS, parseLifetime } from './duration.js';
import { assertJsonSerializable } from './json-claims.js';
import { signCompact } from './jws.js';
import { isSymmetric } from '../keys/keys.js';
import { KeyRing } from '../keys/key-ring.js';
import { LoaderKeyCache } from '../keys/loader-key-cache.js';

export interface CreateRefreshTokenOptions {
  /** Lifetime of this token: seconds (may be negative), a duration string, or `false` for no `exp`. */
  expiresDelta?: TokenLifetime;
  /** Claims added after the `additionalClaims` loader's (later wins). */
  additionalClaims?: Record<string, unknown>;
  /** Header parameters added after the `additionalHeaders` loader's (later wins). */
  additionalHeaders?: Record<string, unknown>;
}

export interface CreateAccessTokenOptions extends CreateRefreshTokenOptions {
  /** `true`/`false`, or seconds during which the token stays fresh (the claim then holds that timestamp). */
  fresh?: boolean | number;
}

/**
 * How refresh-token rotation mints (internal): the `fam` claim, set after every additional
 * claim so none replaces it; the library's `jti` (an additional one is refused); optionally the
 * identity claim taken as it is from the presented token (`userIdentity` already ran when that
 * token was created).
 */
export interface FamilyMint {
  family: string;
  verbatimIdentity?: { value: unknown };
}

/** A token just created, with the claims it carries. */
export interface MintedToken {
  token: string;
  payload: Readonly<Record<string, unknown>>;
}

/** Creates access and refresh tokens with the claims Flask-JWT-Extended puts in them. */
@Injectable()
export class TokenSigner {
  private readonly loaderKeys = new LoaderKeyCache('sign');
  private readonly claims?: ClaimsValidator;
  /** `kid` of created tokens: a derived thumbprint describes the configured key, not one an encodeKey loader returns. */
  private readonly kid: string | undefined;

  constructor(
    @Inject(JWT_EXTENDED_CONFIG) private readonly config: JwtExtendedConfig,
    @Inject(JWT_EXTENDED_LOADERS) private readonly loaders: ResolvedLoaders,
    ring: KeyRing,
  ) {
    this.kid = loaders.encodeKey ? config.keyId : ring.currentKid;
    this.claims = ClaimsValidator.for(config);
  }

  async createAccessToken(identity: unknown, options: CreateAccessTokenOptions = {}): Promise<string> {
    return (await this.create(identity, 'access', options.fresh ?? false, options)).token;
  }

  async createRefreshToken(identity: unknown, options: CreateRefreshTokenOptions = {}): Promise<string> {
    return (await this.create(identity, 'refresh', false, options)).token;
  }

  /** A token of a refresh-token family (non-fresh access, or refresh), with its claims. */
  mintInFamily(identity: unknown, type: TokenType, mint: FamilyMint, options: CreateRefreshTokenOptions = {}): Promise<MintedToken> {
    return this.create(identity, type, false, options, mint);
  }

  private async create(
    identity: unknown,
    type: TokenType,
    fresh: boolean | number,
    options: CreateRefreshTokenOptions,
    mint?: FamilyMint,
  ): Promise<MintedToken> {
    const { config, loaders } = this;
    const now = Math.floor(Date.now() / 1000);
    const lifetime = this.lifetime(type, options.expiresDelta);

    const header: Record<string, unknown> = {
      alg: config.algorithm,
      typ: 'JWT',
      ...(this.kid === undefined ? undefined : { kid: this.kid }),
      ...(loaders.additionalHeaders ? await loaders.additionalHeaders.additionalHeaders(identity) : undefined),
      ...options.additionalHeaders,
    };
    if (header.alg !== config.algorithm) {
      throw new TypeError(`additional headers cannot change "alg" (the token is signed with ${config.algorithm})`);
    }

    const payload: Record<string, unknown> = {
      fresh: this.freshClaim(fresh, now),
      iat: now,
      jti: randomUUID(),
      type,
      [config.identityClaim]: mint?.verbatimIdentity
        ? mint.verbatimIdentity.value
        : loaders.userIdentity
          ? await loaders.userIdentity.userIdentity(identity)
          : identity,
    };
    if (config.encodeNbf) payload.nbf = now;
    if (config.cookieCsrfProtect) payload.csrf = randomUUID();
    if (config.encodeAudience !== undefined) payload.aud = config.encodeAudience;
    if (config.encodeIssuer !== undefined) payload.iss = config.encodeIssuer;
    if (lifetime !== false) payload.exp = Math.floor(now + lifetime);
    const claims = {
      ...(loaders.additionalClaims ? await loaders.additionalClaims.additionalClaims(identity) : undefined),
      ...options.additionalClaims,
    };
    for (const [name, value] of Object.entries(claims)) {
      // Defined, not assigned: a claim named "__proto__" stays a claim.
      Object.defineProperty(payload, name, { value, enumerable: true, writable: true, configurable: true });
    }
    if (mint) {
      // Rotation tells a family's tokens apart by jti: a fixed one (a session id, say) would make one token current forever.
      if (Object.hasOwn(claims, 'jti')) {
        throw new TypeError(
          'additional claims cannot set "jti" while refreshTokenRotation is on: rotation tells tokens apart by it (put a session id in another claim)',
        );
      }
      payload.fam = mint.family;
    }
    if (config.verifySub) this.assertStringSub(payload, Object.hasOwn(claims, 'sub'));

    assertJsonSerializable(header, 'token header');
    this.assertVerifiableKid(header.kid);
    assertJsonSerializable(payload, 'token payload');
    await this.claims?.created(payload);
    return { token: signCompact(config.algorithm, await this.signingKey(identity), header, payload), payload };
  }

  /**
   * Without a decodeKey loader, a token with a `kid` is verified with the key of that kid only
   * (§11), and this app signs with its current key: refuse to create a token whose additional
   * headers name any other kid, rather than hand out a token every request refuses.
   */
  private assertVerifiableKid(kid: unknown): void {
    if (kid === undefined || kid === this.kid || this.loaders.decodeKey) return;
    const signer = this.kid === undefined ? 'a key without a kid' : `the key of kid ${JSON.stringify(this.kid)}`;
    throw new TypeError(
      `additional headers cannot set "kid" to ${JSON.stringify(kid)}: a token with a kid is verified with the key of that kid only, ` +
        `and this app signs with ${signer} (name the signing key with keyId, or choose keys per kid with encodeKey and decodeKey loaders)`,
    );
  }

  /**
   * The decoder refuses a token whose `sub` is not a string while `verifySub` is on, whatever
   * `identityClaim` is (§8): refuse to create one, rather than hand out a token no request accepts.
   */
  private assertStringSub(payload: Record<string, unknown>, fromAdditionalClaims: boolean): void {
    if (!Object.hasOwn(payload, 'sub') || typeof payload.sub === 'string') return;
    const got = payload.sub === null ? 'null' : typeof payload.sub;
    if (fromAdditionalClaims) {
      throw new TypeError(`the additional claim "sub" must be a string while verifySub is on, got ${got}`);
    }
    throw new TypeError(
      `the identity must be a string (it becomes the "sub" claim and verifySub is on), got ${got}: ` +
        'pass a string, or add a userIdentity loader that returns one',
    );
  }

  private lifetime(type: TokenType, expiresDelta: CreateRefreshTokenOptions['expiresDelta']): number | false {
    if (expiresDelta === undefined) {
      return type === 'access' ? this.config.accessTokenExpires : this.config.refreshTokenExpires;
    }
    const seconds = parseLifetime(expiresDelta);
    if (seconds === undefined) throw new TypeError(`expiresDelta ${LIFETIME_FORMS}; got ${JSON.stringify(expiresDelta)}`);
    return seconds;
  }

  private freshClaim(fresh: boolean | number, now: number): boolean | number {
    if (typeof fresh === 'boolean') return fresh;
    if (typeof fresh !== 'number' || !Number.isFinite(fresh)) {
      throw new TypeError(`fresh must be a boolean or a number of seconds, got ${JSON.stringify(fresh)}`);
    }
    return Math.floor(now + fresh);
  }

  private async signingKey(identity: unknown): Promise<KeyObject> {
    const { algorithm, keys } = this.config;
    if (this.loaders.encodeKey) {
      return this.loaderKeys.import(await this.loaders.encodeKey.encodeKey(identity), algorithm);
    }
    const key = isSymmetric(algorithm) ? keys.secret : keys.private;
    if (!key) {
      const option = isSymmetric(algorithm) ? 'secretKey' : 'privateKey';
      throw new Error(`Cannot create tokens: ${algorithm} needs the "${option}" option (only verification keys are configured)`);
    }
    return key;
  }
}
