/**
 * BENCH=fleet: the guarded route on every blocklist (in memory, Redis, Redis with local cache)
 * against an open route, a no-op async guard and the raw node:crypto floor, with one hot token and
 * with a distinct token per request (every cache misses); revocation visibility across three
 * instances; heap and RSS after many distinct tokens through the guard with the local cache on.
 */
import autocannon from 'autocannon';
import 'reflect-metadata';
import { Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createHmac, randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { type BlocklistLoader, InMemoryBlocklist, JwtExtendedModule, JwtExtendedService } from 'nestjs-jwt-extended';
import { RedisBlocklist } from 'nestjs-jwt-extended/redis';
import { startServer } from './http.js';
import { startRedis, startRedisCluster } from './redis-servers.js';
import { compare, fmt, median, table } from './stats.js';

const SECRET = 'bench-secret-that-is-at-least-32-bytes-long';
type Adapter = 'fastify' | 'express';
type StoreKind = 'memory' | 'redis' | 'redis-cached';

/** A token as JwtExtendedService makes it (HS256, default claims), signed here with node:crypto. */
function token(user: string): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ fresh: false, iat: now, jti: randomUUID(), type: 'access', sub: user, nbf: now, csrf: 'c', exp: now + 3600 })}`;
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
}

/** The server's CPU time so far (µs), from its `/cpu` route. */
async function serverCpu(url: string): Promise<number> {
  return ((await (await fetch(new URL('/cpu', url))).json()) as { micros: number }).micros;
}

/**
 * Requests per second on `url`, each request carrying the next of `tokens` (one token: a hot
 * token), and the server's CPU time per request: the load generator shares the machine, so
 * throughput moves with everything else running; the server's own CPU time per request much less.
 */
async function load(url: string, tokens: string[], seconds: number): Promise<{ rps: number; p99: number; cpu: number }> {
  let next = 0;
  const cpuBefore = await serverCpu(url);
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    autocannon(
      {
        url,
        connections: 50,
        duration: seconds,
        requests: [{ setupRequest: (req) => ({ ...req, headers: { authorization: `Bearer ${tokens[next++ % tokens.length]}` } }) }],
      },
      (error, finished) => (error ? reject(error) : resolve(finished)),
    );
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  const cpu = ((await serverCpu(url)) - cpuBefore) / result.requests.total;
  return { rps: result.requests.average, p99: result.latency.p99, cpu };
}

/** Seconds of load on a row's server right before each of its measured runs. */
const SETTLE_SECONDS = 1;

interface Row {
  label: string;
  store: StoreKind;
  route: string;
  distinct: boolean;
}
const ROWS: Row[] = [
  { label: '/open (no guard)', store: 'memory', route: 'open', distinct: false },
  { label: 'no-op async guard (sets req.user)', store: 'memory', route: 'noop', distinct: false },
  { label: 'raw node:crypto floor guard', store: 'memory', route: 'floor', distinct: false },
  { label: 'least cached-token guard (header, Map lookup, exp, sets req.user)', store: 'memory', route: 'least', distinct: false },
  { label: '@JwtRequired() + userLookup, InMemoryBlocklist', store: 'memory', route: 'jwt', distinct: false },
  { label: '@JwtRequired() + userLookup, RedisBlocklist', store: 'redis', route: 'jwt', distinct: false },
  { label: '@JwtRequired() + userLookup, RedisBlocklist + localCache', store: 'redis-cached', route: 'jwt', distinct: false },
  { label: 'distinct tokens: raw node:crypto floor guard', store: 'memory', route: 'floor', distinct: true },
  { label: 'distinct tokens: @JwtRequired(), InMemoryBlocklist', store: 'memory', route: 'jwt', distinct: true },
  { label: 'distinct tokens: @JwtRequired(), RedisBlocklist', store: 'redis', route: 'jwt', distinct: true },
  { label: 'distinct tokens: @JwtRequired(), RedisBlocklist + localCache', store: 'redis-cached', route: 'jwt', distinct: true },
  // A/A: the first row again, at the other end of the round. What it reads besides 1.00× is the
  // machine moving between two measurements of the same thing: the noise every ratio carries.
  { label: '/open again, at the other end of the round (A/A)', store: 'memory', route: 'open', distinct: false },
];

export async function runFleet(
  adapters: Adapter[],
  { rounds, seconds, revocations, memoryTokens }: { rounds: number; seconds: number; revocations: number; memoryTokens: number },
): Promise<{ text: string; ratios: Record<string, number> }> {
  const redis = await startRedis();
  const out: string[] = [];
  const ratios: Record<string, number> = {};
  try {
    const hot = [token('bench-user')];
    const distinct = Array.from({ length: 200_000 }, (_, i) => token(`user-${i}`));
    for (const adapter of adapters) {
      const servers = new Map<StoreKind, { port: number; stop: () => Promise<void> }>();
      const samples = new Map<Row, { rps: number; p99: number; cpu: number }[]>(ROWS.map((row) => [row, []]));
      try {
        for (const kind of ['memory', 'redis', 'redis-cached'] as const) {
          servers.set(kind, await startServer([adapter, kind, redis.url], './fleet-server.js'));
        }
        const url = (row: Row) => `http://127.0.0.1:${servers.get(row.store)!.port}/${row.route}`;
        for (const row of ROWS) await load(url(row), row.distinct ? distinct : hot, 1); // warm-up
        for (let round = 0; round < rounds; round++) {
          for (const row of round % 2 ? ROWS.toReversed() : ROWS) {
            const tokens = row.distinct ? distinct : hot;
            // Unmeasured first: a server idle through the other stores' rows had its heap shrunk by
            // V8's memory reducer, and its first seconds of load pay for regrowing it (see bench/README).
            await load(url(row), tokens, SETTLE_SECONDS);
            samples.get(row)!.push(await load(url(row), tokens, seconds));
          }
        }
      } finally {
        await Promise.all([...servers.values()].map((server) => server.stop()));
      }
      const rps = (row: Row) => median(samples.get(row)!.map((s) => s.rps));
      const cpu = (row: Row) => median(samples.get(row)!.map((s) => s.cpu));
      // Per round, then the median: rows of one round share the machine's state (the whole round
      // runs slower when something else wakes up on these two cores), rows of different rounds do not.
      const roundRatios = (row: Row, to: Row) => samples.get(row)!.map((s, round) => s.rps / samples.get(to)![round].rps);
      const ratio = (row: Row, to: Row) => median(roundRatios(row, to));
      const [openRow, noopRow, floorRow, leastRow, memoryRow, , cachedRow, floorDistinctRow, memoryDistinctRow, , , againRow] = ROWS;
      const sameRoute = roundRatios(againRow, openRow);
      const floor = rps(floorRow);
      const [cpuOpen, cpuNoop, , cpuLeast, cpuMemory, , , cpuFloorDistinct, cpuMemoryDistinct] = ROWS.map(cpu);
      ratios[`${adapter}.toOpen`] = ratio(memoryRow, openRow);
      ratios[`${adapter}.noopToOpen`] = ratio(noopRow, openRow);
      ratios[`${adapter}.leastToOpen`] = ratio(leastRow, openRow);
      ratios[`${adapter}.cachedToMemory`] = ratio(cachedRow, memoryRow);
      ratios[`${adapter}.distinctToFloor`] = ratio(memoryDistinctRow, floorDistinctRow);
      out.push(
        `### ${adapter}\n\n` +
          table(
            ['route', 'req/s', 'p99', 'ratio to /open', 'ratio to InMemoryBlocklist (same tokens)', 'server CPU/request'],
            ROWS.map((row) => [
              row.label,
              fmt(rps(row)),
              `${fmt(median(samples.get(row)!.map((s) => s.p99)), 1)} ms`,
              `${fmt(ratio(row, openRow), 2)}×`,
              row.route === 'jwt' ? `${fmt(ratio(row, row.distinct ? memoryDistinctRow : memoryRow), 2)}×` : '—',
              `${fmt(cpu(row), 1)} µs`,
            ]),
          ) +
          `\n\nfloor ${fmt(floor)} req/s with one token; no-op guard ${fmt(ratios[`${adapter}.noopToOpen`], 2)}× /open, least cached-token guard ` +
          `${fmt(ratios[`${adapter}.leastToOpen`], 2)}×. Server CPU per request over /open: no-op guard ${signed(cpuNoop - cpuOpen)} µs, ` +
          `least cached-token guard ${signed(cpuLeast - cpuOpen)} µs, @JwtRequired() + userLookup ${signed(cpuMemory - cpuOpen)} µs; ` +
          `distinct tokens, over the floor guard: ${signed(cpuMemoryDistinct - cpuFloorDistinct)} µs. ` +
          `A/A, /open measured twice in each round: ${fmt(median(sameRoute), 2)}× (rounds ${fmt(Math.min(...sameRoute), 2)}–${fmt(Math.max(...sameRoute), 2)}×).`,
      );
    }
    out.push(await visibility(redis.url, revocations));
    out.push(await invalidationWindow(redis.url, revocations * 4));
    out.push(await inProcess(redis.url, rounds * 2 + 1));
    out.push(await memoryAfter(redis.url, memoryTokens));
  } finally {
    redis.stop();
  }
  return { text: out.join('\n\n'), ratios };
}

