import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { type Cluster, type ClusterOptions, Redis } from 'ioredis';
import { RedisBlocklist } from '../../lib/blocklist/redis/index.js';
import { keySlot, parseClusterNodes, tagFor } from '../../lib/blocklist/redis/cluster-topology.js';
import { RedisCluster, type RedisClusterSetup } from '../support/redis-cluster.js';
import { freshPrefix, nowSeconds, payload } from './stores.js';

/*
 * `localCache` with an ioredis Cluster client: tracking on every node, masters and replicas, so a
 * replica promoted by a failover has been reporting all along. The probes are set far apart here
 * (a minute) unless a test is about them: an invalidation that is lost is then not rescued by a
 * probe within the test's bounds, and the test fails. App instances over HTTP on a Cluster with
 * the local cache: test/scale/fleet.spec.ts.
 */

let cluster: RedisCluster;
/** The cached stores' client; `writer` is another instance's (revocations made "elsewhere"). */
let client: Cluster;
let writer: Cluster;

beforeAll(async () => {
  cluster = await RedisCluster.start(3, { replicas: 1, nodeTimeout: 1000 });
  const options = { redisOptions: { maxRetriesPerRequest: 1 }, retryDelayOnFailover: 50, retryDelayOnClusterDown: 50 };
  client = await cluster.client(options);
  writer = await cluster.client(options);
}, 90_000);
afterAll(async () => {
  client?.disconnect();
  writer?.disconnect();
  await cluster?.stop();
});

const stores: RedisBlocklist[] = [];
function cached(keyPrefix: string, localCache: { probeInterval?: number; probeTimeout?: number } = {}, on = client): RedisBlocklist {
  const store = new RedisBlocklist(on, { keyPrefix, localCache: { maxEntries: 1000, probeInterval: 60_000, ...localCache } });
  stores.push(store);
  return store;
}
afterEach(() => {
  for (const store of stores.splice(0)) store.onModuleDestroy();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const token = (sub: string, jti: string) => payload({ jti, sub, iat: nowSeconds() - 5, exp: nowSeconds() + 600 });
type Payload = ReturnType<typeof token>;

/** The store's answer once it comes from memory: synchronously, no promise (fails after 10 s). */
async function fromMemory(store: RedisBlocklist, jwt: Payload): Promise<boolean> {
  const end = Date.now() + 10_000;
  for (;;) {
    const answer = store.isTokenRevoked({}, jwt);
    if (typeof answer === 'boolean') return answer;
    await answer;
    if (Date.now() > end) throw new Error('the local cache never answered');
    await sleep(10);
  }
}

/** Polls until the store says revoked (from memory or Redis); fails after `ms`. A bound, not a timing assertion. */
async function untilRevoked(store: RedisBlocklist, jwt: Payload, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await store.isTokenRevoked({}, jwt))) {
    if (Date.now() > end) throw new Error('never refused');
    await sleep(5);
  }
}

/**
 * The local caches' listener connections on one node, or on every node of the cluster, as
 * `port:client-id` (client ids are numbered per node: the same id on two nodes is two connections).
 */
async function listeners(port?: number, of = cluster): Promise<string[]> {
  const ids: string[] = [];
  for (const { host, port: node } of of.nodes.filter((n) => port === undefined || n.port === port)) {
    const connection = new Redis(node, host, { lazyConnect: true, retryStrategy: () => null, enableOfflineQueue: false });
    try {
      await connection.connect();
      const list = String(await connection.client('LIST'));
      ids.push(
        ...list
          .split('\n')
          .filter((line) => line.includes(' name=jwt-blocklist-invalidations '))
          .map((line) => `${node}:${/id=(\d+)/.exec(line)![1]}`),
      );
    } catch {
      // a node killed by an earlier test
    } finally {
      connection.disconnect();
    }
  }
  return ids.toSorted();
}

