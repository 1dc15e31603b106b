import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { afterAll, beforeAll } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, type ClusterOptions } from 'ioredis';
import { freePort } from './redis-server.js';

const run = promisify(execFile);

export interface RedisClusterSetup {
  /** Replicas per master (`--cluster-replicas`). Default 0. */
  replicas?: number;
  /** `cluster-node-timeout` in ms: how long a silent master goes before its replica takes over. Default Redis's 15000. */
  nodeTimeout?: number;
  /**
   * Nodes announce this hostname (`cluster-announce-hostname`) and clients are sent it rather than
   * an IP (`cluster-preferred-endpoint-type hostname`), as in managed or Kubernetes deployments.
   */
  hostname?: string;
  /**
   * Nodes announce ports nothing listens on, as behind a port-forwarding NAT (Docker, a cloud
   * proxy): a client reaches them only through `natMap` (see `RedisCluster.natMap`).
   */
  natPorts?: boolean;
  /** Nodes also listen on this address and announce it (`cluster-announce-ip`): `::1` for an IPv6 cluster. */
  announceIp?: string;
}

/**
 * A real Redis Cluster (three masters by default, optionally with replicas) on loopback
 * ports, in a temporary directory of its own, started and stopped by the test (`stop()` in afterAll).
 */
export class RedisCluster {
  private readonly processes = new Map<number, ChildProcess>();
  private readonly busPorts = new Map<number, number>();

  private nodeTimeout?: number;
  /** The real client port of each announced one, for a `natPorts` cluster. */
  private readonly realPorts = new Map<number, number>();

  private constructor(
    readonly ports: number[],
    private readonly dir: string,
    private readonly announce: Pick<RedisClusterSetup, 'hostname' | 'natPorts' | 'announceIp'>,
  ) {}

  /** For a `natPorts` cluster: each announced `127.0.0.1:port` mapped to where the node listens (ioredis `natMap`). */
  get natMap(): Record<string, { host: string; port: number }> {
    return Object.fromEntries([...this.realPorts].map(([announced, port]) => [`127.0.0.1:${announced}`, { host: '127.0.0.1', port }]));
  }

  get nodes(): { host: string; port: number }[] {
    return this.ports.map((port) => ({ host: '127.0.0.1', port }));
  }