/** A difference of CPU times, with its sign: "+1.2", "−0.4"; rounded first, so never "−0.0". */
const signed = (micros: number) => {
  const tenths = Math.round(micros * 10) / 10;
  return `${tenths < 0 ? '−' : '+'}${fmt(Math.abs(tenths), 1)}`;
};

const percentile = (values: number[], p: number) =>
  values.toSorted((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))];

/**
 * Three instances on one Redis: a token is used on all three, revoked through the first; the
 * time from the revocation's response until each other instance refuses it (polled over HTTP,
 * so one loopback round trip is included).
 */
async function visibility(redisUrl: string, revocations: number): Promise<string> {
  const rows = [];
  for (const kind of ['redis', 'redis-cached'] as const) {
    const fleet = await Promise.all([0, 1, 2].map(() => startServer(['fastify', kind, redisUrl], './fleet-server.js')));
    try {
      const urls = fleet.map((server) => `http://127.0.0.1:${server.port}`);
      const times: number[] = [];
      for (let n = 0; n < revocations; n++) {
        const headers = { authorization: `Bearer ${token(`visible-${kind}-${n}`)}` };
        for (const url of urls) for (let i = 0; i < 2; i++) await fetch(`${url}/jwt`, { headers });
        await fetch(`${urls[0]}/logout`, { method: 'DELETE', headers });
        const revoked = performance.now();
        await Promise.all(
          urls.slice(1).map(async (url) => {
            while ((await fetch(`${url}/jwt`, { headers })).status !== 401);
            times.push(performance.now() - revoked);
          }),
        );
      }
      rows.push([
        kind === 'redis' ? 'RedisBlocklist' : 'RedisBlocklist + localCache',
        fmt(times.length),
        ...[0.5, 0.99].map((p) => `${fmt(percentile(times, p), 2)} ms`),
        `${fmt(Math.max(...times), 2)} ms`,
      ]);
    } finally {
      await Promise.all(fleet.map((server) => server.stop()));
    }
  }
  return `### Revocation visible on the other instances (3 Fastify instances, one Redis)\n\n${table(['store', 'samples', 'p50', 'p99', 'max'], rows)}`;
}

