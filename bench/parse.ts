import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { JwtExtendedModule, type JwtExtendedOptions, JwtExtendedService } from 'nestjs-jwt-extended';
import { compare, fmt, table } from './stats.js';

const SECRET = 'bench-secret-that-is-at-least-32-bytes-long';
const SIZES = [1024, 16 * 1024, 1024 * 1024];

async function service(options: JwtExtendedOptions): Promise<JwtExtendedService> {
  @Module({ imports: [JwtExtendedModule.forRoot({ secretKey: SECRET, ...options })] })
  class ParseModule {}
  const app = await NestFactory.createApplicationContext(ParseModule, { logger: false });
  return app.get(JwtExtendedService);
}

/** `unit` repeated to `size` characters. */
const fill = (unit: string, size: number) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

interface Shape {
  name: string;
  options: JwtExtendedOptions;
  /** A request whose hostile part is `size` characters, built so that the parser reads all of it and still finds the token. */
  request: (token: string, size: number) => { method: string; headers: Record<string, string>; body?: object };
}

const SHAPES: Shape[] = [
  {
    name: 'Authorization: Bearer <JWT> + commas + word',
    options: {},
    request: (token, size) => ({ method: 'GET', headers: { authorization: `Bearer ${token}${fill(',', size)}x` } }),
  },
  {
    name: 'Authorization: Bearer <JWT> + " ," runs + word',
    options: {},
    request: (token, size) => ({ method: 'GET', headers: { authorization: `Bearer ${token}${fill(' ,', size)}x` } }),
  },
  {
    name: 'Authorization: Bearer + spaces + <JWT>',
    options: {},
    request: (token, size) => ({ method: 'GET', headers: { authorization: `Bearer${fill(' ', size)}${token}` } }),
  },
  {
    name: 'Cookie: "a=b; " runs + token cookie',
    options: { tokenLocation: 'cookies' },
    request: (token, size) => ({ method: 'GET', headers: { cookie: `${fill('a=b; ', size)}access_token_cookie=${token}` } }),
  },
  {
    name: 'Content-Type: application/json + spaces + ;charset',
    options: { tokenLocation: 'json' },
    request: (token, size) => ({
      method: 'POST',
      headers: { 'content-type': `application/json${fill(' ', size)};charset=utf-8` },
      body: { access_token: token },
    }),
  },
];

/**
 * Header parsing cost against header size: `verifyJwtInRequest` on request-like objects whose
 * header holds 1 KB, 16 KB and 1 MB of hostile padding around a valid token (the token cache
 * serves the decode, so the time is the extraction's). Linear parsing keeps ns/byte flat.
 */
export async function runParse(rounds: number, ms: number): Promise<string> {
  const rows: (string | number)[][] = [];
  for (const shape of SHAPES) {
    const jwt = await service(shape.options);
    const token = await jwt.createAccessToken('bench-user');
    const baseline = shape.request(token, 0);
    const candidates = [
      { name: '0', run: () => jwt.verifyJwtInRequest(baseline) },
      ...SIZES.map((size) => {
        const req = shape.request(token, size);
        return { name: String(size), run: () => jwt.verifyJwtInRequest(req) };
      }),
    ];
    const results = await compare(candidates, { rounds, ms });
    const base = 1e9 / results.get('0')!;
    for (const size of SIZES) {
      const perCall = 1e9 / results.get(String(size))!;
      rows.push([shape.name, fmt(size), `${fmt(perCall / 1000, 1)} µs`, fmt((perCall - base) / size, 2)]);
    }
  }
  return table(['hostile input', 'padding (chars)', 'per call', 'ns per padding char (above the no-padding call)'], rows);
}
