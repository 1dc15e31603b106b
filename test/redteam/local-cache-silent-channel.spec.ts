import { type Server, type Socket, connect, createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { RedisBlocklist } from '../../lib/blocklist/redis/index.js';
import { type RedisServer, untilAnsweredFromMemory, useRedis } from '../support/redis-server.js';
import { freshPrefix, nowSeconds, payload } from '../blocklist/stores.js';

/*
 * Fourth pass: the local cache trusts its invalidation channel for as long as the socket has not
 * closed. A channel that goes silent without closing (a NAT or load-balancer idle timeout dropping
 * the flow, a partition: the subscriber connection is idle by design, so nothing notices) loses
 * every invalidation, and the cache answers "not revoked" for a revoked token for as long as the
 * entry stays cached. Issue 16: "When the invalidation channel drops, the local cache is cleared and
 * checks go to Redis until it is back; never a stale 'not revoked' after a lost invalidation."
 * Here a TCP relay between the app and Redis stops carrying the listener connection's bytes, in
 * both directions, and keeps both sockets open.
 */

let redis: Redis;
let server: RedisServer;
useRedis((started) => ({ redis, server } = started));

/** A TCP relay to Redis; `silence(name)` stops relaying the connections that named themselves `name`, leaving them open. */
class Relay {
  private readonly links: { name?: string; silent: boolean; sockets: Socket[] }[] = [];
  readonly server: Server = createServer((client) => {
    const upstream = connect(server.port, '127.0.0.1');
    const link: { name?: string; silent: boolean; sockets: Socket[] } = { silent: false, sockets: [client, upstream] };
    this.links.push(link);
    client.on('data', (chunk: Buffer) => {
      const named = /jwt-blocklist-[a-z]+/.exec(chunk.toString('latin1'));
      if (named && !link.name) link.name = named[0];
      if (!link.silent) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!link.silent) client.write(chunk);
    });
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ]) {
      a.on('close', () => b.destroy());
      a.on('error', () => b.destroy());
    }
  });

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as { port: number }).port;
  }

  silence(name: string): number {
    const found = this.links.filter((link) => link.name === name && !link.sockets[0].destroyed);
    for (const link of found) link.silent = true;
    return found.length;
  }

  close(): void {
    for (const link of this.links) for (const socket of link.sockets) socket.destroy();
    this.server.close();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it is true; false after `ms` (a generous bound, not a timing assertion). */
async function eventually(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) return false;
    await sleep(20);
  }
  return true;
}

const token = (sub: string, jti: string) => payload({ jti, sub, iat: nowSeconds() - 5, exp: nowSeconds() + 600 });

describe('RedisBlocklist localCache when its invalidation channel goes silent without closing', () => {
  const relay = new Relay();
  let client: Redis;
  let store: RedisBlocklist;

  beforeAll(async () => {
    const port = await relay.listen();
    client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    await new Promise((resolve) => client.once('ready', resolve));
  });
  afterEach(() => store?.onModuleDestroy());
  afterAll(() => {
    client.disconnect();
    relay.close();
  });

  it('a revocation made by another instance is seen within a generous bound (5 s), not answered "not revoked" from memory forever', async () => {
    const keyPrefix = freshPrefix();
    store = new RedisBlocklist(client, { keyPrefix, localCache: { maxEntries: 1000 } });
    const other = new RedisBlocklist(redis, { keyPrefix });
    const bob = token('bob', 'b-1');
    await untilAnsweredFromMemory(redis, () => store.isTokenRevoked({}, bob));
    expect(relay.silence('jwt-blocklist-invalidations')).toBe(1);
    await other.revokeToken(bob);
    // Redis has the revocation: a check that reads Redis says so.
    expect(await new RedisBlocklist(client, { keyPrefix }).isTokenRevoked({}, bob)).toBe(true);
    expect(await eventually(async () => (await store.isTokenRevoked({}, bob)) === true, 5_000)).toBe(true);
  }, 15_000);
});
