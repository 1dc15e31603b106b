import { SetMetadata, UseGuards, applyDecorators } from '@nestjs/common';
import { JwtGuard } from '../guard/jwt.guard.js';
import { JWT_PUBLIC_METADATA } from './metadata-keys.js';

/**
 * Opens a handler or a controller class: no token is read, so an expired, malformed or
 * CSRF-less token never fails it. Nearest declaration wins: a handler's `@JwtRequired()`
 * inside a `@JwtPublic()` class is protected, and the reverse. Param decorators see the
 * "no token" state (`{}`, `{}`, `null`, `null`). Applies `JwtGuard` itself so they work
 * without the global guard too.
 */
export function JwtPublic(): ClassDecorator & MethodDecorator {
  return applyDecorators(SetMetadata(JWT_PUBLIC_METADATA, true), UseGuards(JwtGuard));
}