/** SET calls a node has run so far (INFO commandstats): the probes are the only SETs here. */
async function setCalls(port: number): Promise<number> {
  const connection = new Redis(port, '127.0.0.1');
  try {
    return Number(/cmdstat_set:calls=(\d+)/.exec(await connection.info('commandstats'))?.[1] ?? 0);
  } finally {
    connection.disconnect();
  }
}

/** The master serving an identity's keys. */
const masterOf = (keyPrefix: string, identity: string, of = cluster) => of.masterOf(`${keyPrefix}{${JSON.stringify(identity)}}:user`);

/** An identity whose keys live on each master: `users[i]` on `masters[i]`. */
async function oneUserPerMaster(keyPrefix: string, label: string, of = cluster): Promise<string[]> {
  const masters = await of.masters();
  const users: string[] = [];
  for (let n = 0; users.filter(Boolean).length < masters.length; n++) {
    const user = `${label}-${n}`;
    const at = masters.indexOf(await masterOf(keyPrefix, user, of));
    users[at] ??= user;
  }
  return users;
}

/**
 * For each user: two tokens answered from memory; one revoked through `other` (another instance)
 * reaches the cache while the other is still answered from memory; then a user-wide cut-off does too.
 */
async function expectRevocationsToReachTheCache(store: RedisBlocklist, other: RedisBlocklist, users: string[]): Promise<void> {
  for (const user of users) {
    const jwt = token(user, `${user}-1`);
    const sibling = token(user, `${user}-2`);
    expect(await fromMemory(store, jwt)).toBe(false);
    expect(await fromMemory(store, sibling)).toBe(false);
    await other.revokeToken(jwt);
    await untilRevoked(store, jwt);
    // still answered from memory: the invalidation named the one key, the cache was not emptied
    expect(store.isTokenRevoked({}, sibling)).toBe(false);
    // a user-wide cut-off invalidates the identity's key, so every cached token of the user
    await other.revokeAllForUser(user);
    await untilRevoked(store, sibling);
  }
}

describe('Redis Cluster key slots (the probes are written to a slot of each master)', () => {
  it('keySlot agrees with CLUSTER KEYSLOT, hash tags, empty tags and UTF-8 included; tagFor(slot) lands on slot', async () => {
    for (const key of ['123456789', 'a{user}:jti', 'a{}b', '{}{x}', 'a{b', 'x{é}y', '{😀}', 'plain', `p:{${JSON.stringify('zoë')}}:user`]) {
      expect(keySlot(key)).toBe(Number(await client.cluster('KEYSLOT', key)));
    }
    for (const slot of [0, 1, 5461, 5462, 10922, 10923, 16383]) {
      expect(Number(await client.cluster('KEYSLOT', `probe:{${tagFor(slot)}}7`))).toBe(slot);
    }
  });
});

describe('CLUSTER NODES as the local cache reads it', () => {
  it('lists every node that may hold or receive keys, with the endpoints it announces', () => {
    const reply = [
      'a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460 [5461->-b1]',
      'b1 ::1:7001@17001 master - 0 1 2 connected 5461-10922',
      'c1 10.0.0.3:7002@17002,redis-c.internal master,fail? - 0 1 3 connected 10923-16383',
      'a2 127.0.0.1:7003@17003 slave a1 0 1 1 connected',
      'dead 127.0.0.1:7004@17004 master,fail - 0 1 4 disconnected',
      'gone 127.0.0.1:7005@17005 master,fail - 0 1 5 disconnected 100-200',
      'new 127.0.0.1:7006@17006 master - 0 1 6 connected',
      'hs 127.0.0.1:7007@17007 handshake - 0 0 0 connected',
      'na :0@0 master,noaddr - 0 0 0 disconnected',
      '',
    ].join('\n');
    expect(parseClusterNodes(reply)).toEqual({
      nodes: [
        { id: 'a1', endpoints: ['127.0.0.1:7000'], slots: [[0, 5460]] },
        { id: 'b1', endpoints: ['::1:7001'], slots: [[5461, 10922]] },
        { id: 'c1', endpoints: ['10.0.0.3:7002', 'redis-c.internal:7002'], slots: [[10923, 16383]] },
        { id: 'a2', endpoints: ['127.0.0.1:7003'], masterId: 'a1', slots: [] },
        // failed but still serving its slots (not replaced yet): still tracked, so the cache stays off
        { id: 'gone', endpoints: ['127.0.0.1:7005'], slots: [[100, 200]] },
        // a master without slots may be filled by a resharding
        { id: 'new', endpoints: ['127.0.0.1:7006'], slots: [] },
      ],
      // failed and serving nothing: replaced, not tracked even while a client still routes to it
      failed: new Set(['127.0.0.1:7004']),
    });
  });
});

