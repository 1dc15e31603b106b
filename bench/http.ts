import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { fmt, median, table } from './stats.js';

const SECRET = 'bench-secret-that-is-at-least-32-bytes-long';
const ROUTES = ['open', 'jwt', 'hmac', 'jose', 'passport'] as const;
type Route = (typeof ROUTES)[number];

export interface Sample {
  rps: number;
  p50: number;
  p99: number;
}

/** A bench server script (next to this file) in its own process; resolves with the port it prints. */
export async function startServer(args: string[], script = './http-server.js'): Promise<{ port: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [fileURLToPath(new URL(script, import.meta.url)), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    lines.on('line', (line) => line.startsWith('READY ') && resolve(Number(line.slice(6))));
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return { port, stop };
}

/** One autocannon run against `url` with the bearer token (plus a method and body where given). */
export function load(
  url: string,
  token: string,
  seconds: number,
  connections: number,
  request: { method?: 'GET' | 'POST'; body?: string; headers?: Record<string, string> } = {},
): Promise<Sample> {
  return new Promise((resolve, reject) => {
    // autocannon refuses an explicit `method: undefined`: only the given fields are passed.
    const { headers, ...rest } = request;
    autocannon(
      { url, connections, duration: seconds, ...rest, headers: { authorization: `Bearer ${token}`, ...headers } },
      (error, result) => {
        if (error) return reject(error);
        if (result.non2xx > 0 || result.errors > 0) return reject(new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`));
        resolve({ rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 });
      },
    );
  });
}

/** The token every route sees: HS256, default claims, as JwtExtendedService makes them. */
export function benchToken(): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ fresh: false, type: 'access', jti: 'bench', csrf: 'bench', nbf: now })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject('bench-user')
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(new TextEncoder().encode(SECRET));
}

/** Routes alternate round by round; each route's numbers are the medians of its rounds. */
export async function runHttp(
  adapter: 'express' | 'fastify',
  rounds: number,
  seconds: number,
  connections: number,
): Promise<{ text: string; ratios: Record<string, number> }> {
  const token = await benchToken();
  const server = await startServer([adapter]);
  try {
    const base = `http://127.0.0.1:${server.port}`;
    for (const route of ROUTES) await load(`${base}/${route}`, token, 1, connections); // warm-up
    const samples = new Map<Route, Sample[]>(ROUTES.map((r) => [r, []]));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 ? ROUTES.toReversed() : ROUTES;
      for (const route of order) samples.get(route)!.push(await load(`${base}/${route}`, token, seconds, connections));
    }
    const result = new Map(
      ROUTES.map((r) => {
        const s = samples.get(r)!;
        return [r, { rps: median(s.map((x) => x.rps)), p50: median(s.map((x) => x.p50)), p99: median(s.map((x) => x.p99)) }];
      }),
    );
    const open = result.get('open')!.rps;
    const jwt = result.get('jwt')!.rps;
    const label: Record<Route, string> = {
      open: '/open (no guard)',
      jwt: '@JwtRequired()',
      hmac: 'raw HMAC guard (reference)',
      jose: 'hand-written jose jwtVerify guard',
      passport: 'passport-jwt + @nestjs/passport',
    };
    const rows = ROUTES.map((r) => {
      const x = result.get(r)!;
      return [
        label[r],
        fmt(x.rps),
        `${fmt(x.p50, 1)} ms`,
        `${fmt(x.p99, 1)} ms`,
        `${fmt(x.rps / open, 2)}×`,
        r === 'jwt' ? '—' : `${fmt(jwt / x.rps, 2)}×`,
      ];
    });
    return {
      text: table([`${adapter} route`, 'req/s', 'p50', 'p99', 'ratio to /open', '@JwtRequired() ÷ this'], rows),
      ratios: {
        toOpen: jwt / open,
        toPassport: jwt / result.get('passport')!.rps,
        toJose: jwt / result.get('jose')!.rps,
        hmacToOpen: result.get('hmac')!.rps / open,
      },
    };
  } finally {
    await server.stop();
  }
}
