import { JwtUnavailableException } from '../errors/exceptions.js';
import { withDeadline } from './deadline.js';

/** A request-time loader did not answer within `loaderTimeout`: the request fails closed. */
export class LoaderTimeoutException extends JwtUnavailableException {
  /** Which loader, and how long it had: for logs, never sent to the client. */
  readonly detail: string;
  constructor(role: string, timeoutMs: number, messageKey: string) {
    super('Service Unavailable', { messageKey });
    this.detail = `The ${role} loader did not answer within ${timeoutMs} ms`;
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
