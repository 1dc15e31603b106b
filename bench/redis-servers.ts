/** Throw-away redis-servers on loopback for the benchmarks that need one (fleet, rotation). */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/**
 * A throw-away redis-server on loopback (no persistence), with `args` added; resolves once it
 * accepts connections, rejects when it cannot start (not installed: `ENOENT`).
 */
async function startRedisServer(port: number, args: string[] = []): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('Ready to accept connections') && resolve());
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
    child.once('error', reject);
  });
  return child;
}

export async function startRedis(): Promise<{ url: string; stop: () => void }> {
  const port = await freePort();
  const child = await startRedisServer(port);
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill('SIGKILL') };
}

/** A throw-away 3-master Redis Cluster on loopback (no replicas), formed with `redis-cli --cluster create`. */
export async function startRedisCluster(): Promise<{ nodes: { host: string; port: number }[]; stop: () => void }> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-cluster-'));
  const ports = await Promise.all([0, 1, 2].map(() => freePort()));
  const busPorts = await Promise.all(ports.map(() => freePort()));
  const children: ChildProcess[] = [];
  const stop = () => {
    for (const child of children) child.kill('SIGKILL');
    void rm(dir, { recursive: true, force: true });
  };
  try {
    for (const [i, port] of ports.entries()) {
      const config = [
        '--cluster-enabled',
        'yes',
        '--cluster-port',
        String(busPorts[i]),
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        '--dir',
        dir,
      ];
      children.push(await startRedisServer(port, config));
    }
    await execFileAsync('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-yes']);
    for (const port of ports) {
      for (
        let attempt = 0;
        !(await execFileAsync('redis-cli', ['-p', String(port), 'cluster', 'info'])).stdout.includes('cluster_state:ok');
        attempt++
      ) {
        if (attempt > 100) throw new Error(`Redis Cluster node ${port} never reached cluster_state:ok`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } catch (error) {
    stop();
    throw error;
  }
  return { nodes: ports.map((port) => ({ host: '127.0.0.1', port })), stop };
}
