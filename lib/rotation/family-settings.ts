import { JwtUnavailableException } from '../errors/exceptions.js';
import type { JwtExtendedConfig } from '../config/jwt-extended-config.js';
import type { FamilyRotation } from '../loaders/rotation-loaders.interface.js';

/**
 * What a refresh-token store takes from the module (handed over through `CONFIGURE_STORE`, like
 * the blocklist stores): the leeway, so a family's record outlives the moment the decoder stops
 * accepting its last token (`exp + decodeLeeway`). Shared by several modules: the longest leeway.
 */
export class FamilySettings {
  private leeway = 0;

  apply(config: JwtExtendedConfig): void {
    this.leeway = Math.max(this.leeway, config.decodeLeeway);
  }

  /** Milliseconds from now a family record must be kept for tokens living until `expiresAt` (Unix seconds); at least 1. */
  keepMs(expiresAt: number): number {
    const ms = Math.max(1, Math.ceil((expiresAt + this.leeway) * 1000 - Date.now()));
    // Past this a store's expiry is no longer exact (and Redis refuses it): refused before anything is written.
    if (!Number.isSafeInteger(ms)) throw new TypeError('a refresh-token family cannot be kept that long (check the token lifetimes)');
    return ms;
  }
}

/** Refuses what is not a family id or a jti before anything is stored. */
export function checkIds(...ids: unknown[]): void {
  for (const id of ids) {
    if (typeof id !== 'string' || id === '') throw new TypeError('refresh-token families and jtis are non-empty strings');
  }
}

export function checkExpiry(expiresAt: number): void {
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt))
    throw new TypeError('expiresAt must be a finite number of Unix seconds');
}

export function checkRotation(rotation: FamilyRotation): void {
  checkIds(rotation.family, rotation.presented, rotation.next?.jti, rotation.next?.token);
  // A successor with the presented jti would make that token current forever: it would never be consumed.
  if (rotation.next.jti === rotation.presented) throw new TypeError('the successor of a refresh token needs a jti of its own');
  if (!Number.isFinite(rotation.reuseInterval) || rotation.reuseInterval < 0)
    throw new TypeError('reuseInterval must be a finite number >= 0');
  checkExpiry(rotation.expiresAt);
}

/** The 503 of a refresh-token store that cannot answer (the module gives it its error body where it leaves the library). */
export const storeUnavailable = () => new JwtUnavailableException('Refresh token store unavailable');
