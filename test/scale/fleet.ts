import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type FleetInstanceConfig, fleetEnv } from './fleet-config.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Fleet {
  /** Base URL of each instance, in start order. */
  urls: string[];
  stop(): Promise<void>;
}

/**
 * Starts one app process per config, side by side, each on its own loopback port; resolves
 * once all listen. The processes run the TypeScript sources (see register-ts.mjs).
 */
export async function startFleet(configs: FleetInstanceConfig[]): Promise<Fleet> {
  const children: ChildProcess[] = [];
  const stop = () =>
    Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    ).then(() => undefined);
  try {
    const ports = await Promise.all(
      configs.map((config) => {
        const child = spawn(process.execPath, ['--import', './test/scale/register-ts.mjs', 'test/scale/app-process.ts'], {
          cwd: ROOT,
          env: { ...process.env, ...fleetEnv(config) },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        children.push(child);
        return new Promise<number>((resolve, reject) => {
          createInterface({ input: child.stdout! }).on('line', (line) => line.startsWith('READY ') && resolve(Number(line.slice(6))));
          child.once('exit', (code) => reject(new Error(`fleet instance ${config.name} exited with ${code}`)));
        });
      }),
    );
    return { urls: ports.map((port) => `http://127.0.0.1:${port}`), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
