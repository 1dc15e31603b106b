import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll } from '@jest/globals';
import { Redis } from 'ioredis';

/** A free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** A real redis-server on a loopback port, owned by the test (so a test can stop it). */
export class RedisServer {
  private process?: ChildProcess;
  /** `extraArgs` follow the defaults, so they override them (e.g. `--appendonly yes --dir <tmp>` for persistence). */
  constructor(
    readonly port: number,
    private readonly extraArgs: readonly string[] = [],
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(extraArgs: readonly string[] = []): Promise<RedisServer> {
    const probe = spawnSync('redis-server', ['--version']);
    if (probe.error) throw new Error('redis-server is not installed: apt-get install -y redis-server (.ci/run does this)');
    const server = new RedisServer(await freePort(), extraArgs);
    await server.restart();
    return server;
  }

  async restart(): Promise<void> {
    this.process = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--enable-debug-command',
        'local',
        ...this.extraArgs,
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((resolve, reject) => {
      let output = '';
      this.process!.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve();
      });
      this.process!.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
    });
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}

/**
 * A redis-server and a client for the test file: started before its tests, stopped after them.
 * `assign` receives both once they are up (the client fails fast while the server is down).
 */
export function useRedis(assign: (started: { server: RedisServer; redis: Redis }) => void): void {
  let started: { server: RedisServer; redis: Redis } | undefined;
  beforeAll(async () => {
    const server = await RedisServer.start();
    const redis = new Redis(server.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
    await new Promise((resolve) => redis.once('ready', resolve));
    started = { server, redis };
    assign(started);
  });
  afterAll(async () => {
    started?.redis.disconnect();
    await started?.server.stop();
  });
}

/** MGET calls the server has run so far (INFO commandstats). */
export async function mgetCalls(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  return Number(/cmdstat_mget:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

/**
 * Runs `check` until it costs the server no MGET (a RedisBlocklist's local cache answers from
 * memory): tracking is set up in the background after the store starts.
 */
export async function untilAnsweredFromMemory(redis: Redis, check: () => unknown): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    await check();
    const before = await mgetCalls(redis);
    await check();
    if ((await mgetCalls(redis)) === before) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the local cache never answered');
}
