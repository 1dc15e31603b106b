import type { KeyObject } from 'node:crypto';
import type { ResolvedTrustedIssuer } from '../config/jwt-extended-config.js';
import type { AsymmetricAlgorithm } from '../tokens/jwt.interfaces.js';
import { KeyError, assertKeyFitsAlgorithm, toPublicKey } from './keys.js';

/** Largest key-set document read (bytes) and most keys kept: a hostile or broken endpoint cannot exhaust memory. */
export const MAX_JWKS_BYTES = 256 * 1024;
export const MAX_JWKS_KEYS = 100;

/** The key set could not be fetched or is not a usable JWKS: requests fail closed (503). */
export class KeySetUnavailableError extends Error {
  override name = 'KeySetUnavailableError';
}

/** A `kid` the set holds, with its public key, or why it cannot be used. */
type Entry = { key: KeyObject; alg?: string; fit: Map<string, string | undefined> } | { refused: string };

/** What a lookup found: the key, no key of that `kid`, or a key that does not fit the token's algorithm. */
export type RemoteKeyLookup = { key: KeyObject } | { unknownKid: true } | { unfit: string };

/**
 * An issuer's remote JWKS, fetched lazily and cached for `cacheMaxAge`. An unknown `kid`
 * refetches at most once per `cooldown`; a failed fetch is not retried within `cooldown`
 * either, so neither a flood of made-up kids nor a dead endpoint turns into a flood of fetches.
 *
 * Built on node:crypto's JWK import and this library's key checks rather than jose's
 * `createRemoteJWKSet`: that hands back WebCrypto keys for jose's asynchronous verify,
 * has no size cap, and would judge key material by other rules than configured keys.
 * `jku`/`x5u` never reach here: the URL is the issuer's configured `jwksUri`.
 */
export class RemoteKeySet {
  private keys?: ReadonlyMap<string, Entry>;
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private attemptedAt = Number.NEGATIVE_INFINITY;
  private lastFailure?: KeySetUnavailableError;
  private inFlight?: Promise<void>;

  constructor(private readonly issuer: ResolvedTrustedIssuer) {}

  async lookup(kid: string, alg: AsymmetricAlgorithm): Promise<RemoteKeyLookup> {
    if (!this.isFresh(Date.now())) await this.refresh();
    let entry = this.keys!.get(kid);
    // A fetch already under way (another request's unknown kid) may bring this kid too: wait for it.
    if (entry === undefined && (this.inFlight || Date.now() - this.attemptedAt >= this.issuer.cooldownMs)) {
      await this.refresh();
      entry = this.keys!.get(kid);
    }
    if (entry === undefined) return { unknownKid: true };
    if ('refused' in entry) return { unfit: entry.refused };
    if (entry.alg !== undefined && entry.alg !== alg) return { unfit: `the key is for ${entry.alg}` };
    // Checked once per algorithm, not per token: the entry lives as long as this fetch of the set.
    if (!entry.fit.has(alg)) entry.fit.set(alg, misfit(entry.key, alg));
    const problem = entry.fit.get(alg);
    return problem === undefined ? { key: entry.key } : { unfit: problem };
  }

  /** Whether `key` is still the set's key for `kid` and the set is within `cacheMaxAge`: verified tokens stay cached only while it is. */
  holds(kid: string, key: KeyObject): boolean {
    const entry = this.isFresh(Date.now()) ? this.keys!.get(kid) : undefined;
    return entry !== undefined && 'key' in entry && entry.key === key;
  }

  private isFresh(now: number): boolean {
    return this.keys !== undefined && now - this.fetchedAt < this.issuer.cacheMaxAgeMs;
  }

