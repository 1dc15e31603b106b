import { type ErrorBodySettings, JwtUnavailableException, applyErrorBody } from '../errors/exceptions.js';
import type { JwtExtendedConfig } from '../config/jwt-extended-config.js';
import { JwtExtendedConfigError } from '../config/config-error.js';
import type { JwtHeader, JwtPayload } from '../tokens/jwt.interfaces.js';
import { identityKey } from './identity.js';
import type { RevocableToken, RevocationStoreOptions } from './revocation-store.interface.js';

/** Key of the method through which `JwtExtendedModule` hands a ready store its configuration. */
export const CONFIGURE_STORE = Symbol('nestjs-jwt-extended.configureStore');

/** A store that follows the module's configuration once given it. */
export interface ConfigurableStore {
  [CONFIGURE_STORE](config: JwtExtendedConfig): void;
}

/**
 * Called by the module while it starts, before any request: a ready store in
 * `loaders.blocklist` takes the module's configuration; any other loader is left alone.
 */
export function configureStore(loader: object | undefined, config: JwtExtendedConfig): void {
  if (typeof (loader as Partial<ConfigurableStore> | undefined)?.[CONFIGURE_STORE] === 'function') {
    (loader as ConfigurableStore)[CONFIGURE_STORE](config);
  }
}

export const nowSeconds = () => Date.now() / 1000;

/** A numeric option, checked when the store is built: a `TypeError` naming it otherwise. */
export function numberOption(
  store: string,
  option: string,
  value: unknown,
  valid: (value: number) => boolean,
  expected: string,
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || !valid(value)) {
    throw new TypeError(`${store}: ${option} must be ${expected}, got ${typeof value === 'number' ? value : typeof value}`);
  }
  return value;
}

/**
 * What a store takes from the module's configuration. Built from the store's own
 * options, which are all it knows when used outside the module: then the identity
 * claim is `identityClaim` (default `sub`) and the leeway `decodeLeeway` (default 0).
 * User cut-offs are kept forever, or for `userRevocationTtl` when set: `expiresDelta`
 * has no upper bound, so no module lifetime bounds the tokens a cut-off must refuse.
 */
export class StoreSettings {
  /** Claim holding the identity. */
  identityClaim: string;
  /** Seconds an entry outlives its token's `exp`: the decoder accepts tokens that long. */
  leeway: number;
  /** Seconds a user-wide cut-off is kept (Infinity: forever). */
  readonly userRetention: number;
  /** The module's error body settings; until a module gives them, exceptions keep their default body. */
  private errorBody?: ErrorBodySettings;
  private readonly ownClaim?: string;
  /** A module that configured this store already: every module sharing it must agree on the identity claim. */
  private configuredBy?: JwtExtendedConfig;
  private readonly ownLeeway: number;

  constructor(
    private readonly store: string,
    options: RevocationStoreOptions,
  ) {
    const claim = options.identityClaim;
    if (claim !== undefined && (typeof claim !== 'string' || claim === '')) {
      throw new TypeError(`${store}: identityClaim must be a non-empty string`);
    }
    this.ownClaim = claim;
    this.ownLeeway = numberOption(store, 'decodeLeeway', options.decodeLeeway, (n) => n >= 0, 'a finite number of seconds >= 0') ?? 0;
    this.userRetention =
      numberOption(store, 'userRevocationTtl', options.userRevocationTtl, (n) => n > 0, 'a finite number of seconds > 0') ??
      Number.POSITIVE_INFINITY;
    this.identityClaim = claim ?? 'sub';
    this.leeway = this.ownLeeway;
  }

