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
}

/**
 * A real Redis Cluster (three masters by default, optionally with replicas) on loopback
 * ports, in a temporary directory of its own, started and stopped by the test (`stop()` in afterAll).
 */
export class RedisCluster {
  private readonly processes = new Map<number, ChildProcess>();
  private readonly busPorts = new Map<number, number>();

  private constructor(
    readonly ports: number[],
    private readonly dir: string,
    private readonly nodeTimeout?: number,
  ) {}

  get nodes(): { host: string; port: number }[] {
    return this.ports.map((port) => ({ host: '127.0.0.1', port }));
  }

  static async start(masters = 3, { replicas = 0, nodeTimeout }: RedisClusterSetup = {}): Promise<RedisCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'jwt-redis-cluster-'));
    const nodes = masters * (1 + replicas);
    // Each node needs a client port and a cluster bus port, all different.
    const ports = new Set<number>();
    while (ports.size < nodes * 2) ports.add(await freePort());
    const [clientPorts, busPorts] = [[...ports].slice(0, nodes), [...ports].slice(nodes)];
    const cluster = new RedisCluster(clientPorts, dir, nodeTimeout);
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
      if (replicas > 0) for (const port of await cluster.masters()) await waitForReplicas(port, replicas);
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
            .map((line) => Number(/:(\d+)@/.exec(line)![1]))
        );
      } catch {
        // that node went away: ask the next one
      }
    }
    throw new Error('no live cluster node');
  }

  /** The client port of the master serving `key` now. */
  async masterOf(key: string): Promise<number> {
    const port = this.livePorts()[0];
    const { stdout: slot } = await run('redis-cli', ['-p', String(port), 'cluster', 'keyslot', key]);
    const { stdout } = await run('redis-cli', ['-p', String(port), '--json', 'cluster', 'slots']);
    const ranges = JSON.parse(stdout) as [number, number, [string, number]][];
    const range = ranges.find(([from, to]) => from <= Number(slot) && Number(slot) <= to)!;
    return range[2][1];
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
   * rejoins as a replica of the node that replaced it. Resolves once it replicates (link up).
   */
  async restart(port: number): Promise<void> {
    await this.startNode(port, this.busPorts.get(port)!);
    for (let attempt = 0; attempt < 200; attempt++) {
      const { stdout } = await run('redis-cli', ['-p', String(port), 'info', 'replication']);
      if (stdout.includes('role:slave') && stdout.includes('master_link_status:up')) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`Redis Cluster node ${port} never rejoined as a replica`);
  }

  /** Freezes a node (SIGSTOP) until `resume`: it neither answers nor replicates. */
  pause(port: number): void {
    this.processes.get(port)!.kill('SIGSTOP');
  }

  resume(port: number): void {
    this.processes.get(port)!.kill('SIGCONT');
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
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--cluster-port',
        String(busPort),
        '--bind',
        '127.0.0.1',
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
        ...(this.nodeTimeout === undefined ? [] : ['--cluster-node-timeout', String(this.nodeTimeout)]),
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

/** Until the master on `port` has `replicas` replicas online and in sync (WAIT can count them). */
async function waitForReplicas(port: number, replicas: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const { stdout } = await run('redis-cli', ['-p', String(port), 'info', 'replication']);
    const online = stdout.split('\n').filter((line) => /^slave\d+:.*state=online/.test(line)).length;
    if (online >= replicas) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Redis Cluster master ${port} never had ${replicas} replica(s) online`);
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
