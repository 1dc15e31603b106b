import { Injectable } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import type { DecodeKeyLoader } from '../../lib/index.js';
import { ADAPTERS, SECRET, createTestApp, type TestApp } from '../support/app.js';
import { b64, forgeHmac, now } from '../support/forge.js';
import { handlerRuns } from '../support/http.js';
import { TargetController } from '../support/routes.js';

/*
 * Finding (low): with a decodeKey loader, the unverified header and payload are deep-frozen
 * (recursively) before the signature is checked, so an unauthenticated client can send a claim
 * nested deeply enough to overflow the stack: the answer is a 500 (and an error log with a stack)
 * instead of the 422 of §6 ("any other malformed token → 422"). It needs a maxTokenLength above
 * the default (allowed without upper bound) and the json location (headers are capped at 16 KB).
 */

@Injectable()
class Keys implements DecodeKeyLoader {
  decodeKey() {
    return SECRET;
  }
}

describe.each(ADAPTERS)('a deeply nested unverified claim with a decodeKey loader (%s)', (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(adapter, {
      options: { maxTokenLength: 90_000, tokenLocation: ['json'] },
      loaders: { decodeKey: Keys },
      controllers: [TargetController],
    });
  });
  afterAll(() => t.close());

  it('is refused with 422, never a 500', async () => {
    const depth = 30_000;
    const payload = `{"sub":"x","iat":${now()},"exp":${now() + 600},"deep":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const token = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}.${b64('not-a-signature')}`;
    expect(token.length).toBeLessThan(90_000);
    const { result: res, ran } = await handlerRuns.during(() =>
      request(t.url).post('/body').set('Content-Type', 'application/json').send({ access_token: token }),
    );
    expect(ran).toEqual([]);
    // The reason may be the signature or a refusal of the nesting itself: any §6 422.
    expect({ status: res.status, keys: Object.keys(res.body) }).toEqual({ status: 422, keys: ['msg'] });
  });

  const deep = (depth: number, open: string, close: string, middle = '') => `${open.repeat(depth)}${middle}${close.repeat(depth)}`;
  const shapes: [string, string, string][] = [
    ['arrays in the payload', '{"sub":"x","deep":%}', deep(30_000, '[', ']')],
    ['objects in the payload', '{"sub":"x","deep":%}', deep(10_000, '{"a":', '}', '1')],
    ['arrays in the header', '{"alg":"HS256","deep":%}', deep(30_000, '[', ']')],
  ];

  it.each(shapes)('unsigned, %s: 422, the handler never runs', async (_, template, nested) => {
    const text = template.replace('%', nested);
    const header = template.includes('alg') ? text : JSON.stringify({ alg: 'HS256', typ: 'JWT' });
    const payload = template.includes('alg') ? JSON.stringify({ sub: 'x', iat: now(), exp: now() + 600 }) : text;
    const token = `${b64(header)}.${b64(payload)}.${b64('not-a-signature')}`;
    const { result: res, ran } = await handlerRuns.during(() =>
      request(t.url).post('/body').set('Content-Type', 'application/json').send({ access_token: token }),
    );
    expect({ status: res.status, ran }).toEqual({ status: 422, ran: [] });
  });

  it('signed with the key, a deeply nested claim is accepted, not a 500', async () => {
    const payload = `{"sub":"x","iat":${now()},"exp":${now() + 600},"type":"access","deep":${deep(20_000, '[', ']')}}`;
    const token = forgeHmac({ alg: 'HS256', typ: 'JWT' }, payload, SECRET);
    const res = await request(t.url).post('/body').set('Content-Type', 'application/json').send({ access_token: token });
    expect(res.status).toBe(201);
  });
});
