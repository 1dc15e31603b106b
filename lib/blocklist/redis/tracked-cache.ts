import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { withDeadline } from '../../loaders/deadline.js';
import { type ClusterNode, type ClusterNodes, keySlot, parseClusterNodes, tagFor } from './cluster-topology.js';
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

/** While a Cluster's cache is off, its nodes are listed at least this often (ms): a replica promoted, a node back, ends it. */
const RELIST_WHILE_OFF_MS = 1000;

/** How a Cluster node's tracking connections come back after a loss: soon, then every two seconds. */
const reconnectClusterNode = (attempt: number) => Math.min(attempt * 100, 2000);

const logger = new Logger('RedisBlocklist');

const isCluster = (client: Redis | Cluster): client is Cluster => client.isCluster;

/** `host:port` as the Cluster client would connect for an announced `host:port` (its `natMap` applied). */
function natMapped(cluster: Cluster, endpoint: string): string {
  const { natMap } = cluster.options;
  const mapped = typeof natMap === 'function' ? natMap(endpoint) : natMap?.[endpoint];
  return mapped ? `${mapped.host}:${mapped.port}` : endpoint;
}

/** The `host:port` of every node the Cluster client routes to: its connections and its slot map. */
function routedEndpoints(cluster: Cluster): Set<string> {
  const endpoints = new Set(cluster.nodes('all').map((node) => `${node.options.host}:${node.options.port}`));
  for (const nodes of cluster.slots) for (const endpoint of nodes ?? []) endpoints.add(endpoint);
  return endpoints;
}

/** A tracked node of a Cluster: where its channel connects. */
interface TrackedNode {
  channel: InvalidationChannel;
  endpoint: string;
}

