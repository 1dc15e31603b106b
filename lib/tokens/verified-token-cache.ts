import type { JwtHeader, JwtPayload } from './jwt.interfaces.js';

interface Entry {
  header: JwtHeader;
  payload: JwtPayload;
  /** Seconds since the epoch from which the token counts as expired (`exp` + leeway). */
  expiresAt: number;
}

/**
 * Tokens whose signature and registered claims were verified, keyed by the whole
 * token string, so a client sending the same token again skips parsing and the
 * signature check. An entry is never returned at or after its expiry. Only what is
 * true of the token itself is cached: type, freshness, CSRF, revocation, claims
 * verification and user lookup are checked on every request.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxEntries: number) {}

  get(token: string, nowSeconds: number): Entry | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    if (nowSeconds >= entry.expiresAt) {
      this.entries.delete(token);
      return undefined;
    }
    return entry;
  }

  set(token: string, header: JwtHeader, payload: JwtPayload, expiresAt: number): void {
    if (this.entries.size >= this.maxEntries) {
      // Oldest first: Map keeps insertion order.
      this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.set(token, { header, payload, expiresAt });
  }
}
