import type { JwtExtendedException } from './exceptions.js';

// Private: only the library marks an exception as standing for one of its own.
const LIBRARY_EXCEPTION = Symbol('nestjs-jwt-extended.library-exception');

/**
 * Marks a context's exception (`RpcException`, `WsException`) as the form a library exception
 * took when it left the guard, so that error loaders (JwtErrorFilter) still shape it.
 */
export function markLibraryException<T extends object>(contextError: T, exception: JwtExtendedException): T {
  Object.defineProperty(contextError, LIBRARY_EXCEPTION, { value: exception });
  return contextError;
}

/** The library exception a context's exception stands for, if it stands for one. */
export function libraryExceptionOf(error: unknown): JwtExtendedException | undefined {
  return typeof error === 'object' && error !== null
    ? (error as { [LIBRARY_EXCEPTION]?: JwtExtendedException })[LIBRARY_EXCEPTION]
    : undefined;
}

/**
 * For `@Catch()`: `instanceof` holds for a context's exception that stands for a library
 * exception, whatever its class (Nest matches filters with `instanceof`; the context packages
 * are optional peers, so their classes cannot be named here).
 */
export abstract class ContextLibraryException {
  static [Symbol.hasInstance](value: unknown): boolean {
    return libraryExceptionOf(value) !== undefined;
  }
}