describe('RedisBlocklist localCache with a Cluster client', () => {
  it('answers from memory for keys on every master, and a revocation by another instance reaches it', async () => {
    const keyPrefix = freshPrefix();
    await expectRevocationsToReachTheCache(
      cached(keyPrefix),
      new RedisBlocklist(writer, { keyPrefix }),
      await oneUserPerMaster(keyPrefix, 'spread'),
    );
  });

  it('the instance that revokes refuses the token as soon as the revocation resolves', async () => {
    const store = cached(freshPrefix());
    for (let n = 0; n < 12; n++) {
      const own = token(`self-${n}`, `s-${n}`);
      expect(await fromMemory(store, own)).toBe(false);
      await store.revokeToken(own);
      expect(await store.isTokenRevoked({}, own)).toBe(true);
    }
  });

  it('tracks every node, replicas included, and keeps its channels while every probe is reported', async () => {
    const before = await listeners();
    const store = cached(freshPrefix(), { probeInterval: 20, probeTimeout: 500 });
    const jwt = token('probed', 'p-1');
    expect(await fromMemory(store, jwt)).toBe(false);
    const mine = (await listeners()).filter((id) => !before.includes(id));
    // one per node: no node has failed yet in this file
    expect(mine).toHaveLength(cluster.nodes.length);
    const masters = await cluster.masters();
    const setsBefore = await Promise.all(masters.map(setCalls));
    // about a hundred probe rounds: an unreported probe would have emptied the cache and made its channels anew
    await sleep(2000);
    // every master took probe keys (one per round each), not one master for all
    const setsAfter = await Promise.all(masters.map(setCalls));
    for (const [i, sets] of setsAfter.entries()) expect(sets - setsBefore[i]).toBeGreaterThan(10);
    expect(store.isTokenRevoked({}, jwt)).toBe(false);
    expect(await listeners()).toEqual(expect.arrayContaining(mine));
  });

  it('a replica that stalls longer than probeTimeout (its probe unreported) gets its channel made anew, whichever shard it serves', async () => {
    // Replicas: the probe key of their master's slot must reach them, and CLUSTER NODES (read from a
    // master) stays at hand, so the cache is live and only the probe can find the stall.
    const store = cached(freshPrefix(), { probeInterval: 20, probeTimeout: 100 });
    const jwt = token('stalled', 's-1');
    expect(await fromMemory(store, jwt)).toBe(false);
    const masters = await cluster.masters();
    const replicas = cluster.nodes.map(({ port }) => port).filter((port) => !masters.includes(port));
    expect(replicas).toHaveLength(masters.length);
    for (const replica of replicas) {
      const before = await listeners(replica);
      const blocker = new Redis(replica, '127.0.0.1');
      try {
        // DEBUG SLEEP stalls the node: the probe on its master's slot cannot be reported within 100 ms.
        await blocker.call('DEBUG', 'SLEEP', '0.5');
      } finally {
        blocker.disconnect();
      }
      const end = Date.now() + 10_000;
      while ((await listeners(replica)).every((id) => before.includes(id))) {
        if (Date.now() > end) throw new Error(`the channel on ${replica} was never made anew`);
        await sleep(20);
      }
      expect(await fromMemory(store, jwt)).toBe(false);
    }
  });

  it('through a planned failover, a revocation written to the promoted replica reaches the cache by its invalidation', async () => {
    const keyPrefix = freshPrefix();
    const store = cached(keyPrefix);
    const other = new RedisBlocklist(writer, { keyPrefix });
    const user = 'planned-failover';
    const jwt = token(user, 'f-1');
    const sibling = token(user, 'f-2');
    expect(await fromMemory(store, jwt)).toBe(false);
    expect(await fromMemory(store, sibling)).toBe(false);
    await cluster.failover(await masterOf(keyPrefix, user));
    // The failover may empty the cache, rightly: a demoted master that resyncs in full flushes its
    // data, and a flush's invalidation clears everything cached. Both are cached again first, so
    // what follows is the invalidation's doing.
    expect(await fromMemory(store, jwt)).toBe(false);
    expect(await fromMemory(store, sibling)).toBe(false);
    // The write follows MOVED to the new master. No probe runs (a minute apart), and the sibling
    // still answered from memory shows the cache was not emptied: the revocation was reported.
    await other.revokeToken(jwt);
    await untilRevoked(store, jwt);
    expect(store.isTokenRevoked({}, sibling)).toBe(false);
    const later = token(user, 'f-3');
    expect(await fromMemory(store, later)).toBe(false);
    await other.revokeToken(later);
    await untilRevoked(store, later);
  }, 60_000);

  it('while a killed master is replaced, a revoked token is never answered "not revoked"; then it answers from memory again', async () => {
    const keyPrefix = freshPrefix();
    const store = cached(keyPrefix);
    const other = new RedisBlocklist(writer, { keyPrefix });
    const user = 'killed-master';
    const revoked = token(user, 'k-1');
    const kept = token(user, 'k-2');
    // "not revoked" first: the store caches answers once Redis said it never evicts keys
    expect(await fromMemory(store, kept)).toBe(false);
    await other.revokeToken(revoked);
    expect(await fromMemory(store, revoked)).toBe(true);
    await cluster.kill(await masterOf(keyPrefix, user));
    /** A check's answer: true, false, or the status it failed with (503: fails closed). */
    const check = (jwt: Payload) => Promise.resolve(store.isTokenRevoked({}, jwt)).catch((error: { status?: number }) => error.status);
    // Revoke `kept` as soon as the cluster takes writes for it again; `revoked` is never "not revoked" meanwhile.
    const end = Date.now() + 30_000;
    while (
      !(await other.revokeToken(kept).then(
        () => true,
        () => false,
      ))
    ) {
      expect([true, 503]).toContain(await check(revoked));
      if (Date.now() > end) throw new Error('the cluster never took the write');
      await sleep(50);
    }
    // Once its invalidation could have been delivered, `kept` is never "not revoked" either.
    await sleep(100);
    for (let n = 0; n < 20; n++) {
      for (const jwt of [revoked, kept]) expect([true, 503]).toContain(await check(jwt));
      await sleep(50);
    }
    await cluster.waitForOk();
    expect(await fromMemory(store, revoked)).toBe(true);
    expect(await fromMemory(store, kept)).toBe(true);
    const fresh = token(user, 'k-3');
    expect(await fromMemory(store, fresh)).toBe(false);
    await other.revokeToken(fresh);
    await untilRevoked(store, fresh);
  }, 60_000);

  it('a slot resharded onto a new master: its revocations reach the cache; the master taken out again, the cache answers again', async () => {
    const keyPrefix = freshPrefix();
    const store = cached(keyPrefix, { probeInterval: 50 });
    const other = new RedisBlocklist(writer, { keyPrefix });
    const user = 'resharded';
    const slot = keySlot(`${keyPrefix}{${JSON.stringify(user)}}:user`);
    const home = await masterOf(keyPrefix, user);
    const added = await cluster.addMaster();
    // The new master is tracked (the cache was emptied for it and answers again) before any key moves.
    const end = Date.now() + 10_000;
    while ((await listeners(added)).length === 0) {
      if (Date.now() > end) throw new Error('the new master was never tracked');
      await sleep(20);
    }
    const [jwt, sibling] = [token(user, 'r-1'), token(user, 'r-2')];
    expect(await fromMemory(store, jwt)).toBe(false);
    expect(await fromMemory(store, sibling)).toBe(false);
    await cluster.moveSlot(slot, added);
    // The store's client never asked for this slot since (its checks are answered from memory), so
    // only the new master's report can bring the revocation written there.
    await other.revokeToken(jwt);
    await untilRevoked(store, jwt);
    expect(store.isTokenRevoked({}, sibling)).toBe(false);
    await cluster.moveSlot(slot, home);
    await cluster.removeNode(added);
    // The node gone takes its channel along: the cache answers from memory again.
    const later = token(user, 'r-3');
    expect(await fromMemory(store, later)).toBe(false);
    await other.revokeToken(later);
    await untilRevoked(store, later);
  }, 60_000);
});

