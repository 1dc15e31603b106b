import type { JwtExtendedConfig } from '../config/jwt-extended-config.js';
import type { FamilyRotation, RefreshTokenStore, RotationOutcome } from '../loaders/rotation-loaders.interface.js';
import { CONFIGURE_STORE, type ConfigurableStore } from '../blocklist/store-settings.js';
import { FamilySettings, checkExpiry, checkIds, checkRotation } from './family-settings.js';

/** One family: its current refresh token, the one consumed last (with its successor while a repeat is allowed), and until when it is kept (ms). */
interface Family {
  current: string;
  previous?: string;
  /** The current token, handed out again to a repeat of `previous` until `reissueUntil` (ms). */
  reissue?: string;
  reissueUntil: number;
  revoked: boolean;
  until: number;
}

// Below this many families no sweep runs; above, one runs each time the map doubles (amortised O(1) per family).
const MIN_SWEEP_SIZE = 1024;

/**
 * Refresh-token families in this process's memory. Every method runs to completion without
 * awaiting, so each is atomic: of two concurrent rotations of one token exactly one consumes it.
 * For one instance only (instances do not share it) and lost on restart: after a restart every
 * family is unknown and its tokens are refused (users log in again). Use `RedisRefreshTokenStore`
 * for several instances.
 *
 * ```ts
 * JwtExtendedModule.forRoot({ ..., refreshTokenRotation: {}, loaders: { refreshTokenStore: InMemoryRefreshTokenStore } })
 * ```
 */
export class InMemoryRefreshTokenStore implements RefreshTokenStore, ConfigurableStore {
  private readonly families = new Map<string, Family>();
  private readonly settings = new FamilySettings();
  private sweepAt = MIN_SWEEP_SIZE;

  /** @internal Called by `JwtExtendedModule` while it starts. */
  [CONFIGURE_STORE](config: JwtExtendedConfig): void {
    this.settings.apply(config);
  }

  async startFamily(family: string, jti: string, expiresAt: number): Promise<void> {
    checkIds(family, jti);
    checkExpiry(expiresAt);
    this.families.set(family, { current: jti, reissueUntil: 0, revoked: false, until: Date.now() + this.settings.keepMs(expiresAt) });
    if (this.families.size >= this.sweepAt) this.sweep();
  }

  async rotate(rotation: FamilyRotation): Promise<RotationOutcome> {
    checkRotation(rotation);
    const family = this.live(rotation.family);
    if (!family || family.revoked) return { outcome: 'revoked' };
    const now = Date.now();
    if (family.current === rotation.presented) {
      family.previous = family.current;
      family.current = rotation.next.jti;
      family.reissue = rotation.reuseInterval > 0 ? rotation.next.token : undefined;
      family.reissueUntil = now + rotation.reuseInterval * 1000;
      this.extend(family, rotation.expiresAt);
      return { outcome: 'rotated' };
    }
    if (family.previous === rotation.presented && family.reissue !== undefined && now < family.reissueUntil) {
      this.extend(family, rotation.expiresAt);
      return { outcome: 'reissued', token: family.reissue };
    }
    family.revoked = true;
    family.reissue = undefined;
    return { outcome: 'reuse' };
  }

  async revokeFamily(family: string): Promise<void> {
    checkIds(family);
    const found = this.live(family);
    if (found) {
      found.revoked = true;
      found.reissue = undefined;
    }
  }

  isFamilyActive(family: string): boolean {
    const found = this.live(family);
    return found !== undefined && !found.revoked;
  }

  /** The family's record while it is kept. */
  private live(family: string): Family | undefined {
    const found = this.families.get(family);
    if (found && found.until <= Date.now()) {
      this.families.delete(family);
      return undefined;
    }
    return found;
  }

  /** A record outlives every token issued into its family; never shortened. */
  private extend(family: Family, expiresAt: number): void {
    family.until = Math.max(family.until, Date.now() + this.settings.keepMs(expiresAt));
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, family] of this.families) if (family.until <= now) this.families.delete(id);
    this.sweepAt = Math.max(MIN_SWEEP_SIZE, this.families.size * 2);
  }
}
