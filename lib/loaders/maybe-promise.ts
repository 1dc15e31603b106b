/** A loader method may answer directly or with a Promise; the library awaits either. */
export type MaybePromise<T> = T | Promise<T>;

/*
 * The guard's path stays synchronous while every step answers directly (a cached token, loaders
 * that return values): each `await` costs a turn of the microtask queue, and Nest awaits a guard
 * only when it returns a promise. These two helpers carry a value or a failure across a step
 * that may or may not be a promise.
 */

/** Whether `value` must be awaited: a Promise, or any thenable (as `await` would treat it). */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value instanceof Promise || typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}

/** `next(value)`: at once when `value` is there, once it settles when it is a promise. */
export function chain<T, R>(value: T | PromiseLike<T>, next: (value: T) => MaybePromise<R>): MaybePromise<R> {
  return isThenable(value) ? Promise.resolve(value).then(next) : next(value);
}

/** `work()`, its failure (thrown or rejected) handed to `onError`, which throws or rejects in its turn. */
export function attempt<T>(work: () => MaybePromise<T>, onError: (error: unknown) => never | Promise<never>): MaybePromise<T> {
  let result: MaybePromise<T>;
  try {
    result = work();
  } catch (error) {
    return onError(error);
  }
  return isThenable(result) ? Promise.resolve(result).catch(onError) : result;
}
