import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import * as jose from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import {
  type KeyObject,
  constants,
  createHmac,
  createSecretKey,
  generateKeyPairSync,
  randomUUID,
  sign,
  timingSafeEqual,
  verify,
} from 'node:crypto';
import { type JwtAlgorithm, JwtExtendedModule, type JwtExtendedOptions, JwtExtendedService } from 'nestjs-jwt-extended';
import { compare, fmt, table } from './stats.js';

const SECRET = 'bench-secret-that-is-at-least-32-bytes-long';
type Alg = Extract<JwtAlgorithm, 'HS256' | 'RS256' | 'ES256' | 'EdDSA'>;

interface Keys {
  sign: KeyObject;
  verify: KeyObject;
  /** What jsonwebtoken users typically pass. */
  jwtSign: string | KeyObject;
  jwtVerify: string | KeyObject;
}

function keysFor(alg: Alg): Keys {
  if (alg === 'HS256') {
    const key = createSecretKey(Buffer.from(SECRET));
    return { sign: key, verify: key, jwtSign: SECRET, jwtVerify: SECRET };
  }
  const pair =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
        : generateKeyPairSync('ed25519');
  return { sign: pair.privateKey, verify: pair.publicKey, jwtSign: pair.privateKey, jwtVerify: pair.publicKey };
}

const HASH: Record<Alg, string | null> = { HS256: 'sha256', RS256: 'sha256', ES256: 'sha256', EdDSA: null };
const keyOptions = (alg: Alg, key: KeyObject) =>
  alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' as const } : alg === 'RS256' ? { key, padding: constants.RSA_PKCS1_PADDING } : key;

/** The floor: the same claims, JSON and base64url, and one raw node:crypto signature. */
function floorSign(alg: Alg, key: KeyObject): string {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg, typ: 'JWT' };
  const payload = {
    fresh: false,
    iat: now,
    jti: randomUUID(),
    type: 'access',
    sub: 'bench-user',
    nbf: now,
    csrf: randomUUID(),
    exp: now + 900,
  };
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const signature =
    alg === 'HS256' ? createHmac('sha256', key).update(input).digest() : sign(HASH[alg], Buffer.from(input), keyOptions(alg, key));
  return `${input}.${signature.toString('base64url')}`;
}

function floorVerify(alg: Alg, key: KeyObject, token: string): object {
  const [h, p, s] = token.split('.');
  JSON.parse(Buffer.from(h, 'base64url').toString());
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
  const input = `${h}.${p}`;
  const signature = Buffer.from(s, 'base64url');
  const ok =
    alg === 'HS256'
      ? timingSafeEqual(createHmac('sha256', key).update(input).digest(), signature)
      : verify(HASH[alg], Buffer.from(input), keyOptions(alg, key), signature);
  if (!ok || payload.exp <= Date.now() / 1000) throw new Error('floor verify failed');
  return payload;
}

async function service(options: JwtExtendedOptions): Promise<JwtExtendedService> {
  @Module({ imports: [JwtExtendedModule.forRoot(options)] })
  class BenchModule {}
  const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
  return app.get(JwtExtendedService);
}

export async function runMicro(rounds: number, ms: number): Promise<string> {
  const rows: (string | number)[][] = [];
  for (const alg of ['HS256', 'RS256', 'ES256', 'EdDSA'] as Alg[]) {
    const keys = keysFor(alg);
    const base: JwtExtendedOptions =
      alg === 'HS256' ? { secretKey: SECRET } : { algorithm: alg, privateKey: keys.sign, publicKey: keys.verify };
    const cached = await service(base);
    const uncached = await service({ ...base, tokenCacheSize: 0 });
    const token = await cached.createAccessToken('bench-user');
    const joseSignKey = alg === 'HS256' ? new TextEncoder().encode(SECRET) : keys.sign;
    const joseVerifyKey = alg === 'HS256' ? new TextEncoder().encode(SECRET) : keys.verify;
    const claims = () => {
      const now = Math.floor(Date.now() / 1000);
      return { fresh: false, iat: now, jti: randomUUID(), type: 'access', sub: 'bench-user', nbf: now, csrf: randomUUID(), exp: now + 900 };
    };

    const signing = await compare(
      [
        { name: 'floor', run: () => floorSign(alg, keys.sign) },
        { name: 'service', run: () => cached.createAccessToken('bench-user') },
        { name: 'jose', run: () => new jose.SignJWT(claims()).setProtectedHeader({ alg, typ: 'JWT' }).sign(joseSignKey) },
        // jsonwebtoken has no EdDSA
        ...(alg === 'EdDSA'
          ? []
          : [{ name: 'jsonwebtoken', run: () => jsonwebtoken.sign(claims(), keys.jwtSign, { algorithm: alg as jsonwebtoken.Algorithm }) }]),
      ],
      { rounds, ms },
    );
    const verifying = await compare(
      [
        { name: 'floor', run: () => floorVerify(alg, keys.verify, token) },
        { name: 'service', run: () => uncached.decodeToken(token) },
        { name: 'service (token cache)', run: () => cached.decodeToken(token) },
        { name: 'jose', run: () => jose.jwtVerify(token, joseVerifyKey) },
        ...(alg === 'EdDSA' ? [] : [{ name: 'jsonwebtoken', run: () => jsonwebtoken.verify(token, keys.jwtVerify) }]),
      ],
      { rounds, ms },
    );
    for (const [op, results] of [
      ['sign', signing],
      ['verify', verifying],
    ] as const) {
      const floor = results.get('floor')!;
      for (const [name, ops] of results) {
        if (name === 'floor') continue;
        rows.push([alg, op, name, fmt(ops), fmt(floor), `${fmt(floor / ops, 2)}×`]);
      }
    }
  }
  return table(['alg', 'op', 'candidate', 'ops/s', 'floor ops/s', 'floor/candidate (≤ 2 is the target for service)'], rows);
}