/**
 * An in-process mirror of the Redis keys under one prefix, kept exact by Redis client tracking:
 * an `InvalidationChannel` on the node of a single-node client, or on every node of a Cluster
 * (masters and replicas). Any change, expiry or eviction of a key
 * drops its mirror.
 *
 * The mirror answers only while every channel is up and tracking is confirmed: when one drops,
 * the mirror is emptied and every check goes to Redis until tracking is set up again, so an
 * invalidation lost with a connection never leaves a stale value behind. A read that was in
 * flight while any invalidation arrived is not stored (the `epoch` moved on): its answer may
 * predate the change the invalidation reports.
 *
 * A Cluster's nodes are listed again (`CLUSTER NODES`) every `probeInterval`, whenever its client
 * sees a change, and at least every second while the mirror is off. Every node the list names or
 * the client routes to is tracked: a node new to either (a promoted replica, a node a resharding
 * fills) turns the mirror off until it is tracked too; a node goes once neither has it. The
 * mirror answers only on a list younger than `probeInterval + probeTimeout`. So a failover loses
 * no report: a killed master's channel drops, and the mirror stays off until its promoted replica
 * serves and is tracked; a master demoted by a planned failover keeps reporting the writes it now
 * replicates.
 *
 * A connection can also go silent without closing, and the listeners are idle by design, so
 * nothing would notice: every `probeInterval` a short-lived probe key is written (on a Cluster,
 * one on a slot of each master, through the Cluster client), and every channel of the node(s)
 * serving it must report it within `probeTimeout` (a node no key reaches must answer a PING on
 * both connections), or the mirror is emptied and those channels' connections are made anew.
 * Either way a change is reported, or the mirror is off, within `probeInterval + probeTimeout`.
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
  /**
   * One per node: the client's, or on a Cluster by node id (as `CLUSTER NODES` lists it) and by
   * `@host:port` for a node the client routes to that the list did not name.
   */
  private readonly channels = new Map<string, TrackedNode>();
  /** A Cluster's nodes as `CLUSTER NODES` last listed them, and when: the mirror answers only on a recent list. */
  private nodes?: ClusterNode[];
  private listedAt = 0;
  /** A `CLUSTER NODES` read is under way, and whether another was asked for meanwhile. */
  private reading = false;
  private readAgain = false;
  /** The last `CLUSTER NODES` call while unsettled: one that outlived its deadline is waited for, not repeated. */
  private nodesCall?: Promise<unknown>;
  private listFailing = false;
  /** The next list while the cache is off (`probeInterval` may be long). */
  private relist?: NodeJS.Timeout;
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
    this.probing = setInterval(() => void this.tick(), settings.probeInterval).unref();
    if (isCluster(client)) {
      // Besides every probeInterval, the nodes are read again as soon as the client sees a change.
      for (const event of ['refresh', '+node', '-node']) {
        const listener = () => void this.followNodes();
        client.on(event, listener);
        this.following.push([event, listener]);
      }
      void this.followNodes();
    } else {
      this.channels.set('', { channel: new InvalidationChannel(client, this.clientPrefix + prefix, this), endpoint: '' });
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
    clearTimeout(this.relist);
    for (const [event, listener] of this.following) this.client.off(event, listener);
    for (const { channel } of this.channels.values()) channel.close();
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
    if (this.live || this.closed || this.channels.size === 0 || (isCluster(this.client) && !this.listedLately())) return;
    for (const { channel } of this.channels.values()) if (!channel.live) return;
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
    if (isCluster(this.client)) this.relistSoon();
  }

  /** Until the cache answers again, the nodes are listed again soon: a channel down may be a node the cluster has replaced. */
  private relistSoon(): void {
    if (this.relist || this.closed) return;
    const delay = Math.min(this.settings.probeInterval, RELIST_WHILE_OFF_MS);
    this.relist = setTimeout(() => {
      this.relist = undefined;
      if (this.live) return;
      void this.followNodes().finally(() => {
        if (!this.live) this.relistSoon();
      });
    }, delay).unref();
  }

  private async tick(): Promise<void> {
    if (isCluster(this.client)) {
      await this.followNodes();
      // A list too old to trust (CLUSTER NODES failing): a node added meanwhile would go untracked.
      if (this.live && !this.listedLately()) this.drop();
    }
    this.sendProbe();
  }

  private listedLately(): boolean {
    return this.nodes !== undefined && Date.now() - this.listedAt <= this.settings.probeInterval + this.settings.probeTimeout;
  }

  /** `CLUSTER NODES`, read one at a time: a change seen meanwhile asks for one more read. */
  private async followNodes(): Promise<void> {
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    try {
      do {
        this.readAgain = false;
        const call = (this.nodesCall ??= (this.client as Cluster).call('CLUSTER', 'NODES').finally(() => (this.nodesCall = undefined)));
        let reply: unknown;
        try {
          reply = await withDeadline(call, this.settings.probeTimeout, () => new Error(`no reply within ${this.settings.probeTimeout} ms`));
        } catch (error) {
          if (!this.listFailing) logger.warn(`local cache: CLUSTER NODES failed (${(error as Error).message}); off while the list is old`);
          this.listFailing = true;
          return;
        }
        this.listFailing = false;
        if (this.closed) return;
        this.adopt(parseClusterNodes(String(reply)));
      } while (this.readAgain);
    } finally {
      this.reading = false;
    }
  }

  /**
   * A channel on every node the list names, masters (with slots or not yet) and replicas, and on
   * every node the client routes to: a node not tracked could take writes unreported (a resharding
   * onto a new node, a promoted replica). A node new here turns the mirror off until its tracking
   * is up too. A node goes once neither the list nor the client's routing has it (one master's list
   * may lag behind the others', by gossip), or once the list says it failed and serves nothing.
   */
  private adopt({ nodes, failed }: ClusterNodes): void {
    const cluster = this.client as Cluster;
    // A node of the client's own, for its connection options (password, TLS, …).
    const [template] = cluster.nodes('all');
    if (!template) return;
    // A node the list says failed and serves nothing takes no write: the client may not know yet.
    const failedRouted = [...failed].map((endpoint) => natMapped(cluster, endpoint));
    const routed = new Set([...routedEndpoints(cluster)].filter((endpoint) => !failedRouted.includes(endpoint)));
    const wanted = new Map<string, string>();
    for (const node of nodes) {
      // Where the client connects to it, if it does (an IP or the announced hostname, through natMap).
      const candidates = node.endpoints.map((endpoint) => natMapped(cluster, endpoint));
      wanted.set(node.id, candidates.find((endpoint) => routed.has(endpoint)) ?? candidates[0]);
    }
    for (const endpoint of routed) if (![...wanted.values()].includes(endpoint)) wanted.set(`@${endpoint}`, endpoint);
    for (const [name, { channel, endpoint }] of this.channels) {
      if (wanted.has(name) || routed.has(endpoint)) continue;
      channel.close();
      this.channels.delete(name);
      this.unawait(channel);
    }
    let added = false;
    for (const [name, endpoint] of wanted) {
      if (this.channels.has(name)) continue;
      added = true;
      const colon = endpoint.lastIndexOf(':');
      const options = { host: endpoint.slice(0, colon), port: Number(endpoint.slice(colon + 1)), retryStrategy: reconnectClusterNode };
      this.channels.set(name, { channel: new InvalidationChannel(template, this.clientPrefix + this.prefix, this, options), endpoint });
    }
    this.nodes = nodes;
    this.listedAt = Date.now();
    if (added) this.drop();
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
      const [{ channel }] = this.channels.values();
      const key = `${this.probePrefix}${n}`;
      awaited.set(key, new Set([channel]));
      // A failed write is never reported, so the deadline handles it too.
      channel.tracker.set(key, '1', 'PX', ttl).catch(() => undefined);
      return;
    }
    // One key on a slot of each master, written through the Cluster client like the store's own
    // writes: that master and its replicas must report it.
    const nodes = this.nodes ?? [];
    const masters = nodes.filter((node) => node.masterId === undefined && node.slots.length > 0);
    const covered = new Set<InvalidationChannel>();
    for (const master of masters) {
      const key = `${this.probePrefix}{${tagFor(master.slots[0][0])}}${n}`;
      // The client's own keyPrefix may carry a hash tag of its own: the key lands where Redis hashes it.
      const slot = keySlot(this.clientPrefix + key);
      const owner = masters.find((node) => node.slots.some(([from, to]) => from <= slot && slot <= to));
      if (!owner || awaited.has(key)) continue;
      const reporters = nodes.filter((node) => node === owner || node.masterId === owner.id);
      const channels = new Set(reporters.map((node) => this.channels.get(node.id)?.channel).filter((channel) => channel !== undefined));
      if (channels.size === 0) continue;
      for (const channel of channels) covered.add(channel);
      awaited.set(key, channels);
      this.client.set(key, '1', 'PX', ttl).catch(() => undefined);
    }
    // A node no probe key reaches (a master without slots yet, a node the list did not name): both
    // of its connections must at least answer a PING in time.
    for (const [name, { channel }] of this.channels) {
      if (covered.has(channel)) continue;
      const ping = `ping:${n}:${name}`;
      awaited.set(ping, new Set([channel]));
      channel.ping().then(
        () => this.probeReported(channel, ping),
        () => undefined,
      );
    }
    if (awaited.size === 0) this.endProbe();
  }

  /** A channel closed for good is no longer waited for. */
  private unawait(channel: InvalidationChannel): void {
    for (const [key, channels] of this.probe?.awaited ?? []) {
      if (channels.delete(channel) && channels.size === 0) this.probe!.awaited.delete(key);
    }
    if (this.probe?.awaited.size === 0) this.endProbe();
  }

  private probeReported(channel: InvalidationChannel, key: string): void {
    // Another round's report (a round ended early by a drop) changes nothing: its keys differ.
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
