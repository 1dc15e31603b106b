import { Logger } from '@nestjs/common';
import { LoaderTimeoutException } from '../errors/exceptions.js';
import { withDeadline } from './deadline.js';
import { isThenable } from './maybe-promise.js';

const logger = new Logger('JwtExtendedModule');

/**
 * Awaits a loader's result with a deadline. Synchronous results pass straight
 * through (no timer on the fast path); a rejection propagates, so the request fails.
 * A time-out is logged here, the one place that knows which loader hung.
 */
export function settleLoader<T>(result: T | Promise<T>, role: string, timeoutMs: number): T | Promise<T> {
  if (timeoutMs === 0 || !isThenable(result)) {
    return result;
  }
  return withDeadline(result as PromiseLike<T>, timeoutMs, () => {
    const timeout = new LoaderTimeoutException(role, timeoutMs);
    logger.error(timeout.detail);
    return timeout;
  });
}
