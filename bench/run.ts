/**
 * `npm run bench`: micro (sign/verify), HTTP (Fastify and Express), blocklist scale, and
 * header parsing cost against header size.
 * Ratios are the result: absolute numbers on a shared 2-core machine are noise.
 * BENCH=micro|http|scale|parse|graphql|ws|keys|rotation|fleet runs one part; BENCH_ADAPTER=fastify|express one adapter;
 * BENCH_QUICK=1 shortens every part.
 */
import { runGraphql } from './graphql.js';
import { runFleet } from './fleet.js';
import { runHttp } from './http.js';
import { runKeys } from './keys.js';
import { runMicro } from './micro.js';
import { runParse } from './parse.js';
import { runRotation } from './rotation.js';
import { runScale } from './scale.js';
import { runWs } from './ws.js';

const only = process.env.BENCH;
const quick = process.env.BENCH_QUICK === '1';
const out = (line = '') => console.log(line);

out(`# nestjs-jwt-extended benchmarks — ${new Date().toISOString()}, Node ${process.version}, ${quick ? 'quick' : 'full'} run`);
const verdicts: string[] = [];
const check = (ok: boolean, text: string) => verdicts.push(`${ok ? 'MET    ' : 'NOT MET'}  ${text}`);

if (!only || only === 'micro') {
  out('\n## Sign and verify (ops/s, median of alternating rounds)\n');
  out(await runMicro(quick ? 3 : 7, quick ? 80 : 200));
}
if (!only || only === 'http') {
  const adapters = (process.env.BENCH_ADAPTER ? [process.env.BENCH_ADAPTER] : ['fastify', 'express']) as ('fastify' | 'express')[];
  for (const adapter of adapters) {
    out(`\n## HTTP on ${adapter} (autocannon, 50 connections, separate process, 127.0.0.1)\n`);
    const { text, ratios } = await runHttp(adapter, quick ? 1 : 3, quick ? 2 : 5, 50);
    out(text);
    out(`\nraw-HMAC reference guard: ${ratios.hmacToOpen.toFixed(2)}× /open`);
    if (adapter === 'fastify') {
      check(ratios.toOpen >= 0.6, `fastify: @JwtRequired() ${ratios.toOpen.toFixed(2)}× /open (target ≥ 0.6)`);
      check(ratios.toPassport >= 8, `fastify: @JwtRequired() ${ratios.toPassport.toFixed(2)}× passport-jwt (target ≥ 8)`);
      check(ratios.toJose >= 1.3, `fastify: @JwtRequired() ${ratios.toJose.toFixed(2)}× hand-written jose guard (target ≥ 1.3)`);
    } else {
      check(ratios.toOpen >= 0.9, `express: @JwtRequired() ${ratios.toOpen.toFixed(2)}× /open (target ≥ 0.9)`);
    }
  }
}
if (!only || only === 'scale') {
  out('\n## Guard verification with an in-memory blocklist of growing size\n');
  out(await runScale(quick ? 3 : 5, quick ? 80 : 200));
}
if (!only || only === 'parse') {
  out('\n## Header parsing cost against header size (verifyJwtInRequest, hostile padding around a valid token)\n');
  out(await runParse(quick ? 3 : 5, quick ? 80 : 200));
}
if (!only || only === 'graphql') {
  const adapters = (process.env.BENCH_ADAPTER ? [process.env.BENCH_ADAPTER] : ['fastify', 'express']) as ('fastify' | 'express')[];
  for (const adapter of adapters) {
    out(`\n## GraphQL on ${adapter} (autocannon POST /graphql, 50 connections, separate process, 127.0.0.1)\n`);
    const { text, ratio } = await runGraphql(adapter, quick ? 1 : 3, quick ? 2 : 5, 50);
    out(text);
    out(`\nguarded query: ${ratio.toFixed(2)}× the unguarded one`);
  }
}
if (!only || only === 'ws') {
  out('\n## WebSocket messages: the guard on every message vs an unguarded handler (in-process client, 127.0.0.1)\n');
  out(await runWs(quick ? 3 : 7, quick ? 150 : 400));
}
if (!only || only === 'keys') {
  out('\n## Keys: lookup by kid and trusted issuers\n');
  out(await runKeys(quick ? 3 : 7, quick ? 80 : 200));
}
if (!only || only === 'rotation') {
  out('\n## Refresh-token rotations (verify + rotateRefreshToken, one chain, ops/s, median of alternating rounds)\n');
  out(await runRotation(quick ? 3 : 7, quick ? 80 : 200));
}
if (!only || only === 'fleet') {
  out('\n## Fleet: blocklists on Redis, local cache, revocation visibility (autocannon, 50 connections)\n');
  const adapters = (process.env.BENCH_ADAPTER ? [process.env.BENCH_ADAPTER] : ['fastify', 'express']) as ('fastify' | 'express')[];
  const { text, ratios } = await runFleet(adapters, {
    rounds: quick ? 1 : 9,
    seconds: 2,
    revocations: quick ? 50 : 300,
    memoryTokens: quick ? 100_000 : 1_000_000,
  });
  out(text);
  // Three decimals: a ratio just under its target must not print as the target itself.
  if (ratios['fastify.toOpen'] !== undefined) {
    check(
      ratios['fastify.toOpen'] >= 0.85,
      `fastify: @JwtRequired() + userLookup ${ratios['fastify.toOpen'].toFixed(3)}× /open (target ≥ 0.85; no-op guard ${ratios['fastify.noopToOpen'].toFixed(2)}×)`,
    );
  }
  for (const adapter of adapters) {
    check(
      ratios[`${adapter}.cachedToMemory`] >= 0.9,
      `${adapter}: RedisBlocklist + localCache ${ratios[`${adapter}.cachedToMemory`].toFixed(3)}× InMemoryBlocklist (target ≥ 0.9)`,
    );
    check(
      ratios[`${adapter}.distinctToFloor`] >= 0.9,
      `${adapter}: distinct tokens ${ratios[`${adapter}.distinctToFloor`].toFixed(3)}× the raw floor guard (target ≥ 0.9)`,
    );
  }
}
if (verdicts.length) out(`\n## Targets\n\n${verdicts.map((v) => `    ${v}`).join('\n')}`);
process.exit(0);
