import type { JwtExtendedConfig } from '../config/jwt-extended-config.js';
import type {
  FamilyRotation,
  FamilyToken,
  FamilyTokenStatus,
  RefreshTokenStore,
  RotationOutcome,
} from '../loaders/rotation-loaders.interface.js';
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
    if (this.inGraceWindow(family, rotation.presented, now)) {
      this.extend(family, rotation.expiresAt);
      return { outcome: 'reissued', token: family.reissue! };
    }
    this.revoke(family);
    return { outcome: 'reuse' };
  }

  checkFamilyToken(token: FamilyToken): FamilyTokenStatus {
    const family = this.live(token.family);
    if (!family || family.revoked) return 'revoked';
    if (token.type === 'access' || family.current === token.jti || this.inGraceWindow(family, token.jti, Date.now())) return 'active';
    this.revoke(family);
    return 'reuse';
  }

  async revokeFamily(family: string): Promise<void> {
    checkIds(family);
    const found = this.live(family);
    if (found) this.revoke(found);
  }

  /** `jti` is the token consumed last and a repeat of it still gets the current one. */
  private inGraceWindow(family: Family, jti: string, now: number): boolean {
    return family.previous === jti && family.reissue !== undefined && now < family.reissueUntil;
  }

  private revoke(family: Family): void {
    family.revoked = true;
    family.reissue = undefined;
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
