/**
 * Checks that `value` survives JSON unchanged, so nothing a caller put in a token
 * is silently dropped (`undefined`, functions) or turned into something else
 * (`NaN` → `null`), and BigInt or cycles give a clear error instead of a crash.
 */
export function assertJsonSerializable(value: unknown, path: string, seen: object[] = []): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${path} is ${value}, which JSON cannot represent`);
      return;
    case 'object':
      break;
    case 'undefined':
      throw new TypeError(`${path} is undefined, which JSON cannot represent`);
    default:
      throw new TypeError(`${path} is a ${typeof value}, which JSON cannot represent`);
  }
  if (value === null) return;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return assertJsonSerializable(toJSON.call(value), path, seen);
  if (seen.includes(value)) throw new TypeError(`${path} refers to itself; JSON cannot represent cycles`);
  seen.push(value);
  if (Array.isArray(value)) {
    value.forEach((item, index) => assertJsonSerializable(item, `${path}[${index}]`, seen));
  } else {
    for (const [key, item] of Object.entries(value)) assertJsonSerializable(item, `${path}.${key}`, seen);
  }
  seen.pop();
}
