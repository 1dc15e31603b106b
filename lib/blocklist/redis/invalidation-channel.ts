import { Logger } from '@nestjs/common';
import type { Redis, RedisOptions } from 'ioredis';

/** Lets the kernel notice a dead peer of the idle listener sooner than its two-hour default. */
const KEEP_ALIVE_MS = 10_000;

const INVALIDATIONS = '__redis__:invalidate';
const logger = new Logger('RedisBlocklist');

/** What a channel tells the mirror it feeds. */
export interface ChannelOwner {
  /** Redis reported these keys changed (`null`: the whole database was flushed). */
  invalidated(channel: InvalidationChannel, keys: Buffer[] | null): void;
  /** Tracking is confirmed on this node: its changes are reported from now on. */
  up(channel: InvalidationChannel): void;
  /** A connection dropped, or tracking is being set up again: changes may go unreported. */
  down(channel: InvalidationChannel): void;
}

/**
 * Client tracking on one Redis node, in broadcast mode: a `tracker` connection asks the node to
 * report every change to a key under the prefix (`CLIENT TRACKING on REDIRECT <listener> BCAST
 * PREFIX <prefix>`), and the `listener` connection receives those reports on
 * `__redis__:invalidate` (ioredis speaks RESP2, so they are pub/sub messages on a second
 * connection). A replica reports the writes it replicates, as does a master demoted by a planned
 * failover.
 *
 * `live` only between a confirmed setup and the next loss of either connection; the owner hears
 * of both.
 */
export class InvalidationChannel {
  live = false;
  readonly tracker: Redis;
  private readonly listener: Redis;
  /** The listener's client id while it is subscribed. */
  private listenerId?: number;
  /** Moves on with every lost connection: a setup that began before one must not report `up`. */
  private links = 0;
  private closed = false;
  /** Setups run one after another on the tracker connection, never interleaved. */
  private setup: Promise<void> = Promise.resolve();

  /**
   * @param node the connection to duplicate (the app's client, or a node of its Cluster)
   * @param prefix the tracked prefix as Redis sees it (the client's own `keyPrefix` included)
   * @param cluster for a node of a Cluster: its address, and how the two connections come back
   *   after a loss (a Cluster's own node connections never reconnect: the Cluster re-routes)
   */
  constructor(
    node: Redis,
    private readonly prefix: string,
    private readonly owner: ChannelOwner,
    cluster?: { host: string; port: number; retryStrategy: NonNullable<RedisOptions['retryStrategy']> },
  ) {
    const keepAlive = node.options?.keepAlive || KEEP_ALIVE_MS;
    const own: RedisOptions = {
      enableOfflineQueue: true,
      lazyConnect: false,
      keepAlive,
      ...(cluster ? { ...cluster, readOnly: false } : {}),
    };
    // Own connections: a reconnect of the app's client must not silently end tracking.
    this.listener = node.duplicate({ ...own, autoResubscribe: false, connectionName: 'jwt-blocklist-invalidations' });
    this.tracker = node.duplicate({ ...own, connectionName: 'jwt-blocklist-tracking' });
    for (const connection of [this.listener, this.tracker]) {
      connection.on('close', () => this.lost());
      connection.on('error', (error: Error) => logger.warn(`local cache connection: ${error.message}`));
    }
    this.listener.on('ready', () => void this.subscribe());
    this.tracker.on('ready', () => void this.track());
    this.listener.on('messageBuffer', (_channel: Buffer, keys: Buffer[] | null) => this.owner.invalidated(this, keys));
  }

  /** Resolves once both connections answered a PING (allowed on the subscribed listener too). */
  async ping(): Promise<void> {
    await Promise.all([this.listener.ping(), this.tracker.ping()]);
  }

  /** Both connections made anew (a probe went unreported: the node may have gone silent without closing them). */
  restart(): void {
    this.lost();
    this.listener.disconnect(true);
    this.tracker.disconnect(true);
  }

  /** For good: the owner is not told (its node left, or the owner is closing), nor of the connections' own 'close'. */
  close(): void {
    this.closed = true;
    this.links++;
    this.live = false;
    this.listener.disconnect();
    this.tracker.disconnect();
  }

  private lost(): void {
    if (this.closed) return;
    this.links++;
    this.live = false;
    this.owner.down(this);
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
    this.live = false;
    this.owner.down(this);
    const links = this.links;
    try {
      // Off first: tracking may still redirect to a listener connection that is gone.
      await this.tracker.call('CLIENT', 'TRACKING', 'off');
      await this.tracker.call('CLIENT', 'TRACKING', 'on', 'REDIRECT', String(id), 'BCAST', 'PREFIX', this.prefix);
    } catch (error) {
      logger.warn(`local cache off, CLIENT TRACKING refused: ${(error as Error).message}`);
      return;
    }
    if (links !== this.links || id !== this.listenerId || this.closed) return;
    this.live = true;
    this.owner.up(this);
  }
}