/** A Nest application context with the given blocklist class: its JwtExtendedService. */
async function service(blocklist: Type<BlocklistLoader>): Promise<{ jwt: JwtExtendedService; close: () => Promise<void> }> {
  @Module({ imports: [JwtExtendedModule.forRoot({ secretKey: SECRET, loaders: { blocklist } })] })
  class ServiceModule {}
  const ctx = await NestFactory.createApplicationContext(ServiceModule, { logger: false });
  return { jwt: ctx.get(JwtExtendedService), close: () => ctx.close() };
}

/** The guard's verification (`verifyJwtInRequest`, one hot token) in process: no HTTP noise around the store's cost. */
async function inProcess(redisUrl: string, rounds: number): Promise<string> {
  const client = new Redis(redisUrl);
  class Cached extends RedisBlocklist {
    constructor() {
      super(client, { keyPrefix: 'inproc:', localCache: { maxEntries: 1000 } });
    }
  }
  const [memory, cached] = [await service(InMemoryBlocklist), await service(Cached)];
  const hot = token('in-process');
  const request = () => ({ method: 'GET', headers: { authorization: `Bearer ${hot}` } });
  await cached.jwt.verifyJwtInRequest(request());
  await new Promise((resolve) => setTimeout(resolve, 200)); // tracking is up
  const results = await compare(
    [
      { name: 'memory', run: () => memory.jwt.verifyJwtInRequest(request()) },
      { name: 'cached', run: () => cached.jwt.verifyJwtInRequest(request()) },
    ],
    { rounds, ms: 300 },
  );
  await memory.close();
  await cached.close();
  client.disconnect();
  const [m, c] = [results.get('memory')!, results.get('cached')!];
  return (
    `### In process: verifyJwtInRequest, one hot token (median of ${rounds} alternating rounds)\n\n` +
    table(
      ['blocklist', 'verifications/s', 'ratio'],
      [
        ['InMemoryBlocklist', fmt(m), '1.00×'],
        ['RedisBlocklist + localCache', fmt(c), `${fmt(c / m, 2)}×`],
      ],
    )
  );
}

