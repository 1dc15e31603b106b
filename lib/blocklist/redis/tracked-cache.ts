import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { keySlot, tagFor } from './cluster-slots.js';
import { type ChannelOwner, InvalidationChannel } from './invalidation-channel.js';

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

/** A mirrored value, and whether a check used it since eviction last passed it over. */
interface Slot {
  value: string | null;
  used: boolean;
}

/** How a Cluster node's tracking connections come back after a loss: soon, then every two seconds. */
const reconnectClusterNode = (attempt: number) => Math.min(attempt * 100, 2000);

const logger = new Logger('RedisBlocklist');

const isCluster = (client: Redis | Cluster): client is Cluster => client.isCluster;

/**
 * An in-process mirror of the Redis keys under one prefix, kept exact by Redis client tracking:
 * an `InvalidationChannel` on the node of a single-node client, or on every node a Cluster client
 * knows (its masters, and the replicas its slot map lists). Any change, expiry or eviction of a key
 * drops its mirror.
 *
 * The mirror answers only while every channel is up and tracking is confirmed: when one drops,
 * the mirror is emptied and every check goes to Redis until tracking is set up again, so an
 * invalidation lost with a connection never leaves a stale value behind. A read that was in
 * flight while any invalidation arrived is not stored (the `epoch` moved on): its answer may
 * predate the change the invalidation reports.
 *
 * A Cluster is followed as its client's view changes: a node new to the client turns the mirror
 * off until its channel is up too; a node gone takes its channel along. So a failover loses no
 * report: a killed master's channel drops, and the mirror stays off until the client routes to the
 * promoted replica and tracks it; a master demoted by a planned failover keeps reporting the writes
 * it now replicates. Keys moved by resharding to a node the client has not yet seen are the
 * exception: their changes are reported once the client's slot map has that node (ioredis
 * refreshes it on a MOVED reply, or every `slotsRefreshInterval` when set).
 *
 * A connection can also go silent without closing, and the listeners are idle by design, so
 * nothing would notice: every `probeInterval` a short-lived probe key is written (on a Cluster,
 * one on a slot of each master, through the Cluster client), and every channel of the node(s)
 * serving it must report it within `probeTimeout`, or the mirror is emptied and those channels'
 * connections are made anew.
 */
export class TrackedCache implements ChannelOwner {
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
  /** By node (`host:port` on a Cluster). */
  private readonly channels = new Map<string, InvalidationChannel>();
  /** A Cluster's channels cover its nodes only once its slot map is known. */
  private complete: boolean;
  /** Keys in invalidations carry the client's own ioredis `keyPrefix`; the mirror's keys do not. */
  private readonly clientPrefix: string;
  private closed = false;
  /** Probe keys: under the tracked prefix, never `{`-tagged right after it like the store's keys, unique to this cache. */
  private readonly probePrefix: string;
  private probes = 0;
  /** The probe keys whose reports are awaited, each with the channels yet to report it, and the timer that gives up on them. */
  private probe?: { awaited: Map<string, Set<InvalidationChannel>>; deadline: NodeJS.Timeout };
  private readonly probing: NodeJS.Timeout;
  /** A Cluster client's events this cache follows, removed on `close`. */
  private readonly following: [event: string, listener: () => void][] = [];

  constructor(
    private readonly client: Redis | Cluster,
    private readonly prefix: string,
    private readonly settings: TrackedCacheSettings,
  ) {
    this.clientPrefix = client.options?.keyPrefix ?? '';
    this.probePrefix = `${prefix}probe:${randomUUID()}:`;
    this.probing = setInterval(() => this.sendProbe(), settings.probeInterval).unref();
    if (isCluster(client)) {
      this.complete = client.status === 'ready';
      // 'refresh': a new slot map (a failover, a resharding); the node events: ioredis's pool changed.
      for (const event of ['refresh', '+node', '-node']) {
        const listener = () => this.followNodes(event === 'refresh');
        client.on(event, listener);
        this.following.push([event, listener]);
      }
      this.followNodes(this.complete);
    } else {
      this.complete = true;
      this.channels.set('', new InvalidationChannel(client, this.clientPrefix + prefix, this));
    }
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
    for (const [event, listener] of this.following) this.client.off(event, listener);
    for (const channel of this.channels.values()) channel.close();
    this.channels.clear();
    this.drop();
  }

