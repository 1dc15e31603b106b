import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, type ClusterOptions } from 'ioredis';
import { freePort } from './redis-server.js';

const run = promisify(execFile);

/**
 * A real Redis Cluster of three masters on loopback ports, in a temporary directory
 * of its own, started and stopped by the test (`stop()` in afterAll).
 */
export class RedisCluster {
  private constructor(
    readonly ports: number[],
    private readonly dir: string,
    private readonly processes: ChildProcess[],
  ) {}

  get nodes(): { host: string; port: number }[] {
    return this.ports.map((port) => ({ host: '127.0.0.1', port }));
  }

  static async start(masters = 3): Promise<RedisCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'jwt-redis-cluster-'));
    // Each node needs a client port and a cluster bus port, all different.
    const ports = new Set<number>();
    while (ports.size < masters * 2) ports.add(await freePort());
    const [clientPorts, busPorts] = [[...ports].slice(0, masters), [...ports].slice(masters)];
    const processes: ChildProcess[] = [];
    const cluster = new RedisCluster(clientPorts, dir, processes);
    try {
      await Promise.all(clientPorts.map((port, i) => cluster.startNode(port, busPorts[i])));
      await run('redis-cli', [
        '--cluster',
        'create',
        ...clientPorts.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ]);
      for (const port of clientPorts) await waitForClusterOk(port);
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

  async stop(): Promise<void> {
    await Promise.all(
      this.processes.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    await rm(this.dir, { recursive: true, force: true });
  }

  private async startNode(port: number, busPort: number): Promise<void> {
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
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    this.processes.push(child);
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
