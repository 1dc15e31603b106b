/** How one fleet instance is configured: `fleet.ts` writes it into the environment, `app-process.ts` reads it back. */
export interface FleetInstanceConfig {
  /** Shown in responses, to tell instances apart. */
  name: string;
  adapter: 'express' | 'fastify';
  redis: { url: string } | { cluster: { host: string; port: number }[] };
  keyPrefix: string;
  /** `localCache.maxEntries` of the instance's `RedisBlocklist`; 0 or absent: no local cache. */
  localCache?: number;
  secret: string;
  /** Refresh-token rotation on, with a `RedisRefreshTokenStore` on the same Redis; absent: no rotation. */
  rotation?: { reuseInterval: number };
}

const VARIABLE = 'FLEET_INSTANCE';

export function fleetEnv(config: FleetInstanceConfig): Record<string, string> {
  return { [VARIABLE]: JSON.stringify(config) };
}

export function readFleetConfig(env: NodeJS.ProcessEnv): FleetInstanceConfig {
  const text = env[VARIABLE];
  if (!text) throw new Error(`${VARIABLE} is not set: start instances through test/scale/fleet.ts`);
  return JSON.parse(text) as FleetInstanceConfig;
}
