import { type Sample, benchToken, load, startServer } from './http.js';
import { fmt, median, table } from './stats.js';

/** The two operations: the same GraphQL request shape, with and without the guard. */
const OPERATIONS = { open: '{ open }', guarded: '{ me }' } as const;
type Operation = keyof typeof OPERATIONS;
const NAMES = Object.keys(OPERATIONS) as Operation[];

/**
 * A guarded GraphQL query (`@JwtRequired()`, header token) against an unguarded one, on one driver
 * (Apollo on Express, Mercurius on Fastify). Operations alternate round by round; medians.
 */
export async function runGraphql(
  adapter: 'express' | 'fastify',
  rounds: number,
  seconds: number,
  connections: number,
): Promise<{ text: string; ratio: number }> {
  const token = await benchToken();
  const server = await startServer([adapter], './graphql-server.js');
  try {
    const url = `http://127.0.0.1:${server.port}/graphql`;
    const post = (operation: Operation) => ({
      method: 'POST' as const,
      body: JSON.stringify({ query: OPERATIONS[operation] }),
      headers: { 'content-type': 'application/json' },
    });
    const run = (operation: Operation, duration: number) => load(url, token, duration, connections, post(operation));
    // GraphQL answers a refused query with 200 too: check once that both succeed.
    for (const operation of NAMES) {
      const { headers, ...request } = post(operation);
      const res = await fetch(url, { ...request, headers: { ...headers, authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { errors?: unknown };
      if (body.errors) throw new Error(`${OPERATIONS[operation]}: ${JSON.stringify(body.errors)}`);
    }
    for (const operation of NAMES) await run(operation, 1); // warm-up
    const samples = new Map<Operation, Sample[]>(NAMES.map((name) => [name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const operation of round % 2 ? NAMES.toReversed() : NAMES) samples.get(operation)!.push(await run(operation, seconds));
    }
    const result = new Map(
      NAMES.map((name) => {
        const s = samples.get(name)!;
        return [name, { rps: median(s.map((x) => x.rps)), p50: median(s.map((x) => x.p50)), p99: median(s.map((x) => x.p99)) }];
      }),
    );
    const open = result.get('open')!.rps;
    const label: Record<Operation, string> = { open: '{ open } (no guard)', guarded: '{ me } @JwtRequired()' };
    const rows = NAMES.map((name) => {
      const x = result.get(name)!;
      return [label[name], fmt(x.rps), `${fmt(x.p50, 1)} ms`, `${fmt(x.p99, 1)} ms`, `${fmt(x.rps / open, 2)}×`];
    });
    const driver = adapter === 'express' ? 'Apollo on Express' : 'Mercurius on Fastify';
    return { text: table([`${driver} query`, 'req/s', 'p50', 'p99', 'ratio to { open }'], rows), ratio: result.get('guarded')!.rps / open };
  } finally {
    await server.stop();
  }
}
