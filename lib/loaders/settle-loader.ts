import { HttpException, HttpStatus } from '@nestjs/common';
import { withDeadline } from './deadline.js';

/** A request-time loader did not answer within `loaderTimeout`: the request fails closed. */
export class LoaderTimeoutException extends HttpException {
  constructor(role: string, timeoutMs: number, messageKey: string) {
    super({ [messageKey]: 'Service Unavailable' }, HttpStatus.SERVICE_UNAVAILABLE, {
      description: `The ${role} loader did not answer within ${timeoutMs} ms`,
    });
  }
}

/**
 * Awaits a loader's result with a deadline. Synchronous results pass straight
 * through (no timer on the fast path); a rejection propagates, so the request fails.
 */
export function settleLoader<T>(result: T | Promise<T>, role: string, timeoutMs: number, messageKey: string): T | Promise<T> {
  if (timeoutMs === 0 || !(result instanceof Promise || typeof (result as { then?: unknown })?.then === 'function')) {
    return result;
  }
  return withDeadline(result as PromiseLike<T>, timeoutMs, () => new LoaderTimeoutException(role, timeoutMs, messageKey));
}