  /** @internal `ChannelOwner`: a report of changed keys. */
  invalidated(channel: InvalidationChannel, keys: Buffer[] | null): void {
    // A null list means the whole database was flushed.
    if (!Array.isArray(keys)) {
      this.epoch++;
      return this.empty();
    }
    for (const buffer of keys) {
      const key = buffer.toString().slice(this.clientPrefix.length);
      // Probes (this cache's or another instance's) are not mirrored: they leave reads in flight alone.
      if (key.startsWith(`${this.prefix}probe:`)) {
        this.probeReported(channel, key);
        continue;
      }
      this.epoch++;
      this.remove(key);
    }
  }

  /** @internal `ChannelOwner`: once every channel tracks, the mirror answers (starting empty: changes before were not reported). */
  up(): void {
    if (this.live || this.closed || !this.complete || this.channels.size === 0) return;
    for (const channel of this.channels.values()) if (!channel.live) return;
    this.empty();
    this.epoch++;
    this.live = true;
  }

  /** @internal `ChannelOwner`: a channel that may miss changes turns the whole mirror off. */
  down(): void {
    this.drop();
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

  private drop(): void {
    this.live = false;
    this.epoch++;
    this.empty();
    this.endProbe();
  }

  /**
   * A channel on every node the Cluster client knows, masters and replicas: a new node holds no
   * key the mirror has seen reported, so the mirror stays off until its tracking is up too.
   */
  private followNodes(slotMapKnown: boolean): void {
    if (this.closed) return;
    const cluster = this.client as Cluster;
    const nodes = new Map(cluster.nodes('all').map((node) => [`${node.options.host}:${node.options.port}`, node]));
    for (const [name, channel] of this.channels) {
      if (nodes.has(name)) continue;
      channel.close();
      this.channels.delete(name);
    }
    let added = false;
    for (const [name, node] of nodes) {
      if (this.channels.has(name)) continue;
      added = true;
      this.channels.set(name, new InvalidationChannel(node, this.clientPrefix + this.prefix, this, reconnectClusterNode));
    }
    if (added) this.drop();
    if (slotMapKnown) this.complete = true;
    // A node gone may have been the one channel down.
    this.up();
  }

  /** While the mirror answers, one round of probes at a time; their own expiry removes the keys. */
  private sendProbe(): void {
    if (!this.live || this.probe) return;
    const ttl = Math.ceil(this.settings.probeTimeout);
    const awaited = new Map<string, Set<InvalidationChannel>>();
    this.probe = { awaited, deadline: setTimeout(() => this.silent(), this.settings.probeTimeout).unref() };
    const n = ++this.probes;
    if (!isCluster(this.client)) {
      const [channel] = this.channels.values();
      const key = `${this.probePrefix}${n}`;
      awaited.set(key, new Set([channel]));
      // A failed write is never reported, so the deadline handles it too.
      channel.tracker.set(key, '1', 'PX', ttl).catch(() => undefined);
      return;
    }
    // One key on a slot of each master, written through the Cluster client like the store's own
    // writes: its master and that master's replicas must report it.
    const { slots } = this.client;
    const firstSlots = new Map<string, number>();
    for (let slot = slots.length - 1; slot >= 0; slot--) if (slots[slot]?.[0] !== undefined) firstSlots.set(slots[slot][0], slot);
    for (const target of firstSlots.values()) {
      const key = `${this.probePrefix}{${tagFor(target)}}${n}`;
      // The client's own keyPrefix may carry a hash tag of its own: the key lands where Redis hashes it.
      const reporters = slots[keySlot(this.clientPrefix + key)] ?? [];
      const channels = new Set<InvalidationChannel>();
      for (const name of reporters) {
        const channel = this.channels.get(name);
        if (channel) channels.add(channel);
      }
      if (channels.size === 0 || awaited.has(key)) continue;
      awaited.set(key, channels);
      this.client.set(key, '1', 'PX', ttl).catch(() => undefined);
    }
    // No slot map yet: no round to wait for.
    if (awaited.size === 0) this.endProbe();
  }

  private probeReported(channel: InvalidationChannel, key: string): void {
    const awaited = this.probe?.awaited;
    const pending = awaited?.get(key);
    if (!pending?.delete(channel) || pending.size > 0) return;
    awaited!.delete(key);
    if (awaited!.size === 0) this.endProbe();
  }

  private endProbe(): void {
    clearTimeout(this.probe?.deadline);
    this.probe = undefined;
  }

  /** A probe went unreported: invalidations may be lost too. New connections set tracking up again. */
  private silent(): void {
    const unreported = new Set([...(this.probe?.awaited.values() ?? [])].flatMap((channels) => [...channels]));
    logger.warn(`local cache off: no invalidation within ${this.settings.probeTimeout} ms, reconnecting`);
    this.drop();
    for (const channel of unreported) channel.restart();
  }
}