/*
 * Nodes that announce something other than the address the client connects to: the cache's
 * channels must reach each node where the client does, once each (a channel on an address that
 * leads nowhere keeps the cache off; two on one node doubled the work).
 */
describe('RedisBlocklist localCache on a Cluster whose nodes announce other endpoints', () => {
  const clusters: RedisCluster[] = [];
  const clients: Cluster[] = [];
  async function startCluster(setup: RedisClusterSetup): Promise<RedisCluster> {
    const announcing = await RedisCluster.start(3, setup);
    clusters.push(announcing);
    return announcing;
  }
  async function clientOf(of: RedisCluster, options: ClusterOptions = {}): Promise<Cluster> {
    const connected = await of.client({ redisOptions: { maxRetriesPerRequest: 1 }, ...options });
    clients.push(connected);
    return connected;
  }
  afterAll(async () => {
    for (const connected of clients) connected.disconnect();
    await Promise.all(clusters.map((each) => each.stop()));
  });

  /** Revocations by another client reach the cache for keys on every master, and one channel per node. */
  async function cachesEveryMaster(of: RedisCluster, on: Cluster, writerOf: Cluster): Promise<void> {
    const keyPrefix = freshPrefix();
    const before = await listeners(undefined, of);
    const store = cached(keyPrefix, {}, on);
    await expectRevocationsToReachTheCache(
      store,
      new RedisBlocklist(writerOf, { keyPrefix }),
      await oneUserPerMaster(keyPrefix, 'announced', of),
    );
    expect((await listeners(undefined, of)).filter((id) => !before.includes(id))).toHaveLength(of.nodes.length);
  }

  it.each([
    { announced: 'hostnames (cluster-preferred-endpoint-type hostname)', setup: { hostname: 'localhost' }, host: 'localhost' },
    { announced: 'IPv6 addresses', setup: { announceIp: '::1' }, host: '::1' },
  ])(
    'announced $announced: the channels connect to $host, where the client routes',
    async ({ setup, host }) => {
      const announcing = await startCluster(setup);
      const on = await clientOf(announcing);
      // the client itself routes to the announced endpoint
      expect(on.nodes('master').map((node) => node.options.host)).toEqual([host, host, host]);
      await cachesEveryMaster(announcing, on, await clientOf(announcing));
    },
    60_000,
  );

  it("announced ports behind a NAT: the channels go through the client's natMap, as an object or a function", async () => {
    const natted = await startCluster({ natPorts: true });
    const { natMap } = natted;
    // the nodes announce ports nothing listens on: the client reaches them through natMap only
    const announcedPorts = Object.keys(natMap).map((endpoint) => Number(endpoint.split(':')[1]));
    expect(announcedPorts.filter((port) => natted.ports.includes(port))).toEqual([]);
    const on = await clientOf(natted, { natMap });
    expect(
      on
        .nodes('master')
        .map((node) => node.options.port)
        .toSorted(),
    ).toEqual(natted.ports.toSorted());
    const writerOf = await clientOf(natted, { natMap });
    await cachesEveryMaster(natted, on, writerOf);
    await cachesEveryMaster(natted, await clientOf(natted, { natMap: (key: string) => natMap[key] ?? null }), writerOf);
  }, 60_000);
});