/**
 * The local cache's window without HTTP in the way: a store with a local cache holds a token as
 * "not revoked"; another store (another client) revokes it; the time from that revocation
 * resolving until the first store's check says revoked, polled on every turn of the event loop.
 * On one Redis, and on a 3-master Redis Cluster (tracking on every node).
 */
async function invalidationWindow(redisUrl: string, samples: number): Promise<string> {
  const cluster = await startRedisCluster();
  try {
    const rows = [
      await windowRow('one Redis, in process, two connections', () => new Redis(redisUrl), samples),
      await windowRow('3-master Redis Cluster, in process, two Cluster clients', () => new Cluster(cluster.nodes), samples),
    ];
    return `### The local cache's invalidation window (revocation resolved → another store's cache refuses)\n\n${table(['measured', 'samples', 'p50', 'p99', 'max'], rows)}`;
  } finally {
    cluster.stop();
  }
}

async function windowRow(label: string, connect: () => Redis | Cluster, samples: number): Promise<string[]> {
  const [reader, writer] = [connect(), connect()];
  const cached = new RedisBlocklist(reader, { keyPrefix: 'window:', localCache: { maxEntries: 10_000 } });
  const revoker = new RedisBlocklist(writer, { keyPrefix: 'window:' });
  const now = Math.floor(Date.now() / 1000);
  const times: number[] = [];
  try {
    for (let n = 0; times.length < samples; n++) {
      const payload = { jti: `w-${n}`, sub: `window-${n}`, type: 'access' as const, fresh: false, iat: now, exp: now + 600 };
      await cached.isTokenRevoked({}, payload);
      if (cached.isTokenRevoked({}, payload) !== false) {
        if (n > samples * 100) throw new Error(`${label}: the local cache never answered`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue; // not answered from memory yet (tracking starting)
      }
      await revoker.revokeToken(payload);
      const revoked = performance.now();
      while (cached.isTokenRevoked({}, payload) === false) await new Promise((resolve) => setImmediate(resolve));
      times.push(performance.now() - revoked);
    }
  } finally {
    cached.onModuleDestroy();
    reader.disconnect();
    writer.disconnect();
  }
  return [label, fmt(times.length), ...[0.5, 0.99].map((p) => `${fmt(percentile(times, p), 3)} ms`), `${fmt(Math.max(...times), 3)} ms`];
}

/**
 * `count` distinct tokens (distinct users) through the guard's verification with a
 * RedisBlocklist + localCache of `maxEntries` 100 000 (two keys per token here: 50 000 tokens) and
 * the default verified-token cache (10 000): heap and RSS stay bounded by those caches.
 */
async function memoryAfter(redisUrl: string, count: number): Promise<string> {
  const maxEntries = 100_000;
  const client = new Redis(redisUrl);
  class Store extends RedisBlocklist {
    constructor() {
      super(client, { keyPrefix: 'mem:', localCache: { maxEntries } });
    }
  }
  const { jwt, close } = await service(Store);
  const gc = () => (globalThis as { gc?: () => void }).gc?.();
  const verify = (t: string) => jwt.verifyJwtInRequest({ method: 'GET', headers: { authorization: `Bearer ${t}` } });
  await verify(token('warm'));
  await new Promise((resolve) => setTimeout(resolve, 200)); // tracking is up
  gc();
  const before = process.memoryUsage();
  const samples: number[] = [];
  for (let done = 0; done < count; done += 500) {
    await Promise.all(Array.from({ length: 500 }, (_, i) => verify(token(`m-${done + i}`))));
    if (done % (count / 4) === 0) samples.push(process.memoryUsage().rss);
  }
  gc();
  const after = process.memoryUsage();
  const cachedTokens = Math.min(count, maxEntries / 2);
  const heap = after.heapUsed - before.heapUsed;
  await close();
  client.disconnect();
  const mb = (bytes: number) => `${fmt(bytes / 2 ** 20, 1)} MB`;
  return (
    `### Memory after ${fmt(count)} distinct tokens through the guard (RedisBlocklist + localCache maxEntries ${fmt(maxEntries)}, tokenCacheSize 10,000)\n\n` +
    table(
      ['', 'before', 'after', 'growth'],
      [
        ['heap used', mb(before.heapUsed), mb(after.heapUsed), mb(heap)],
        ['RSS', mb(before.rss), mb(after.rss), mb(after.rss - before.rss)],
      ],
    ) +
    `\n\nRSS along the run: ${samples.map(mb).join(' → ')}. Heap growth per cached token (${fmt(cachedTokens)} in the local cache, 2 keys each, plus 10,000 verified tokens): ${fmt(heap / (cachedTokens + 10_000))} bytes.`
  );
}
