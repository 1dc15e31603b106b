/**
 * How a verified payload's values may be handed to more than one request:
 * - `shared`: only JSON-like data (plain objects, arrays, primitives), now deeply frozen.
 * - `cloned`: also built-ins whose contents freezing cannot protect (Date, Set, Map, RegExp,
 *   binary data), as a `claimsSchema` may produce: each request needs its own clone.
 * - `unshared`: something no clone reproduces faithfully (a class instance, a function, a
 *   symbol): every request must build its own.
 * A payload parsed from JSON is always `shared`; the other two come from schema output only.
 */
export type ValueSharing = 'shared' | 'cloned' | 'unshared';

function isCloneableBuiltIn(value: object): boolean {
  return (
    value instanceof Date ||
    value instanceof RegExp ||
    value instanceof Set ||
    value instanceof Map ||
    value instanceof ArrayBuffer ||
    ArrayBuffer.isView(value)
  );
}

/** No own value to walk (most headers and many payloads): answered without building a list of values. */
function holdsPrimitivesOnly(object: object): boolean {
  for (const key in object) {
    if (!Object.hasOwn(object, key)) continue;
    const value = (object as Record<string, unknown>)[key];
    if ((typeof value === 'object' && value !== null) || typeof value === 'function' || typeof value === 'symbol') return false;
  }
  return true;
}

/**
 * Freezes every plain object and array nested in `object`'s values (not `object` itself), also
 * inside Sets and Maps, and says how the values may be shared. Iterative, not recursive: an
 * unverified payload may nest thousands of levels deep, and a stack overflow there would be a
 * 500 for anyone who asks.
 */
export function freezeValues(object: object): ValueSharing {
  if (holdsPrimitivesOnly(object)) return 'shared';
  let sharing: ValueSharing = 'shared';
  // Built-ins stay unfrozen, so cycles through them are broken here.
  let builtIns: Set<object> | undefined;
  const pending: unknown[] = Object.values(object);
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'function' || typeof value === 'symbol') sharing = 'unshared';
    if (typeof value !== 'object' || value === null) continue;
    const prototype: unknown = Object.getPrototypeOf(value);
    if (prototype === Object.prototype || prototype === null || Array.isArray(value)) {
      // Frozen already: walked by an earlier call (the verified payload before the schema ran).
      if (Object.isFrozen(value)) continue;
      Object.freeze(value);
      for (const item of Object.values(value)) pending.push(item);
    } else if (isCloneableBuiltIn(value)) {
      // Not frozen: freezing leaves their contents writable (and throws for a non-empty typed array).
      if (builtIns?.has(value)) continue;
      (builtIns ??= new Set()).add(value);
      if (sharing === 'shared') sharing = 'cloned';
      if (value instanceof Set) for (const item of value) pending.push(item);
      else if (value instanceof Map) for (const entry of value) pending.push(...entry);
    } else {
      sharing = 'unshared';
      if (Object.isFrozen(value)) continue;
      Object.freeze(value);
      for (const item of Object.values(value)) pending.push(item);
    }
  }
  return sharing;
}

/**
 * A payload of its own, for a `cloned` one: a structured clone, nested plain objects frozen again.
 * Throws a `RangeError` for a payload nested too deep to clone; the caller then does not share it.
 */
export function clonePayload<Payload extends object>(payload: Payload): Payload {
  const copy = structuredClone(payload);
  freezeValues(copy);
  return copy;
}
