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

/**
 * What revoking keeps of a token, as the decoder hands it over (parsed out of a whole
 * payload's JSON text): its jti and identity. `perIdentity` tokens share an identity.
 */
const revocable = (n: number, perIdentity: number) => {
  const { jti, sub } = JSON.parse(
    `{"fresh":false,"iat":1795891211,"jti":"${randomUUID()}","type":"access","sub":"user-${Math.floor(n / perIdentity)}","nbf":1795891211,"exp":1795892111}`,
  ) as { jti: string; sub: string };
  return { jti, sub };
};
// A logout revokes the access and the refresh token: two entries per identity.
const PER_LOGOUT = 2;

const gc = () => (globalThis as { gc?: () => void }).gc?.();
/** The heap once garbage is collected and settled: a single pass can leave garbage counted. */
const settledHeap = async () => {
  for (let pass = 0; pass < 3; pass++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return process.memoryUsage().heapUsed;
};

/**
 * The guard's whole verification (extract, decode, blocklist) per request, against
 * blocklists of 10, 10k and 1M revoked tokens: three apps side by side, alternating.
 */
export async function runScale(rounds: number, ms: number): Promise<string> {
  // first, before the other phases leave garbage behind
  const memory = [await memoryPerEntry(1), await memoryPerEntry(PER_LOGOUT)].join('\n\n');
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const sizes = [10, 10_000, 1_000_000];
  const candidates = [];
  const stores: InMemoryBlocklist[] = [];
  for (const size of sizes) {
    const { jwt, blocklist } = await app();
    stores.push(blocklist);
    // jti and identity strings as a decoded payload holds them (flat strings from JSON.parse)
    for (let n = 0; blocklist.size < size; n++) await blocklist.revokeToken({ ...revocable(n, PER_LOGOUT), exp });
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

/**
 * Heap of a fresh store holding 1M revoked tokens, per entry, with the jti and identity
 * strings it keeps: one identity per token (the worst case) or a few. Tokens are made
 * one at a time, so nothing but the store outlives the loop.
 */
async function memoryPerEntry(perIdentity: number): Promise<string> {
  const count = 1_000_000;
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const before = await settledHeap();
  const store = new InMemoryBlocklist();
  for (let n = 0; n < count; n++) await store.revokeToken({ ...revocable(n, perIdentity), exp });
  const perEntry = ((await settledHeap()) - before) / count;
  store.onModuleDestroy();
  const identities = perIdentity === 1 ? 'each of its own identity' : `${perIdentity} per identity`;
  return `In-memory store, ${fmt(count)} revoked tokens ${identities}: ${fmt(perEntry)} bytes of heap per entry, its jti and identity strings included.`;
}
