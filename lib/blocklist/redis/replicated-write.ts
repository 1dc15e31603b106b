import type { Redis } from 'ioredis';
import { numberOption } from '../store-settings.js';

/** A Redis command as ioredis `call` and `pipeline` take it: its name, then its arguments. */
export type RedisCommand = [string, ...(string | number)[]];

/**
 * The `waitForReplicas` option of the Redis stores, checked at construction: an integer from 0 to
 * 16 (0: writes do not wait); above 0 the client must offer `pipeline()`.
 */
export function replicasOption(store: string, value: unknown, redis: object): number {
  const replicas =
    numberOption(store, 'waitForReplicas', value, (n) => Number.isInteger(n) && n >= 0 && n <= 16, 'an integer from 0 to 16') ?? 0;
  if (replicas > 0 && typeof (redis as Partial<Redis>).pipeline !== 'function') {
    throw new TypeError(`${store}: waitForReplicas needs an ioredis client with pipeline()`);
  }
  return replicas;
}

/** What `writeAndWait` needs of a client: `pipeline`, and on an ioredis `Cluster` `refreshSlotsCache`. */
type PipelineClient = Pick<Redis, 'pipeline'> & { refreshSlotsCache?(callback: () => void): void };

/**
 * Sends a write followed by `WAIT replicas` (for at most half of the store's `timeout`, so the
 * answer comes before the store's deadline) and resolves to the write's reply only once
 * that many replicas acknowledged it; rejects otherwise (the write may still be on the master).
 * One pipeline, and ioredis sends a pipeline on one connection: in a Cluster, WAIT reaches the
 * master that took the write (the write's keys must share one slot).
 */
export async function writeAndWait(redis: PipelineClient, command: RedisCommand, replicas: number, timeout: number): Promise<unknown> {
  const deadline = Date.now() + timeout;
  const send = (budget: number) => redis.pipeline([command, ['wait', replicas, Math.max(1, Math.floor(budget / 2))]]).exec();
  let results = await send(timeout);
  // After a failover the node the client still routes the slot to answers MOVED (it did not write),
  // and ioredis redirects a pipeline only when every command failed alike — WAIT did not: learn the
  // new slot map and send once more, or every write fails until ioredis's next periodic refresh.
  // Only while half the time is left: the caller's 503 must never be followed by the write itself.
  if (isMoved(results?.[0]?.[0]) && redis.refreshSlotsCache) {
    await new Promise<void>((resolve) => redis.refreshSlotsCache!(() => resolve()));
    const left = deadline - Date.now();
    if (left < timeout / 2) throw new Error('MOVED, and the new slot map came too late to send the write again');
    results = await send(left);
  }
  if (!results) throw new Error('pipeline discarded');
  const [[writeError, reply], [waitError, acknowledged]] = results;
  if (writeError) throw writeError;
  if (waitError) throw waitError;
  if (Number(acknowledged) < replicas) throw new Error(`not replicated: ${String(acknowledged)} of ${replicas} replicas acknowledged`);
  return reply;
}

const isMoved = (error: Error | null | undefined): boolean => error?.message.startsWith('MOVED ') === true;
