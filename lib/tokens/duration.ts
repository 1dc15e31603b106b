const UNIT_SECONDS: Record<string, number> = {
  s: 1,
  sec: 1,
  secs: 1,
  second: 1,
  seconds: 1,
  m: 60,
  min: 60,
  mins: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hr: 3600,
  hrs: 3600,
  hour: 3600,
  hours: 3600,
  d: 86400,
  day: 86400,
  days: 86400,
  w: 604800,
  week: 604800,
  weeks: 604800,
};

const DURATION = /^\s*(-?\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i;

/**
 * Seconds from a number of seconds or a duration string (`'90'`, `'15m'`, `'2h'`,
 * `'30d'`, `'1 week'`). Returns `undefined` when the value is neither. Every string
 * `TokenLifetime` types parses; the older spellings (`'90'`, `'1 week'`) still do at runtime.
 */
export function parseDuration(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = DURATION.exec(value);
  // Else `TokenLifetime`'s string form: any number TypeScript's `${number}` admits ('1e3s', '.5h', '0x10m'), then one letter.
  const [amount, unit] = match ? [match[1], match[2].toLowerCase()] : [value.slice(0, -1), value.slice(-1).toLowerCase()];
  const factor = unit === '' ? 1 : UNIT_SECONDS[unit];
  if (factor === undefined || !/\d/.test(amount)) return undefined;
  const seconds = Number(amount) * factor;
  return Number.isFinite(seconds) ? seconds : undefined;
}

/** What a lifetime option or `expiresDelta` may be, for error messages. */
export const LIFETIME_FORMS = "must be seconds, a duration such as '15m', '2h' or '30d', or false";

/** A token lifetime (`accessTokenExpires`, `expiresDelta`, …): seconds, `false` for no `exp`, or `undefined` when invalid. */
export function parseLifetime(value: unknown): number | false | undefined {
  if (value === false) return false;
  return typeof value === 'number' || typeof value === 'string' ? parseDuration(value) : undefined;
}
