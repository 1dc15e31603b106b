import type { KeyObject } from 'node:crypto';
import type { JwtAlgorithm } from '../tokens/jwt.interfaces.js';
import { importKey } from './keys.js';

const MAX_STRING_KEYS = 256;

/**
 * Imports keys handed back by `encodeKey`/`decodeKey` loaders with the same checks as
 * configured keys (key material refused as an HS* secret, minimum lengths, key type),
 * remembering the result so a loader that returns the same PEM or JWK on every request
 * does not pay for parsing it every time. Only successful imports are remembered.
 */
export class LoaderKeyCache {
  private readonly strings = new Map<string, KeyObject>();
  private readonly objects = new WeakMap<object, Map<string, KeyObject>>();
  private readonly option: 'loaders.encodeKey' | 'loaders.decodeKey';

  constructor(private readonly use: 'sign' | 'verify') {
    this.option = use === 'sign' ? 'loaders.encodeKey' : 'loaders.decodeKey';
  }

  import(input: unknown, alg: JwtAlgorithm): KeyObject {
    if (typeof input === 'string') {
      const cacheKey = `${alg}\u0000${input}`;
      const hit = this.strings.get(cacheKey);
      if (hit) return hit;
      const key = importKey(input, alg, this.use, this.option);
      if (this.strings.size >= MAX_STRING_KEYS) this.strings.clear();
      this.strings.set(cacheKey, key);
      return key;
    }
    if (typeof input === 'object' && input !== null && !(input instanceof Uint8Array)) {
      let perAlg = this.objects.get(input);
      const hit = perAlg?.get(alg);
      if (hit) return hit;
      const key = importKey(input, alg, this.use, this.option);
      if (!perAlg) this.objects.set(input, (perAlg = new Map()));
      perAlg.set(alg, key);
      return key;
    }
    return importKey(input, alg, this.use, this.option);
  }
}
