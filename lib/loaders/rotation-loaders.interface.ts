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
  /** False when the family is revoked or unknown: the guard then refuses its tokens (401). */
  isFamilyActive(family: string): MaybePromise<boolean>;
}

/** Told when a consumed refresh token was presented again and its family was revoked (theft, or a client bug). */
export interface RefreshTokenReuseLoader {
  onRefreshTokenReuse(payload: JwtPayload): MaybePromise<void>;
}
