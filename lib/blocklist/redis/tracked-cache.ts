import { randomUUID } from 'node:crypto';
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
  /**
   * Milliseconds between probes of the invalidation channel: the store writes a short-lived key
   * under its prefix and waits for Redis to report it on the listener connection. Default 1000.
   */
  probeInterval?: number;
  /**
   * Milliseconds a probe's report may take. When it does not arrive (a connection gone silent
   * without closing: a NAT or load-balancer idle timeout, a partition), the mirror is emptied and
   * both connections are re-established. Default 1000. A revocation made elsewhere reaches this
   * process's checks within `probeInterval + probeTimeout` even when its invalidation is lost.
   */
  probeTimeout?: number;
}

/** `RedisLocalCacheOptions` with its defaults applied. */
export interface TrackedCacheSettings {
  maxEntries: number;
  probeInterval: number;
  probeTimeout: number;
}

/** Lets the kernel notice a dead peer of the idle listener sooner than its two-hour default. */
const KEEP_ALIVE_MS = 10_000;

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
 *
 * A connection can also go silent without closing, and the listener is idle by design, so
 * nothing would notice: a probe key written every `probeInterval` must be reported back within
 * `probeTimeout`, or the mirror is emptied and both connections are made anew.
 */
/** A mirrored value, and whether a check used it since eviction last passed it over. */
interface Slot {
  value: string | null;
  used: boolean;
}

export class TrackedCache {
  private readonly entries = new Map<string, Slot>();
  /**
   * Where the last eviction stopped: everything before it was evicted or moved to the end, so it
   * yields the oldest entry. A fresh iterator per eviction would skip every earlier eviction's hole
   * at the front of V8's table (thousands per miss in a full cache). Any other deletion drops it: V8
   * keeps every table a live iterator still points into, so an iterator must not sit idle across clears.
   */
  private hand?: Iterator<[string, Slot]>;
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
  /** Probe keys: under the tracked prefix, never `{`-tagged like the store's keys, unique to this cache. */
  private readonly probePrefix: string;
  private probes = 0;
  /** The probe key whose report is awaited, and the timer that gives up on it. */
  private probe?: { key: string; deadline: NodeJS.Timeout };
  private readonly probing: NodeJS.Timeout;

  constructor(
    client: Redis,
    private readonly prefix: string,
    private readonly settings: TrackedCacheSettings,
  ) {
    this.clientPrefix = client.options?.keyPrefix ?? '';
    this.probePrefix = `${prefix}probe:${randomUUID()}:`;
    const keepAlive = client.options?.keepAlive || KEEP_ALIVE_MS;
    // Own connections: a reconnect of the app's client must not silently end tracking.
    this.listener = client.duplicate({
      autoResubscribe: false,
      enableOfflineQueue: true,
      lazyConnect: false,
      keepAlive,
      connectionName: 'jwt-blocklist-invalidations',
    });
    this.tracker = client.duplicate({ enableOfflineQueue: true, lazyConnect: false, keepAlive, connectionName: 'jwt-blocklist-tracking' });
    this.probing = setInterval(() => this.sendProbe(), settings.probeInterval).unref();
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

  /** `maxEntries`: the most keys mirrored. */
  get capacity(): number {
    return this.settings.maxEntries;
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
    this.remove(key);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.probing);
    this.drop();
    this.listener.disconnect();
    this.tracker.disconnect();
  }

  /** From the oldest: an entry used since it was last passed over gets a second chance at the end, the first unused one goes. */
  private evict(): void {
    while (this.entries.size > this.settings.maxEntries) {
      // Over the bound the map is not empty, and everything behind the hand is gone or moved ahead of it.
      const [key, slot] = (this.hand ??= this.entries.entries()).next().value!;
      this.entries.delete(key);
      if (slot.used) {
        slot.used = false;
        this.entries.set(key, slot);
      }
    }
  }

  /** A deletion that is not an eviction: the hand goes (see `hand`). */
  private remove(key: string): void {
    this.entries.delete(key);
    this.hand = undefined;
  }

  private empty(): void {
    this.entries.clear();
    this.hand = undefined;
  }

  private invalidate(keys: Buffer[] | null): void {
    // A null list means the whole database was flushed.
    if (!Array.isArray(keys)) {
      this.epoch++;
      return this.empty();
    }
    for (const buffer of keys) {
      const key = buffer.toString().slice(this.clientPrefix.length);
      // Probes (this cache's or another instance's) are not mirrored: they leave reads in flight alone.
      if (key.startsWith(`${this.prefix}probe:`)) {
        if (key === this.probe?.key) this.endProbe();
        continue;
      }
      this.epoch++;
      this.remove(key);
    }
  }

  /** While the mirror answers, one probe at a time; its own expiry removes the key. */
  private sendProbe(): void {
    if (!this.live || this.probe) return;
    const key = `${this.probePrefix}${++this.probes}`;
    this.probe = { key, deadline: setTimeout(() => this.silent(), this.settings.probeTimeout).unref() };
    // A failed write is never reported, so the deadline handles it too.
    this.tracker.set(key, '1', 'PX', Math.ceil(this.settings.probeTimeout)).catch(() => undefined);
  }

  private endProbe(): void {
    clearTimeout(this.probe?.deadline);
    this.probe = undefined;
  }

  /** The probe went unreported: invalidations may be lost too. New connections set tracking up again. */
  private silent(): void {
    logger.warn(`local cache off: no invalidation within ${this.settings.probeTimeout} ms, reconnecting`);
    this.drop();
    this.listener.disconnect(true);
    this.tracker.disconnect(true);
  }

  private drop(): void {
    this.live = false;
    this.links++;
    this.epoch++;
    this.empty();
    this.endProbe();
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
    this.empty();
    this.epoch++;
    this.live = true;
  }
}
