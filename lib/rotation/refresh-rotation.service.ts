import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { RevokedTokenException, WrongTokenException } from '../errors/exceptions.js';
import { fail } from '../config/config-error.js';
import { JWT_EXTENDED_CONFIG, JWT_EXTENDED_LOADERS } from '../config/injection-tokens.js';
import type { JwtExtendedConfig } from '../config/jwt-extended-config.js';
import type { ResolvedLoaders } from '../loaders/jwt-extended-loaders.interface.js';
import type { RefreshTokenStore } from '../loaders/rotation-loaders.interface.js';
import { settleLoader } from '../loaders/settle-loader.js';
import { MAX_FAMILY_LIFETIME } from '../config/defaults.js';
import type { HttpRequestLike } from '../request/http-adapter.js';
import type { JwtHeader, JwtPayload } from '../tokens/jwt.interfaces.js';
import { requireJwtState } from '../request/jwt-request-state.js';
import { type CreateRefreshTokenOptions, type FamilyMint, TokenSigner } from '../tokens/token-signer.service.js';
import { tellReuse } from './reuse-report.js';

/** What `rotateRefreshToken` hands back: send both to the client, which replaces the refresh token it held. */
export interface RotatedTokens {
  accessToken: string;
  refreshToken: string;
}

export interface RotateRefreshTokenOptions {
  /**
   * The identity the new tokens are created for, as given to `createRefreshToken` at login (the
   * `userIdentity`, `additionalClaims` and `additionalHeaders` loaders then run on it), e.g. the
   * `@CurrentUser()`. Default: the presented token's identity claim, kept as it is
   * (`userIdentity` is not applied again; the other loaders get that claim's value).
   */
  identity?: unknown;
}

const STORE_ROLE = 'refreshTokenStore';

/**
 * A family is kept as long as its tokens live: each needs a numeric `exp` (an `exp` in
 * `additionalClaims` replaces the computed one) at most `MAX_FAMILY_LIFETIME` from now
 * (checked before the store is called, so nothing is written).
 */
function expiryOf(payload: Readonly<Record<string, unknown>>): number {
  const exp = payload.exp;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) {
    throw new TypeError('tokens of a refresh-token family need a numeric exp claim (check additionalClaims)');
  }
  if (exp - Date.now() / 1000 > MAX_FAMILY_LIFETIME) {
    throw new TypeError(
      `tokens of a refresh-token family live at most ${MAX_FAMILY_LIFETIME} seconds (100 years): check expiresDelta and additionalClaims`,
    );
  }
  return exp;
}

/** At start-up: rotation and its store come together (either alone would silently do nothing). */
export function checkRotationLoaders(config: JwtExtendedConfig, loaders: ResolvedLoaders): void {
  if (config.refreshTokenRotation && !loaders.refreshTokenStore) {
    fail(
      'refreshTokenRotation',
      'needs loaders.refreshTokenStore (InMemoryRefreshTokenStore, or RedisRefreshTokenStore for several instances)',
    );
  }
  if (!config.refreshTokenRotation && loaders.refreshTokenStore) {
    fail(
      'refreshTokenRotation',
      'is not set, but loaders.refreshTokenStore is: set refreshTokenRotation: {} (or { reuseInterval }) to rotate refresh tokens',
    );
  }
  if (!config.refreshTokenRotation && loaders.refreshTokenReuse) {
    fail('refreshTokenRotation', 'is not set, but loaders.refreshTokenReuse is: reuse is only detected while refresh tokens rotate');
  }
}

/** Refresh-token families (CONTRACT §12): starting them, rotating within them, revoking them. */
@Injectable()
export class RefreshRotation {
  /** Present only with `refreshTokenRotation` (start-up refuses one without the other). */
  private readonly store?: RefreshTokenStore;

