import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import { InMemoryBlocklist, JwtExtendedModule, JwtExtendedService } from 'nestjs-jwt-extended';
import { compare, fmt, table } from './stats.js';

const SECRET = 'bench-secret-that-is-at-least-32-bytes-long';

async function app(): Promise<{ jwt: JwtExtendedService; blocklist: InMemoryBlocklist }> {
  @Module({ imports: [JwtExtendedModule.forRoot({ secretKey: SECRET, loaders: { blocklist: InMemoryBlocklist } })] })
  class ScaleModule {}
  const ctx = await NestFactory.createApplicationContext(ScaleModule, { logger: false });
  return { jwt: ctx.get(JwtExtendedService), blocklist: ctx.get(InMemoryBlocklist) };
}

/** A jti as the decoder hands it over: parsed out of a whole payload's JSON text. */
const payloadJti = () =>
  (
    JSON.parse(
      `{"fresh":false,"iat":1795891211,"jti":"${randomUUID()}","type":"access","sub":"bench-user","nbf":1795891211,"exp":1795892111}`,
    ) as { jti: string }
  ).jti;

const gc = () => (globalThis as { gc?: () => void }).gc?.();

/**
 * The guard's whole verification (extract, decode, blocklist) per request, against
 * blocklists of 10, 10k and 1M revoked tokens: three apps side by side, alternating.
 */
export async function runScale(rounds: number, ms: number): Promise<string> {
  const memory = await memoryPerEntry(); // first, before the other phases leave garbage behind
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const sizes = [10, 10_000, 1_000_000];
  const candidates = [];
  const stores: InMemoryBlocklist[] = [];
  for (const size of sizes) {
    const { jwt, blocklist } = await app();
    stores.push(blocklist);
    // jti strings as a decoded payload holds them (flat strings from JSON.parse)
    while (blocklist.size < size) await blocklist.revokeToken({ jti: payloadJti(), exp });
    const token = await jwt.createAccessToken('bench-user');
    candidates.push({
      name: String(size),
      run: () => jwt.verifyJwtInRequest({ method: 'GET', headers: { authorization: `Bearer ${token}` } }),
    });
  }
  gc();
  const results = await compare(candidates, { rounds, ms });
  const baseline = results.get('10')!;
  const rows = sizes.map((size) => {
    const ops = results.get(String(size))!;
    return [fmt(size), fmt(ops), `${fmt(1e6 / ops, 2)} µs`, `${fmt(ops / baseline, 2)}×`];
  });
  for (const store of stores) store.onModuleDestroy();
  return `${table(['revoked tokens', 'verifications/s', 'latency', 'throughput vs 10 entries'], rows)}\n\n${memory}`;
}

/** Heap of a fresh store holding 1M revoked tokens, per entry, with and without the jti strings it keeps alive. */
async function memoryPerEntry(): Promise<string> {
  const count = 1_000_000;
  const exp = Math.floor(Date.now() / 1000) + 3600;
  gc();
  const start = process.memoryUsage().heapUsed;
  // jti strings as a decoded payload holds them: parsed out of a payload's JSON text
  let jtis: string[] | undefined = Array.from({ length: count }, () => payloadJti());
  gc();
  const afterStrings = process.memoryUsage().heapUsed;
  const store = new InMemoryBlocklist();
  for (const jti of jtis) await store.revokeToken({ jti, exp });
  gc();
  const ownStructures = (process.memoryUsage().heapUsed - afterStrings) / count;
  jtis = undefined;
  gc();
  const total = (process.memoryUsage().heapUsed - start) / count;
  store.onModuleDestroy();
  return `In-memory store, ${fmt(count)} revoked tokens: ${fmt(total)} bytes of heap per entry including its 36-character jti string (${fmt(ownStructures)} bytes for the store's own structures).`;
}
