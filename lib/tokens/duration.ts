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
 * `'30d'`, `'1 week'`). Returns `undefined` when the value is neither.
 */
export function parseDuration(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = DURATION.exec(value);
  if (!match) return undefined;
  const unit = match[2].toLowerCase();
  const factor = unit === '' ? 1 : UNIT_SECONDS[unit];
  if (factor === undefined) return undefined;
  const seconds = Number(match[1]) * factor;
  return Number.isFinite(seconds) ? seconds : undefined;
}

/** What a lifetime option or `expiresDelta` may be, for error messages. */
export const LIFETIME_FORMS = "must be seconds, a duration such as '15m', '2h' or '30d', or false";

/** A token lifetime (`accessTokenExpires`, `expiresDelta`, …): seconds, `false` for no `exp`, or `undefined` when invalid. */
export function parseLifetime(value: unknown): number | false | undefined {
  if (value === false) return false;
  return typeof value === 'number' || typeof value === 'string' ? parseDuration(value) : undefined;
}