  /**
   * Follows the module: its claim and its leeway (a longer own leeway is kept). A
   * `userRevocationTtl` shorter than the module's own token lifetimes stops start-up.
   */
  apply(config: JwtExtendedConfig): void {
    if (this.ownClaim !== undefined && this.ownClaim !== config.identityClaim) {
      throw new JwtExtendedConfigError(
        'identityClaim',
        `is ${JSON.stringify(config.identityClaim)}, but the ${this.store} in loaders.blocklist was given identityClaim ` +
          `${JSON.stringify(this.ownClaim)}: leave it out of the store's options (the store follows the module)`,
      );
    }
    // One store may serve several modules (forRoot({ imports })): they must agree on whose token is whose.
    if (this.configuredBy !== undefined && this.configuredBy.identityClaim !== config.identityClaim) {
      throw new JwtExtendedConfigError(
        'identityClaim',
        `is ${JSON.stringify(config.identityClaim)}, but the ${this.store} in loaders.blocklist is shared with another ` +
          `JwtExtendedModule whose identityClaim is ${JSON.stringify(this.configuredBy.identityClaim)}: a revocation through ` +
          `one module would not find the other's tokens. Give the modules one identityClaim, or each its own store`,
      );
    }
    this.identityClaim = config.identityClaim;
    // Shared by several modules: entries outlive the longest leeway any of them accepts.
    this.leeway = Math.max(config.decodeLeeway, this.ownLeeway, this.configuredBy === undefined ? 0 : this.leeway);
    this.configuredBy = config;
    const { accessTokenExpires: access, refreshTokenExpires: refresh } = config;
    const longestLifetime = access === false || refresh === false ? Number.POSITIVE_INFINITY : Math.max(access, refresh) + this.leeway;
    if (this.userRetention < longestLifetime) {
      throw new JwtExtendedConfigError(
        'userRevocationTtl',
        `of the ${this.store} in loaders.blocklist is ${this.userRetention} s, shorter than the module's longest token lifetime ` +
          `(${Number.isFinite(longestLifetime) ? `${longestLifetime} s with decodeLeeway` : 'unbounded: a lifetime is false'}): ` +
          `tokens would be accepted again after revokeAllForUser. Leave it out (cut-offs are then kept forever)`,
      );
    }
    this.errorBody = { errorFormat: config.errorFormat, errorMessageKey: config.errorMessageKey };
  }

  /** What revoking `token` keeps: its jti, its identity, and until when the decoder would accept it (Infinity without `exp`). */
  revocable(token: RevocableToken): { jti: string; identity: unknown; until: number } {
    if (typeof token?.jti !== 'string') throw new TypeError('revokeToken needs the token payload, with its jti');
    if (!Object.hasOwn(token, this.identityClaim)) {
      throw new TypeError(`revokeToken needs the token payload, with its identity claim "${this.identityClaim}"`);
    }
    const identity = token[this.identityClaim];
    identityKey(identity); // refuses what is not an identity before anything is stored
    const until = typeof token.exp === 'number' && Number.isFinite(token.exp) ? token.exp + this.leeway : Number.POSITIVE_INFINITY;
    return { jti: token.jti, identity, until };
  }

  /** The 503 of a store that cannot answer: the library's one unavailable shape, in the module's error body. */
  unavailable(jwtHeader?: JwtHeader, jwtPayload?: JwtPayload): JwtUnavailableException {
    const error = new JwtUnavailableException('Token revocation store unavailable', { jwtHeader, jwtPayload });
    if (this.errorBody) applyErrorBody(error, this.errorBody);
    return error;
  }
}

/**
 * The `iat` from which a user's tokens are valid again. The decoder accepts an `iat`
 * up to `leeway` seconds ahead of the clock (an instance whose clock runs ahead), so
 * a token issued before the revocation may carry any `iat` up to now + leeway: the
 * cut-off is the next whole second after that, and tokens stamped in the leeway after
 * the call are refused too (nothing in an `iat` tells them apart). The caller waits
 * for the next whole second of its clock, so without leeway a token created after
 * the revocation resolves is never mistaken for one created before.
 */
export function userCutoff(leeway: number): { cutoff: number; wait: Promise<void> } {
  const now = Date.now() / 1000;
  return { cutoff: Math.floor(now + leeway) + 1, wait: untilWallClock((Math.floor(now) + 1) * 1000) };
}

/** Resolves once `Date.now()` reaches `ms`. Timers run on a monotonic clock and may fire a little early by the wall clock: check and wait again. */
async function untilWallClock(ms: number): Promise<void> {
  while (Date.now() < ms) {
    await new Promise<void>((resolve) => setTimeout(resolve, ms - Date.now() + 1));
  }
}

/** A token is cut off when it was issued before the cut-off, or carries no usable `iat`. */
export function issuedBefore(iat: unknown, cutoff: number): boolean {
  return !(typeof iat === 'number' && iat >= cutoff);
}
