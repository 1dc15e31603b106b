import { SetMetadata, UseGuards, applyDecorators } from '@nestjs/common';
import { JwtGuard } from '../guard/jwt.guard.js';
import { JWT_REQUIRED_METADATA } from './metadata-keys.js';
import { TOKEN_LOCATIONS } from '../tokens/jwt.constants.js';
import type { TokenLocation } from '../tokens/jwt.interfaces.js';
import type { JwtRequiredOptions, ValidatedJwtRequiredOptions } from './jwt-required-options.interface.js';

type Flag = 'optional' | 'fresh' | 'refresh' | 'verifyType' | 'skipRevocationCheck';
const FLAGS: ReadonlySet<string> = new Set<Flag>(['optional', 'fresh', 'refresh', 'verifyType', 'skipRevocationCheck']);
const OPTION_NAMES = [...FLAGS, 'locations'].join(', ');
const NO_OPTIONS: ValidatedJwtRequiredOptions = Object.freeze({});

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : Array.isArray(value) ? 'an array' : String(value);
}

function locationList(value: unknown, caller: string): readonly TokenLocation[] {
  const list: unknown[] = Array.isArray(value) ? value : [value];
  const invalid = list.find((location) => !TOKEN_LOCATIONS.includes(location as TokenLocation));
  if (list.length === 0 || invalid !== undefined || new Set(list).size !== list.length) {
    const problem = list.length === 0 ? 'is empty' : invalid !== undefined ? `has ${describe(invalid)}` : 'names a location twice';
    throw new TypeError(`${caller}: option "locations" ${problem}; use one or more of ${TOKEN_LOCATIONS.join(', ')}`);
  }
  return Object.freeze(list as TokenLocation[]);
}

/**
 * Checks the options of `@JwtRequired()` (when the decorator is applied) and of
 * `verifyJwtInRequest()` (per call) the same way, and normalises them once: a misspelt key, a
 * non-boolean flag or an unknown location would otherwise silently change what is verified.
 * Keys whose value is `undefined` count as absent.
 */
export function validateJwtRequiredOptions(options: unknown, caller: string): ValidatedJwtRequiredOptions {
  if (options === undefined) return NO_OPTIONS;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${caller}: options must be an object, got ${describe(options)}`);
  }
  const validated: { -readonly [K in keyof ValidatedJwtRequiredOptions]: ValidatedJwtRequiredOptions[K] } = {};
  for (const [key, value] of Object.entries(options)) {
    if (key !== 'locations' && !FLAGS.has(key)) throw new TypeError(`${caller}: unknown option "${key}"; use ${OPTION_NAMES}`);
    if (value === undefined) continue;
    if (key === 'locations') validated.locations = locationList(value, caller);
    else if (typeof value === 'boolean') validated[key as Flag] = value;
    else throw new TypeError(`${caller}: option "${key}" must be a boolean, got ${describe(value)}`);
  }
  return Object.freeze(validated);
}

/**
 * Flask `@jwt_required()`: on a handler or a controller class. Applies `JwtGuard`
 * itself; a handler's options replace its class's as a whole.
 */
export function JwtRequired(options: JwtRequiredOptions = {}): ClassDecorator & MethodDecorator {
  return applyDecorators(SetMetadata(JWT_REQUIRED_METADATA, validateJwtRequiredOptions(options, '@JwtRequired()')), UseGuards(JwtGuard));
}
