import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type KeyObject, generateKeyPairSync, sign } from 'node:crypto';
import { createServer } from 'node:http';
import { JwtExtendedModule, type JwtExtendedOptions, JwtExtendedService } from 'nestjs-jwt-extended';
import { compare, fmt, table } from './stats.js';

const ISSUER = 'https://idp.bench';

/** A service of its own with these options; the verified-token cache off, so every decode verifies. */
async function service(options: JwtExtendedOptions): Promise<JwtExtendedService> {
  @Module({ imports: [JwtExtendedModule.forRoot({ tokenCacheSize: 0, ...options })] })
  class KeysBenchModule {}
  const ctx = await NestFactory.createApplicationContext(KeysBenchModule, { logger: false });
  return ctx.get(JwtExtendedService);
}

/** An EdDSA token signed outside the library, as another service or an identity provider would. */
function token(key: KeyObject, kid: string, claims: object = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const segment = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${segment({ alg: 'EdDSA', typ: 'JWT', kid })}.${segment({ sub: 'bench-user', iat: now, exp: now + 3600, ...claims })}`;
  return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
}

/**
 * Verification (`decodeToken`, token cache off) with 1, 10 and 100 keys chosen by `kid`: the
 * token names the last key, so a lookup that scanned the keys would slow down 100-fold.
 */
async function byKeyCount(rounds: number, ms: number): Promise<string> {
  const counts = [1, 10, 100];
  const pairs = Array.from({ length: 100 }, () => generateKeyPairSync('ed25519'));
  const candidates = [];
  for (const count of counts) {
    const [current, ...older] = pairs.slice(0, count);
    const jwt = await service({
      algorithm: 'EdDSA',
      privateKey: current.privateKey,
      verificationKeys: older.map((pair, index) => ({ kid: `old-${index}`, algorithm: 'EdDSA' as const, key: pair.publicKey })),
    });
    // The same token shape for every count: signed outside the library, naming the last key.
    const currentKid = jwt.getUnverifiedJwtHeaders(await jwt.createAccessToken('bench-user')).kid!;
    const last = count === 1 ? token(current.privateKey, currentKid) : token(older.at(-1)!.privateKey, `old-${count - 2}`);
    candidates.push({ name: String(count), run: () => jwt.decodeToken(last) });
  }
  const results = await compare(candidates, { rounds, ms });
  const one = results.get('1')!;
  return table(
    ['keys', 'verifications/s', 'vs 1 key'],
    counts.map((count) => [fmt(count), fmt(results.get(String(count))!), `${fmt(results.get(String(count))! / one, 2)}×`]),
  );
}

/** A trusted issuer's token once its key set is cached, against the same key configured locally. */
async function remoteVsConfigured(rounds: number, ms: number): Promise<string> {
  const pair = generateKeyPairSync('ed25519');
  const jwks = JSON.stringify({ keys: [{ ...pair.publicKey.export({ format: 'jwk' }), kid: 'idp-1', alg: 'EdDSA', use: 'sig' }] });
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(jwks));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const jwksUri = `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks.json`;
  try {
    const remote = await service({
      secretKey: 'bench-secret-that-is-at-least-32-bytes-long',
      trustedIssuers: [{ issuer: ISSUER, jwksUri, algorithms: ['EdDSA'] }],
    });
    const configured = await service({ algorithm: 'EdDSA', publicKey: pair.publicKey, keyId: 'idp-1' });
    const remoteToken = token(pair.privateKey, 'idp-1', { iss: ISSUER });
    const localToken = token(pair.privateKey, 'idp-1');
    await remote.decodeToken(remoteToken); // fetches and caches the key set
    const results = await compare(
      [
        { name: 'configured key', run: () => configured.decodeToken(localToken) },
        { name: 'trusted issuer (key set cached)', run: () => remote.decodeToken(remoteToken) },
      ],
      { rounds, ms },
    );
    const base = results.get('configured key')!;
    return table(
      ['verification', 'verifications/s', 'vs configured key'],
      [...results].map(([name, ops]) => [name, fmt(ops), `${fmt(ops / base, 2)}×`]),
    );
  } finally {
    server.close();
  }
}

export async function runKeys(rounds: number, ms: number): Promise<string> {
  return [
    '### Verification by kid with 1, 10 and 100 keys (EdDSA, token cache off)\n',
    await byKeyCount(rounds, ms),
    '\n### Trusted issuer after its key set is cached vs the same key configured (EdDSA, token cache off)\n',
    await remoteVsConfigured(rounds, ms),
  ].join('\n');
}