  static async start(masters = 3, { replicas = 0, nodeTimeout, ...announce }: RedisClusterSetup = {}): Promise<RedisCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'jwt-redis-cluster-'));
    const nodes = masters * (1 + replicas);
    // Each node needs a client port and a cluster bus port, all different.
    const ports = new Set<number>();
    while (ports.size < nodes * 2) ports.add(await freePort());
    const [clientPorts, busPorts] = [[...ports].slice(0, nodes), [...ports].slice(nodes)];
    const cluster = new RedisCluster(clientPorts, dir, announce);
    try {
      await Promise.all(clientPorts.map((port, i) => cluster.startNode(port, busPorts[i])));
      await run('redis-cli', [
        '--cluster',
        'create',
        ...clientPorts.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ]);
      for (const port of clientPorts) await waitForClusterOk(port);
      if (replicas > 0) await cluster.waitForReplicas(masters, replicas);
      // A short node timeout only once the cluster has formed: on a loaded machine a node can miss
      // pings for a second while the replicas sync, and a failover then would reshuffle the masters.
      if (nodeTimeout !== undefined) await cluster.setNodeTimeout(nodeTimeout);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** An ioredis Cluster client, connected (its `quit`/`disconnect` is the caller's). */
  async client(options: ClusterOptions = {}): Promise<Cluster> {
    const client = new Cluster(this.nodes, options);
    await new Promise<void>((resolve, reject) => {
      client.once('ready', resolve);
      client.once('error', reject);
    });
    return client;
  }

  /** The client ports of the nodes that are masters now (as the first live node sees it). */
  async masters(): Promise<number[]> {
    for (const port of this.livePorts()) {
      try {
        const { stdout } = await run('redis-cli', ['-p', String(port), 'cluster', 'nodes']);
        return (
          stdout
            .split('\n')
            // flags `master` or `myself,master`; not `master,fail`
            .filter((line) => /[ ,]master /.test(line))
            .map((line) => this.realPort(Number(/:(\d+)@/.exec(line)![1])))
        );
      } catch {
        // that node went away: ask the next one
      }
    }
    throw new Error('no live cluster node');
  }

  /** The client port of the master serving `key` now. */
  async masterOf(key: string): Promise<number> {
    const { stdout: slot } = await run('redis-cli', ['-p', String(this.livePorts()[0]), 'cluster', 'keyslot', key]);
    return this.masterOfSlot(Number(slot));
  }

  /** Kills a node outright (SIGKILL): its replica takes over after `nodeTimeout`. */
  async kill(port: number): Promise<void> {
    const child = this.processes.get(port)!;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  /**
   * Starts a killed node again on its port, with its cluster config: a master that was failed over
   * rejoins as a replica of the node that replaced it. Resolves once its master's WAIT counts it.
   */
  async restart(port: number): Promise<void> {
    await this.startNode(port, this.busPorts.get(port)!);
    if (this.nodeTimeout !== undefined) await this.configSet(port, 'cluster-node-timeout', this.nodeTimeout);
    await this.untilReplicating(port, 'never rejoined as a replica');
  }

  /**
   * A planned failover (`CLUSTER FAILOVER TAKEOVER` on the master's replica): the replica takes the
   * master's slots and the master becomes its replica, without a node going down. Clients that have not
   * refreshed their slot map still route to the old master, which answers MOVED. Resolves to the
   * new master's port once the old master replicates it.
   */
  async failover(master: number): Promise<number> {
    const { stdout } = await run('redis-cli', ['-p', String(master), 'info', 'replication']);
    const replica = /slave0:ip=[^,]+,port=(\d+)/.exec(stdout)?.[1];
    if (!replica) throw new Error(`Redis Cluster master ${master} has no replica to fail over to`);
    // TAKEOVER: no vote of the other masters, which vote for one master's slots at most once per two
    // node timeouts (a second failover of the same slots would wait for it). The cluster is quiet and
    // in sync here, so nothing is lost.
    await run('redis-cli', ['-p', replica, 'cluster', 'failover', 'takeover']);
    await this.untilReplicating(master, 'never became a replica of its replica');
    // masters() and masterOf() ask one node, whose view comes by gossip: until it has the swap too
    for (let polls = 0; polls < 300; polls++) {
      const masters = await this.masters();
      if (masters.includes(Number(replica)) && !masters.includes(master)) return Number(replica);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`Redis Cluster node ${this.livePorts()[0]} never saw ${replica} take over from ${master}`);
  }

  /** Starts one more node and adds it to the cluster as a master without slots; resolves to its port. */
  async addMaster(): Promise<number> {
    const [port, busPort] = [await freePort(), await freePort()];
    await this.startNode(port, busPort);
    this.ports.push(port);
    if (this.nodeTimeout !== undefined) await this.configSet(port, 'cluster-node-timeout', this.nodeTimeout);
    await this.manage(['add-node', `127.0.0.1:${port}`, `127.0.0.1:${this.livePorts()[0]}`]);
    for (const live of this.livePorts()) await waitForClusterOk(live);
    return port;
  }

  /**
   * `redis-cli --cluster <args>`, again while it fails for up to 30 s: it checks the cluster before it
   * changes anything, and refuses while the nodes' views still differ (as for a while after a
   * failover, by gossip, even once every node says `cluster_state:ok`).
   */
  private async manage(args: string[]): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await run('redis-cli', ['--cluster', ...args]);
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }

  /** Moves one slot and its keys to the master on `to`, as a resharding does (IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE). */
  async moveSlot(slot: number, to: number): Promise<void> {
    const from = await this.masterOfSlot(slot);
    const [fromId, toId] = await Promise.all(
      [from, to].map(async (port) => (await run('redis-cli', ['-p', String(port), 'cluster', 'myid'])).stdout.trim()),
    );
    await run('redis-cli', ['-p', String(to), 'cluster', 'setslot', String(slot), 'importing', fromId]);
    await run('redis-cli', ['-p', String(from), 'cluster', 'setslot', String(slot), 'migrating', toId]);
    for (;;) {
      const { stdout } = await run('redis-cli', ['-p', String(from), 'cluster', 'getkeysinslot', String(slot), '100']);
      const keys = stdout.split('\n').filter(Boolean);
      if (keys.length === 0) break;
      await run('redis-cli', ['-p', String(from), 'migrate', '127.0.0.1', String(to), '', '0', '5000', 'KEYS', ...keys]);
    }
    for (const port of await this.masters()) await run('redis-cli', ['-p', String(port), 'cluster', 'setslot', String(slot), 'node', toId]);
    for (const live of this.livePorts()) await waitForClusterOk(live);
  }

  /** Takes a master without slots out of the cluster (`redis-cli --cluster del-node`: the others forget it), and stops it. */
  async removeNode(port: number): Promise<void> {
    const id = (await run('redis-cli', ['-p', String(port), 'cluster', 'myid'])).stdout.trim();
    await this.manage(['del-node', `127.0.0.1:${this.livePorts().find((live) => live !== port)}`, id]);
    await this.kill(port);
    for (const live of this.livePorts()) await waitForClusterOk(live);
  }

  /** The client port of the master serving `slot` now. */
  private async masterOfSlot(slot: number): Promise<number> {
    const { stdout } = await run('redis-cli', ['-p', String(this.livePorts()[0]), '--json', 'cluster', 'slots']);
    const ranges = JSON.parse(stdout) as [number, number, [string, number]][];
    return this.realPort(ranges.find(([from, to]) => from <= slot && slot <= to)![2][1]);
  }

  /** Where the node announcing `port` listens. */
  private realPort(port: number): number {
    return this.realPorts.get(port) ?? port;
  }

  /** Until the node on `port` is a replica in sync as its master sees it (the master's WAIT counts it). */
  private async untilReplicating(port: number, failure: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const { stdout } = await run('redis-cli', ['-p', String(port), 'info', 'replication']);
      const master = /master_port:(\d+)/.exec(stdout)?.[1];
      // the replica's own "link up" comes before its master counts it
      if (stdout.includes('role:slave') && stdout.includes('master_link_status:up') && master) {
        const { stdout: acknowledged } = await run('redis-cli', ['-p', master, 'wait', '1', '1000']);
        if (Number(acknowledged) >= 1) return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`Redis Cluster node ${port} ${failure}`);
  }

  private async setNodeTimeout(ms: number): Promise<void> {
    this.nodeTimeout = ms;
    await Promise.all(this.ports.map((port) => this.configSet(port, 'cluster-node-timeout', ms)));
  }

  private async configSet(port: number, name: string, value: number): Promise<void> {
    await run('redis-cli', ['-p', String(port), 'config', 'set', name, String(value)]);
  }

  /** Freezes a node (SIGSTOP) until `resume`: it neither answers nor replicates. */
  pause(port: number): void {
    this.processes.get(port)!.kill('SIGSTOP');
  }

  resume(port: number): void {
    this.processes.get(port)!.kill('SIGCONT');
  }

  /**
   * Until there are `masters` masters and each has `replicas` replicas online and in sync (WAIT can
   * count them). The masters are read again on every attempt, and the wait is bounded by time, not
   * attempts: each attempt is a redis-cli process, slow on a loaded machine.
   */
  private async waitForReplicas(masters: number, replicas: number): Promise<void> {
    const deadline = Date.now() + 45_000;
    let last = '';
    while (Date.now() < deadline) {
      const ports = await this.masters();
      const online = await Promise.all(
        ports.map(async (port) => {
          const { stdout } = await run('redis-cli', ['-p', String(port), 'info', 'replication']);
          return stdout.split('\n').filter((line) => /^slave\d+:.*state=online/.test(line)).length;
        }),
      );
      last = ports.map((port, i) => `${port}: ${online[i]}`).join(', ');
      if (ports.length === masters && online.every((count) => count >= replicas)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`Redis Cluster never had ${masters} masters with ${replicas} replica(s) online each (last seen ${last})`);
  }

  /** Until every live node reports `cluster_state:ok` again (after a failover). */
  async waitForOk(): Promise<void> {
    for (const port of this.livePorts()) await waitForClusterOk(port);
  }

  private livePorts(): number[] {
    return this.ports.filter((port) => {
      const child = this.processes.get(port)!;
      return child.exitCode === null && child.signalCode === null;
    });
  }

  async stop(): Promise<void> {
    await Promise.all(
      [...this.processes.values()].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGCONT');
            child.kill('SIGKILL');
          }),
      ),
    );
    await rm(this.dir, { recursive: true, force: true });
  }

  private async startNode(port: number, busPort: number): Promise<void> {
    this.busPorts.set(port, busPort);
    // The test's own redis-cli calls and the clients' first contact stay on 127.0.0.1.
    const bind = ['127.0.0.1'];
    const announced: string[] = [];
    if (this.announce.announceIp !== undefined) {
      bind.push(this.announce.announceIp);
      announced.push('--cluster-announce-ip', this.announce.announceIp);
    }
    if (this.announce.hostname !== undefined) {
      announced.push('--cluster-announce-hostname', this.announce.hostname, '--cluster-preferred-endpoint-type', 'hostname');
    }
    if (this.announce.natPorts) {
      let outside = [...this.realPorts].find(([, real]) => real === port)?.[0];
      if (outside === undefined) this.realPorts.set((outside = await freePort()), port);
      // The cluster bus keeps its real port: only clients are behind the "NAT".
      announced.push('--cluster-announce-port', String(outside), '--cluster-announce-bus-port', String(busPort));
    }
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--cluster-port',
        String(busPort),
        '--bind',
        bind.join(' '),
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(this.dir, `nodes-${port}.conf`),
        '--dir',
        this.dir,
        '--save',
        '',
        '--appendonly',
        'no',
        // Replicas sync at once instead of after Redis's default 5 s wait for more replicas.
        '--repl-diskless-sync-delay',
        '0',
        // DEBUG SLEEP stalls a node in the local cache's probe tests.
        '--enable-debug-command',
        'local',
        ...announced,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    this.processes.set(port, child);
    await new Promise<void>((resolve, reject) => {
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`redis-server (cluster node ${port}) exited with ${code}: ${output}`)));
    });
  }
}

/** Until the node reports `cluster_state:ok` (slots assigned and agreed by every node). */
async function waitForClusterOk(port: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const { stdout } = await run('redis-cli', ['-p', String(port), 'cluster', 'info']);
    if (stdout.includes('cluster_state:ok')) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Redis Cluster node ${port} never reached cluster_state:ok`);
}

/**
 * A 3-master cluster and a Cluster client for the test file: started before its tests, stopped
 * after them. `assign` receives both once they are up.
 */
export function useRedisCluster(assign: (started: { cluster: RedisCluster; client: Cluster }) => void): void {
  let started: { cluster: RedisCluster; client: Cluster } | undefined;
  beforeAll(async () => {
    const cluster = await RedisCluster.start();
    started = { cluster, client: await cluster.client() };
    assign(started);
  }, 60_000);
  afterAll(async () => {
    started?.client.disconnect();
    await started?.cluster.stop();
  });
}