  constructor(
    @Inject(JWT_EXTENDED_CONFIG) private readonly config: JwtExtendedConfig,
    @Inject(JWT_EXTENDED_LOADERS) private readonly loaders: ResolvedLoaders,
    private readonly signer: TokenSigner,
  ) {
    this.store = config.refreshTokenRotation ? loaders.refreshTokenStore : undefined;
  }

  /** Without rotation, a plain refresh token; with it, the first token of a new family, recorded as its current one. */
  async createRefreshToken(identity: unknown, options: CreateRefreshTokenOptions = {}): Promise<string> {
    const store = this.store;
    if (!store) return this.signer.createRefreshToken(identity, options);
    if (options.expiresDelta === false) {
      throw new TypeError(
        'expiresDelta: false is not allowed while refreshTokenRotation is on: the store keeps each family as long as its tokens live',
      );
    }
    const family = randomUUID();
    const { token, payload } = await this.signer.mintInFamily(identity, 'refresh', { family }, options);
    await this.settle(store.startFamily(family, payload.jti as string, expiryOf(payload)));
    return token;
  }

  /**
   * Consumes the request's verified refresh token and mints its successor and a new access token
   * of the same family. A repeat of the token consumed last, within `reuseInterval`, gets the
   * family's current refresh token instead; any other consumed token is reuse: the family is
   * revoked, the `refreshTokenReuse` loader told, and the request fails with 401.
   */
  async rotate(request: object, options: RotateRefreshTokenOptions = {}): Promise<RotatedTokens> {
    const store = this.requireStore('rotateRefreshToken');
    const state = requireJwtState(request as HttpRequestLike);
    const payload = state.payload as JwtPayload;
    const context = { jwtHeader: state.header as JwtHeader, jwtPayload: payload };
    if (payload.type !== 'refresh') throw new WrongTokenException('Only refresh tokens are allowed', context);
    const { fam: family, jti } = payload as { fam?: unknown; jti?: unknown };
    // A refresh token from before rotation was turned on belongs to no family: refused, so it cannot mint forever.
    if (typeof family !== 'string' || typeof jti !== 'string') throw new RevokedTokenException(context);

    const mint: FamilyMint = options.identity === undefined ? { family, verbatimIdentity: { value: state.identity } } : { family };
    const owner = options.identity === undefined ? state.identity : options.identity;
    const [access, next] = await Promise.all([
      this.signer.mintInFamily(owner, 'access', mint),
      this.signer.mintInFamily(owner, 'refresh', mint),
    ]);
    const result = await this.settle(
      store.rotate({
        family,
        presented: jti,
        next: { jti: next.payload.jti as string, token: next.token },
        reuseInterval: this.config.refreshTokenRotation!.reuseInterval,
        expiresAt: Math.max(expiryOf(access.payload), expiryOf(next.payload)),
      }),
    );
    switch (result.outcome) {
      case 'rotated':
        return { accessToken: access.token, refreshToken: next.token };
      case 'reissued':
        return { accessToken: access.token, refreshToken: result.token };
      case 'reuse':
        await tellReuse(this.loaders.refreshTokenReuse, payload, this.config.loaderTimeout);
        throw new RevokedTokenException(context);
      default:
        throw new RevokedTokenException(context);
    }
  }

  /** Logout: every token of the family, access and refresh, is refused from now on. */
  async revokeFamily(family: string): Promise<void> {
    if (typeof family !== 'string' || family === '') throw new TypeError('revokeRefreshFamily needs the family id (the "fam" claim)');
    await this.settle(this.requireStore('revokeRefreshFamily').revokeFamily(family));
  }

  private requireStore(method: string): RefreshTokenStore {
    if (!this.store) {
      throw new Error(`${method} needs refresh-token rotation: set the refreshTokenRotation option and loaders.refreshTokenStore`);
    }
    return this.store;
  }

  private settle<T>(result: T | Promise<T>): T | Promise<T> {
    return settleLoader(result, STORE_ROLE, this.config.loaderTimeout);
  }
}
