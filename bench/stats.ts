/** Small helpers: alternate candidates round by round, report medians and ratios. */

export function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export interface Candidate {
  name: string;
  /** One operation; may be async. */
  run: () => unknown;
}

/** Operations per second of `run` over about `ms` milliseconds (batched to keep timer cost out). */
async function opsPerSecond(run: () => unknown, ms: number): Promise<number> {
  let ops = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ms) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 64; i++) {
      const result = run();
      if (result instanceof Promise) await result;
    }
    ops += 64;
    now = process.hrtime.bigint();
  }
  return ops / (Number(now - start) / 1e9);
}

/**
 * Runs every candidate for `ms` per round, alternating order, after a warm-up round;
 * returns the median ops/s of each.
 */
export async function compare(candidates: Candidate[], { rounds = 7, ms = 150 } = {}): Promise<Map<string, number>> {
  for (const c of candidates) await opsPerSecond(c.run, ms); // warm-up (JIT, caches)
  const samples = new Map(candidates.map((c) => [c.name, [] as number[]]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 ? candidates.toReversed() : candidates;
    for (const c of order) samples.get(c.name)!.push(await opsPerSecond(c.run, ms));
  }
  return new Map([...samples].map(([name, values]) => [name, median(values)]));
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function table(headers: string[], rows: (string | number)[][]): string {
  const lines = [headers, headers.map(() => '---'), ...rows.map((r) => r.map(String))];
  return lines.map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}
