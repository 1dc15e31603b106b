import { SetMetadata, UseGuards, applyDecorators } from '@nestjs/common';
import { JwtGuard } from '../guard/jwt.guard.js';
import { JWT_REQUIRED_METADATA } from '../module/constants.js';
import { TOKEN_LOCATIONS, type TokenLocation } from '../tokens/jwt.interfaces.js';
import type { JwtRequiredOptions } from './jwt-required-options.interface.js';

const OPTION_NAMES = new Set(['optional', 'fresh', 'refresh', 'locations', 'verifyType', 'skipRevocationCheck']);

function validate(options: JwtRequiredOptions): JwtRequiredOptions {
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.has(key)) throw new TypeError(`@JwtRequired(): unknown option "${key}"`);
  }
  if (options.locations !== undefined) {
    const list: unknown[] = Array.isArray(options.locations) ? options.locations : [options.locations];
    if (list.length === 0 || list.some((l) => !TOKEN_LOCATIONS.includes(l as TokenLocation))) {
      throw new TypeError(`@JwtRequired(): locations must be some of ${TOKEN_LOCATIONS.join(', ')}`);
    }
    return { ...options, locations: list as TokenLocation[] };
  }
  return options;
}

/**
 * Flask `@jwt_required()`: on a handler or a controller class. Applies `JwtGuard`
 * itself; options on a handler override those on its class.
 */
export function JwtRequired(options: JwtRequiredOptions = {}): ClassDecorator & MethodDecorator {
  return applyDecorators(SetMetadata(JWT_REQUIRED_METADATA, validate(options)), UseGuards(JwtGuard));
}
