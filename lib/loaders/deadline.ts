/** The longest delay a Node.js timer keeps: anything longer (or Infinity) fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Races `work` against a timer: rejects with `onTimeout()` if it has not settled
 * within `ms`. The timer is cleared either way and never keeps the process alive.
 */
export function withDeadline<T>(work: PromiseLike<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
    timer.unref();
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
