/**
 * The canonical key of an identity: its JSON with object keys sorted at every depth,
 * so `{ a: 1, b: 2 }` and `{ b: 2, a: 1 }` are one identity while `42` and `'42'` are two.
 * Anything that is not a JSON value (undefined, NaN, a Date, a class instance…) is
 * refused: a token's identity claim is always JSON, so such a value is a mistake that
 * would otherwise revoke nothing.
 */
export function identityKey(identity: unknown): string {
  switch (typeof identity) {
    case 'string':
      return JSON.stringify(identity);
    case 'boolean':
      return String(identity);
    case 'number':
      if (Number.isFinite(identity)) return JSON.stringify(identity);
      break;
    case 'object': {
      if (identity === null) return 'null';
      if (Array.isArray(identity)) return `[${Array.from(identity, identityKey).join(',')}]`;
      const prototype: unknown = Object.getPrototypeOf(identity);
      if (prototype === Object.prototype || prototype === null) {
        const record = identity as Record<string, unknown>;
        const members = Object.keys(record)
          .toSorted()
          .map((key) => `${JSON.stringify(key)}:${identityKey(record[key])}`);
        return `{${members.join(',')}}`;
      }
      break;
    }
  }
  throw new TypeError(
    `An identity must be a JSON value (string, finite number, boolean, null, array or plain object), got ${describe(identity)}`,
  );
}

function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'object' && value !== null) return `an instance of ${value.constructor?.name ?? 'an unknown class'}`;
  return typeof value;
}

/**
 * A map keyed by identity value. String identities (the usual `sub`) key a map of
 * their own as they are, so looking one up on the guard's path allocates nothing;
 * any other identity keys a second map by its canonical key, so the two never meet.
 */
export class IdentityMap<V> {
  private readonly strings = new Map<string, V>();
  private readonly others = new Map<string, V>();

  get size(): number {
    return this.strings.size + this.others.size;
  }

  /** Undefined for a missing identity (nothing can be stored under one). */
  get(identity: unknown): V | undefined {
    if (typeof identity === 'string') return this.strings.get(identity);
    return identity === undefined ? undefined : this.others.get(identityKey(identity));
  }

  set(identity: unknown, value: V): void {
    if (typeof identity === 'string') this.strings.set(identity, value);
    else this.others.set(identityKey(identity), value);
  }

  delete(identity: unknown): void {
    if (typeof identity === 'string') this.strings.delete(identity);
    else this.others.delete(identityKey(identity));
  }

  *values(): IterableIterator<V> {
    yield* this.strings.values();
    yield* this.others.values();
  }

  /** Drops every entry `expired` says is over. */
  deleteWhere(expired: (value: V) => boolean): void {
    for (const map of [this.strings, this.others]) {
      for (const [key, value] of map) if (expired(value)) map.delete(key);
    }
  }
}
