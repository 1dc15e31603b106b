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

interface Shape {
  name: string;
  options: JwtExtendedOptions;
  /** What the hostile padding repeats. */
  unit: string;
  /** A request with `padding` placed so that the parser reads all of it and still finds the token ('' gives the plain request). */
  request: (token: string, padding: string) => { method: string; headers: Record<string, string>; body?: object };
}

const SHAPES: Shape[] = [
  {
    name: 'Authorization: Bearer <JWT>, commas, word',
    options: {},
    unit: ',',
    request: (token, padding) => ({ method: 'GET', headers: { authorization: `Bearer ${token},${padding} x` } }),
  },
  {
    name: 'Authorization: Bearer <JWT>, " ," runs, word',
    options: {},
    unit: ' ,',
    request: (token, padding) => ({ method: 'GET', headers: { authorization: `Bearer ${token},${padding} x` } }),
  },
  {
    name: 'Authorization: Bearer, spaces, <JWT>',
    options: {},
    unit: ' ',
    request: (token, padding) => ({ method: 'GET', headers: { authorization: `Bearer ${padding}${token}` } }),
  },
  {
    name: 'Cookie: "a=b; " runs, token cookie',
    options: { tokenLocation: 'cookies' },
    unit: 'a=b; ',
    request: (token, padding) => ({ method: 'GET', headers: { cookie: `${padding}access_token_cookie=${token}` } }),
  },
  {
    name: 'Content-Type: application/json, spaces, ;charset',
    options: { tokenLocation: 'json' },
    unit: ' ',
    request: (token, padding) => ({
      method: 'POST',
      headers: { 'content-type': `application/json${padding};charset=utf-8` },
      body: { access_token: token },
    }),
  },
];

/**
 * Header parsing cost against header size: `verifyJwtInRequest` on request-like objects whose
 * header holds 1 KB, 16 KB and 1 MB of hostile padding around a valid token (the token cache
 * serves the decode, so the time is the extraction's). Linear parsing keeps ns per character flat.
 */
export async function runParse(rounds: number, ms: number): Promise<string> {
  const rows: (string | number)[][] = [];
  for (const shape of SHAPES) {
    const jwt = await service(shape.options);
    const token = await jwt.createAccessToken('bench-user');
    const baseline = shape.request(token, '');
    const paddings = SIZES.map((size) => shape.unit.repeat(Math.ceil(size / shape.unit.length)));
    const candidates = [
      { name: 'none', run: () => jwt.verifyJwtInRequest(baseline) },
      ...paddings.map((padding) => {
        const req = shape.request(token, padding);
        return { name: String(padding.length), run: () => jwt.verifyJwtInRequest(req) };
      }),
    ];
    // Every candidate must verify: a parser that rejected the padded requests would measure nothing.
    for (const candidate of candidates) await candidate.run();
    const results = await compare(candidates, { rounds, ms });
    const base = 1e9 / results.get('none')!;
    for (const { length } of paddings) {
      const perCall = 1e9 / results.get(String(length))!;
      rows.push([shape.name, fmt(length), `${fmt(perCall / 1000, 1)} µs`, fmt((perCall - base) / length, 2)]);
    }
  }
  return table(['hostile input', 'padding (chars)', 'per call', 'ns per padding char (above the no-padding call)'], rows);
}
