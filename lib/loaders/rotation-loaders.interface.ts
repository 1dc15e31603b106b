import type { JwtPayload } from '../tokens/jwt.interfaces.js';
import type { MaybePromise } from './maybe-promise.js';

/** One rotation: the presented refresh token of a family, and the successor minted for it. */
export interface FamilyRotation {
  /** The family (`fam` claim). */
  family: string;
  /** `jti` of the presented refresh token. */
  presented: string;
  /** The successor; the token itself is handed out again to a repeat within `reuseInterval`. */
  next: { jti: string; token: string };
  /** Seconds after this consumption during which presenting the same token again gets `next.token`. */
  reuseInterval: number;
  /** Unix seconds: the latest `exp` of the tokens this rotation issues. The family's record must outlive it. */
  expiresAt: number;
}

/**
 * What a rotation found, decided atomically:
 * - `rotated`: the presented token was the family's current one; `next` is current now.
 * - `reissued`: the presented token is the one consumed last, within `reuseInterval` of its
 *   consumption; `token` is the family's current refresh token (no second branch).
 * - `reuse`: any other consumed token; the family is revoked by this call.
 * - `revoked`: the family was revoked already, or is unknown (expired, or its record lost).
 */
export type RotationOutcome =
  { outcome: 'rotated' } | { outcome: 'reissued'; token: string } | { outcome: 'reuse' } | { outcome: 'revoked' };

/** A token carrying a `fam` claim, as the guard presents it to the store. */
export interface FamilyToken {
  family: string;
  jti: string;
  type: 'access' | 'refresh';
}

/**
 * What the guard's check of a family token found:
 * - `active`: the family is live and, for a refresh token, the token is its current one or the
 *   one consumed last, within `reuseInterval` of its consumption (the grace window of `rotate`).
 * - `reuse`: a refresh token of the family that was consumed (outside that window); the family
 *   is revoked by this call, atomically, as by `rotate`.
 * - `revoked`: the family was revoked already, or is unknown.
 */
export type FamilyTokenStatus = 'active' | 'reuse' | 'revoked';

/**
 * Keeps refresh-token families for `refreshTokenRotation` (CONTRACT §12): which token of each
 * family is current, and which families are revoked. Every method must be atomic with respect
 * to the others, across every instance sharing the store; a failure rejects (the request then
 * fails closed). Ready stores: `InMemoryRefreshTokenStore` (one process) and
 * `RedisRefreshTokenStore` (`nestjs-jwt-extended/redis`).
 */
export interface RefreshTokenStore {
  /** Records a new family whose current refresh token is `jti`, kept until `expiresAt` (Unix seconds) plus the leeway. */
  startFamily(family: string, jti: string, expiresAt: number): Promise<void>;
  /** Consumes `rotation.presented`, atomically. */
  rotate(rotation: FamilyRotation): Promise<RotationOutcome>;
  /** Revokes the family: its access and refresh tokens are refused from now on. Unknown families are refused anyway. */
  revokeFamily(family: string): Promise<void>;
  /**
   * The guard's one call per token of a family: anything but `active` is refused (401). An access
   * token only needs its family live; a consumed refresh token is reuse even on a route that does not rotate.
   */
  checkFamilyToken(token: FamilyToken): MaybePromise<FamilyTokenStatus>;
}

/** Told when a consumed refresh token was presented again and its family was revoked (theft, or a client bug). */
export interface RefreshTokenReuseLoader {
  onRefreshTokenReuse(payload: JwtPayload): MaybePromise<void>;
}