  /** One fetch at a time; a recent failure answers again without fetching until `cooldown` has passed. */
  private refresh(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (this.lastFailure && Date.now() - this.attemptedAt < this.issuer.cooldownMs) return Promise.reject(this.lastFailure);
    this.inFlight = this.fetchKeys().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async fetchKeys(): Promise<void> {
    this.attemptedAt = Date.now();
    try {
      this.keys = parseKeySet(await fetchDocument(this.issuer.jwksUri, this.issuer.timeoutMs));
      this.fetchedAt = Date.now();
      this.lastFailure = undefined;
    } catch (error) {
      // The previous set (if any) stays for kids it knows, until its cacheMaxAge ends.
      this.lastFailure = new KeySetUnavailableError(`${this.issuer.jwksUri}: ${(error as Error).message}`);
      throw this.lastFailure;
    }
  }
}

/** GET `url` as JSON within `timeoutMs`, reading at most MAX_JWKS_BYTES. Redirects are not followed. */
async function fetchDocument(url: string, timeoutMs: number): Promise<unknown> {
  const response = await fetch(url, {
    signal: AbortSignal.timeout(timeoutMs),
    redirect: 'manual',
    headers: { accept: 'application/json' },
  });
  if (response.status !== 200 || !response.body) {
    await response.body?.cancel();
    throw new Error(`answered ${response.status}`);
  }
  if (Number(response.headers.get('content-length') ?? 0) > MAX_JWKS_BYTES) {
    await response.body.cancel();
    throw new Error(`document larger than ${MAX_JWKS_BYTES} bytes`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > MAX_JWKS_BYTES) throw new Error(`document larger than ${MAX_JWKS_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new Error('document is not JSON');
  }
}

/**
 * The keys of a JWKS document by `kid`. The document as a whole fails on anything
 * ambiguous (duplicate kids, too many keys, not a key set); a single key that cannot
 * serve signatures (symmetric, unusable, `use` other than `sig`) is kept as refused,
 * so a token naming it fails with a reason.
 */
export function parseKeySet(document: unknown): ReadonlyMap<string, Entry> {
  const keys = typeof document === 'object' && document !== null ? (document as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys)) throw new Error('document is not a JWKS ({ "keys": [...] })');
  if (keys.length > MAX_JWKS_KEYS) throw new Error(`more than ${MAX_JWKS_KEYS} keys`);
  const entries = new Map<string, Entry>();
  for (const jwk of keys as unknown[]) {
    if (typeof jwk !== 'object' || jwk === null) throw new Error('a key is not an object');
    const { kid, kty, use, alg } = jwk as Record<string, unknown>;
    // A key without kid cannot be chosen: tokens of a trusted issuer must name their key.
    if (typeof kid !== 'string' || kid === '') continue;
    // Which of two keys a kid means is not for an attacker to decide.
    if (entries.has(kid)) throw new Error(`duplicate kid ${JSON.stringify(kid)}`);
    entries.set(kid, importRemoteKey(jwk as Record<string, unknown>, kty, use, alg));
  }
  return entries;
}

function importRemoteKey(jwk: Record<string, unknown>, kty: unknown, use: unknown, alg: unknown): Entry {
  if (kty === 'oct') return { refused: 'a symmetric key: a published secret lets anyone sign' };
  if (use !== undefined && use !== 'sig') return { refused: `a key for use ${JSON.stringify(use)}, not signatures` };
  if (alg !== undefined && typeof alg !== 'string') return { refused: 'a key with a malformed alg' };
  try {
    const key = toPublicKey(jwk, 'a remote key set');
    // A declared alg is checked now (RSA size, curve); without one, at lookup against the token's alg.
    if (alg !== undefined) assertKeyFitsAlgorithm(key, alg as AsymmetricAlgorithm, 'a remote key set');
    return { key, alg, fit: new Map() };
  } catch (error) {
    if (error instanceof KeyError) return { refused: error.problem };
    throw error;
  }
}

/** Why `key` cannot serve `alg` (RSA size, curve, key type); undefined when it can. */
function misfit(key: KeyObject, alg: AsymmetricAlgorithm): string | undefined {
  try {
    assertKeyFitsAlgorithm(key, alg, 'a remote key set');
    return undefined;
  } catch (error) {
    if (error instanceof KeyError) return error.problem;
    throw error;
  }
}
