import { Controller, Get } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { Jwt, JwtRequired, type StandardSchemaV1 } from '../../lib/index.js';
import { ADAPTERS, SECRET, withTestApp } from '../support/app.js';
import { forgeHmac, now } from '../support/forge.js';
import { bearer } from '../support/http.js';
import { TargetController } from '../support/routes.js';

/*
 * CONTRACT §7 (objects handed to user code never change a later request) with §15 (the schema's
 * output is what handlers see), for schema output that freezing cannot protect, with the
 * verified-token cache on and off: Maps, Sets, typed arrays and Dates nested anywhere are each
 * request's own (the cache keeps a clone and hands out clones, the schema still runs once per
 * token); a class instance cannot be cloned faithfully, so such a token is verified afresh on
 * every request; a payload too deep to clone is not cached, never a 500.
 */

/** Counts a schema's runs. */
type Runs = { count: number };

function schemaOf<Output extends object>(
  runs: Runs,
  output: (input: Record<string, unknown>) => Output,
): StandardSchemaV1<unknown, Output> {
  return {
    '~standard': {
      version: 1,
      vendor: 'test',
      validate(value) {
        runs.count += 1;
        return { value: output(value as Record<string, unknown>) };
      },
    },
  };
}

/** Tries a change a handler might make; a refusal (frozen) is as good as a change nobody else sees. */
function tryTo(change: () => unknown): void {
  try {
    change();
  } catch {
    /* refused */
  }
}

interface Values {
  orgs: Map<string, Set<string>>;
  bytes: Uint8Array;
  profile: { since: Date; tags: Set<{ tag: string }> };
}

const valuesOf = (input: Record<string, unknown>): Values => ({
  orgs: new Map([['acme', new Set(input.roles as string[])]]),
  bytes: Uint8Array.from(input.bytes as number[]),
  profile: { since: new Date(input.since as string), tags: new Set([{ tag: 'a' }]) },
});

@Controller()
class ValuesController {
  @Get('values')
  @JwtRequired()
  values(@Jwt('orgs') orgs: Values['orgs'], @Jwt('bytes') bytes: Values['bytes'], @Jwt('profile') profile: Values['profile']) {
    const seen = {
      orgs: [...orgs].map(([org, roles]) => [org, [...roles]]),
      bytes: [...bytes],
      since: profile.since.toISOString(),
      tags: [...profile.tags].map(({ tag }) => tag),
    };
    tryTo(() => orgs.get('acme')!.add('admin'));
    tryTo(() => orgs.set('evil', new Set(['admin'])));
    tryTo(() => (bytes[0] = 99));
    tryTo(() => profile.since.setUTCFullYear(1970));
    tryTo(() => ([...profile.tags][0].tag = 'changed'));
    tryTo(() => profile.tags.add({ tag: 'added' }));
    return seen;
  }
}

/** A value only a class can make: its private state lives in the instance, out of freezing's reach. */
class Allowance {
  #spent = 0;

  spend(): number {
    return ++this.#spent;
  }
}

@Controller()
class AllowanceController {
  @Get('allowance')
  @JwtRequired()
  allowance(@Jwt('allowance') allowance: Allowance) {
    return { spent: allowance.spend() };
  }
}

const CACHE_MODES: [string, number][] = [
  ['cache on', 10_000],
  ['cache off', 0],
];

describe.each(ADAPTERS)('claimsSchema output freezing cannot protect (%s)', (adapter) => {
  it.each(CACHE_MODES)(
    'Maps, Sets, typed arrays and Dates are each request’s own, the schema runs once per token with the cache (%s)',
    async (_, tokenCacheSize) => {
      const runs = { count: 0 };
      await withTestApp(
        adapter,
        { controllers: [ValuesController], options: { claimsSchema: schemaOf(runs, valuesOf), tokenCacheSize } },
        async (t) => {
          const token = await t.jwt.createAccessToken('alice', {
            additionalClaims: { roles: ['read'], bytes: [1, 2], since: '2024-05-01T00:00:00.000Z' },
          });
          const runsAtCreation = runs.count;
          const expected = { orgs: [['acme', ['read']]], bytes: [1, 2], since: '2024-05-01T00:00:00.000Z', tags: ['a'] };
          for (let i = 0; i < 3; i++) {
            const res = await request(t.url).get('/values').set(bearer(token));
            expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: expected });
          }
          expect(runs.count - runsAtCreation).toBe(tokenCacheSize > 0 ? 1 : 3);
        },
      );
    },
  );

  it.each(CACHE_MODES)(
    'a class instance is built for every request: the token is verified afresh each time (%s)',
    async (_, tokenCacheSize) => {
      const runs = { count: 0 };
      const schema = schemaOf(runs, () => ({ allowance: new Allowance() }));
      await withTestApp(adapter, { controllers: [AllowanceController], options: { claimsSchema: schema, tokenCacheSize } }, async (t) => {
        const token = await t.jwt.createAccessToken('alice');
        const runsAtCreation = runs.count;
        for (let i = 0; i < 3; i++) {
          const res = await request(t.url).get('/allowance').set(bearer(token));
          expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { spent: 1 } });
        }
        expect(runs.count - runsAtCreation).toBe(3);
      });
    },
  );

  it('a payload nested too deep to clone is verified on every request, never a 500', async () => {
    const runs = { count: 0 };
    const schema = schemaOf(runs, (input) => ({ ...input, since: new Date(input.since as string) }));
    await withTestApp(
      adapter,
      {
        controllers: [TargetController],
        options: { claimsSchema: schema, maxTokenLength: 90_000, tokenLocation: ['json'], tokenCacheSize: 10_000 },
      },
      async (t) => {
        const depth = 20_000;
        const payload = `{"sub":"x","iat":${now()},"exp":${now() + 600},"since":"2024-05-01T00:00:00.000Z","deep":${'['.repeat(depth)}${']'.repeat(depth)}}`;
        const token = forgeHmac({ alg: 'HS256', typ: 'JWT' }, payload, SECRET);
        for (let i = 0; i < 2; i++) {
          const res = await request(t.url).post('/body').set('Content-Type', 'application/json').send({ access_token: token });
          expect(res.status).toBe(201);
        }
        expect(runs.count).toBe(2);
      },
    );
  });
});
