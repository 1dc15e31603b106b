import { KeyObject } from 'node:crypto';
import type { JwtAlgorithm } from '../tokens/jwt.interfaces.js';
import { importKey } from './keys.js';

const MAX_TEXT_KEYS = 256;

/**
 * Imports keys handed back by `encodeKey`/`decodeKey` loaders with the same checks as
 * configured keys (key material refused as an HS* secret, minimum lengths, key type),
 * remembering the result so a loader that returns the same PEM or JWK on every request
 * does not pay for parsing it every time. Only successful imports are remembered, and
 * only by what cannot change behind the cache's back: a string, a JWK's content (a loader
 * may rotate a key by updating the object it returns), a KeyObject (immutable).
 */
export class LoaderKeyCache {
  /** By algorithm and PEM / secret string, or algorithm and JWK content. */
  private readonly byText = new Map<string, KeyObject>();
  private readonly keyObjects = new WeakMap<KeyObject, Map<string, KeyObject>>();
  private readonly option: 'loaders.encodeKey' | 'loaders.decodeKey';

  constructor(private readonly use: 'sign' | 'verify') {
    this.option = use === 'sign' ? 'loaders.encodeKey' : 'loaders.decodeKey';
  }

  import(input: unknown, alg: JwtAlgorithm): KeyObject {
    if (input instanceof KeyObject) {
      let perAlg = this.keyObjects.get(input);
      const hit = perAlg?.get(alg);
      if (hit) return hit;
      const key = importKey(input, alg, this.use, this.option);
      if (!perAlg) this.keyObjects.set(input, (perAlg = new Map()));
      perAlg.set(alg, key);
      return key;
    }
    const text = typeof input === 'string' ? `string\u0000${input}` : jwkContent(input);
    if (text === undefined) return importKey(input, alg, this.use, this.option);
    const cacheKey = `${alg}\u0000${text}`;
    const hit = this.byText.get(cacheKey);
    if (hit) return hit;
    const key = importKey(input, alg, this.use, this.option);
    if (this.byText.size >= MAX_TEXT_KEYS) this.byText.clear();
    this.byText.set(cacheKey, key);
    return key;
  }
}

/** A JWK's members in a fixed order, as text: two objects with the same members are the same key. */
function jwkContent(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null || input instanceof Uint8Array || Array.isArray(input)) return undefined;
  try {
    return `jwk\u0000${JSON.stringify(input, sortedMembers)}`;
  } catch {
    return undefined; // not JSON (a cycle, a BigInt): importKey refuses it
  }
}

/** JSON.stringify replacer: every object's members in sorted order, at every depth. */
function sortedMembers(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).toSorted(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
