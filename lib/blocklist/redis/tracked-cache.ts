import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';

/** `RedisBlocklist`'s opt-in local cache. */
export interface RedisLocalCacheOptions {
  /**
   * Most Redis keys mirrored in memory (one per token checked, plus one per identity); entries not
   * used since they were last passed over go first (CLOCK, close to least recently used). An integer
   * from 1 to 10 000 000.
   */
  maxEntries: number;
}

const INVALIDATIONS = '__redis__:invalidate';
const logger = new Logger('RedisBlocklist');

/**
 * An in-process mirror of the Redis keys under one prefix, kept exact by Redis client
 * tracking in broadcast mode: a `tracker` connection asks Redis to report every change to a
 * key under the prefix (`CLIENT TRACKING on REDIRECT <listener> BCAST PREFIX <prefix>`), and
 * the `listener` connection receives those reports on `__redis__:invalidate` (ioredis speaks
 * RESP2, so they are pub/sub messages on a second connection). Any change, expiry or eviction
 * of a key drops its mirror.
 *
 * The mirror answers only while both connections are up and tracking is confirmed: when
 * either drops, it is emptied and every check goes to Redis until tracking is set up again,
 * so an invalidation lost with a connection never leaves a stale value behind. A read that
 * was in flight while any invalidation arrived is not stored (the `epoch` moved on): its
 * answer may predate the change the invalidation reports.
 */
/** A mirrored value, and whether a check used it since eviction last passed it over. */
interface Slot {
  value: string | null;
  used: boolean;
}

export class TrackedCache {
  private readonly entries = new Map<string, Slot>();
  /** Moves on with every invalidation and every loss or gain of tracking. */
  private epoch = 0;
  private live = false;
  /** Moves on with every lost connection: a setup that began before one must not turn the mirror on. */
  private links = 0;
  /** The listener's client id while it is subscribed. */
  private listenerId?: number;
  private readonly tracker: Redis;
  private readonly listener: Redis;
  /** Keys in invalidations carry the client's own ioredis `keyPrefix`; the mirror's keys do not. */
  private readonly clientPrefix: string;
  private closed = false;
  /** Setups run one after another on the tracker connection, never interleaved. */
  private setup: Promise<void> = Promise.resolve();

  constructor(
    client: Redis,
    private readonly prefix: string,
    private readonly maxEntries: number,
  ) {
    this.clientPrefix = client.options?.keyPrefix ?? '';
    // Own connections: a reconnect of the app's client must not silently end tracking.
    this.listener = client.duplicate({
      autoResubscribe: false,
      enableOfflineQueue: true,
      lazyConnect: false,
      connectionName: 'jwt-blocklist-invalidations',
    });
    this.tracker = client.duplicate({ enableOfflineQueue: true, lazyConnect: false, connectionName: 'jwt-blocklist-tracking' });
    for (const connection of [this.listener, this.tracker]) {
      connection.on('close', () => this.drop());
      connection.on('error', (error: Error) => logger.warn(`local cache connection: ${error.message}`));
    }
    this.listener.on('ready', () => void this.subscribe());
    this.tracker.on('ready', () => void this.track());
    this.listener.on('messageBuffer', (_channel: Buffer, keys: Buffer[] | null) => this.invalidate(keys));
  }

  /** The mirrored values of both keys, or `undefined` unless both are mirrored. */
  get(first: string, second: string): [string | null, string | null] | undefined {
    if (!this.live) return undefined;
    const a = this.entries.get(first);
    const b = this.entries.get(second);
    if (a === undefined || b === undefined) return undefined;
    // A flag, not a move to the end of the map: a hit costs two reads and two writes of a boolean.
    a.used = true;
    b.used = true;
    return [a.value, b.value];
  }

  /** The epoch to pass to `store` for a read about to start. */
  get readEpoch(): number {
    return this.epoch;
  }

  /** Mirrors the answer of a read that started in `epoch`, unless anything changed since. */
  store(epoch: number, keys: [string, string], values: (string | null)[]): void {
    if (!this.live || epoch !== this.epoch) return;
    this.entries.set(keys[0], { value: values[0] ?? null, used: false });
    this.entries.set(keys[1], { value: values[1] ?? null, used: false });
    this.evict();
  }

  /**
   * This process wrote `key`: its own invalidation is still on the way, and the write's caller
   * must not be answered from the old copy meanwhile (nor by a read in flight).
   */
  forget(key: string): void {
    this.epoch++;
    this.entries.delete(key);
  }

  close(): void {
    this.closed = true;
    this.drop();
    this.listener.disconnect();
    this.tracker.disconnect();
  }

  /** From the oldest: an entry used since it was last passed over gets a second chance at the end, the first unused one goes. */
  private evict(): void {
    while (this.entries.size > this.maxEntries) {
      const [key, slot] = this.entries.entries().next().value!;
      this.entries.delete(key);
      if (slot.used) {
        slot.used = false;
        this.entries.set(key, slot);
      }
    }
  }

  private invalidate(keys: Buffer[] | null): void {
    this.epoch++;
    // A null list means the whole database was flushed.
    if (!Array.isArray(keys)) return this.entries.clear();
    for (const key of keys) this.entries.delete(key.toString().slice(this.clientPrefix.length));
  }

  private drop(): void {
    this.live = false;
    this.links++;
    this.epoch++;
    this.entries.clear();
  }

  /** A (re)connected listener: its id changed, so tracking must redirect to it anew. */
  private async subscribe(): Promise<void> {
    this.listenerId = undefined;
    try {
      const id = Number(await this.listener.client('ID'));
      await this.listener.subscribe(INVALIDATIONS);
      this.listenerId = id;
      await this.track();
    } catch (error) {
      logger.warn(`local cache off, no invalidation channel: ${(error as Error).message}`);
    }
  }

  private track(): Promise<void> {
    this.setup = this.setup.then(() => this.startTracking());
    return this.setup;
  }

  private async startTracking(): Promise<void> {
    const id = this.listenerId;
    if (id === undefined || this.tracker.status !== 'ready' || this.closed) return;
    // Tracking is briefly off below: nothing may be answered from memory meanwhile.
    this.drop();
    const links = this.links;
    try {
      // Off first: tracking may still redirect to a listener connection that is gone.
      await this.tracker.call('CLIENT', 'TRACKING', 'off');
      await this.tracker.call('CLIENT', 'TRACKING', 'on', 'REDIRECT', String(id), 'BCAST', 'PREFIX', this.clientPrefix + this.prefix);
    } catch (error) {
      logger.warn(`local cache off, CLIENT TRACKING refused: ${(error as Error).message}`);
      return;
    }
    if (links !== this.links || id !== this.listenerId || this.closed) return;
    // Reads answered before tracking was confirmed are not stored: a change then was not reported.
    this.entries.clear();
    this.epoch++;
    this.live = true;
  }
}
