import { Controller, Get, HttpException, Injectable } from '@nestjs/common';
import { beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import * as v from 'valibot';
import { z } from 'zod';
import {
  type ClaimsOf,
  ClaimsValidationError,
  CurrentUser,
  type InvalidTokenLoader,
  Jwt,
  JwtExtendedConfigError,
  type JwtExtendedService,
  type JwtPayload,
  JwtRequired,
  type StandardSchemaV1,
  type UserLookupLoader,
} from '../../lib/index.js';
import { ADAPTERS, SECRET, startupError, useTestApp, withTestApp } from '../support/app.js';
import { createService } from '../support/service.js';

/** Every schema below has this output: `scopes` arrives as a space-separated string and leaves as a list. */
type Claims = { role: 'admin' | 'user'; scopes: string[] };

const zodSchema = z.object({ role: z.enum(['admin', 'user']), scopes: z.string().transform((s) => s.split(' ')) });
const valibotSchema = v.object({
  role: v.picklist(['admin', 'user']),
  scopes: v.pipe(
    v.string(),
    v.transform((s) => s.split(' ')),
  ),
});

/** A Standard Schema written by hand, sync or async, counting its runs. */
function handSchema(mode: 'sync' | 'async', runs = { count: 0 }): StandardSchemaV1<unknown, Claims> {
  return {
    '~standard': {
      version: 1,
      vendor: 'hand',
      validate(value) {
        runs.count += 1;
        const { role, scopes } = value as Record<string, unknown>;
        const result: StandardSchemaV1.Result<Claims> =
          (role === 'admin' || role === 'user') && typeof scopes === 'string'
            ? { value: { role, scopes: scopes.split(' ') } }
            : { issues: [{ message: 'must be admin or user', path: [{ key: 'role' }] }] };
        return mode === 'async' ? Promise.resolve(result) : result;
      },
    },
  };
}

const bad = { role: 'root', scopes: 'read' };
const SCHEMAS: [string, StandardSchemaV1<unknown, Claims>, string][] = [
  ['zod', zodSchema, `role: ${zodSchema.safeParse(bad).error!.issues[0].message}`],
  ['valibot', valibotSchema, `role: ${v.safeParse(valibotSchema, bad).issues![0].message}`],
  ['a hand-written sync schema', handSchema('sync'), 'role: must be admin or user'],
  ['a hand-written async schema', handSchema('async'), 'role: must be admin or user'],
];

/** The loader sees what handlers see: the schema's output. */
@Injectable()
class ScopesUser implements UserLookupLoader<{ scopes: unknown }> {
  lookupUser(_header: unknown, payload: JwtPayload) {
    return { scopes: payload.scopes };
  }
}

@Controller()
class ClaimsController {
  @Get('claims')
  @JwtRequired()
  claims(
    @Jwt() jwt: JwtPayload<ClaimsOf<typeof zodSchema>>,
    @Jwt<Claims>('scopes') scopes: Claims['scopes'],
    @CurrentUser() user: unknown,
  ) {
    return { role: jwt.role, scopes, sub: jwt.sub, type: jwt.type, user };
  }
}

/** Tokens any claims can be put in: the same secret, no schema. */
let mint: JwtExtendedService;
beforeAll(async () => {
  mint = await createService({ secretKey: SECRET });
});
const bearer = async (claims: Record<string, unknown>) => `Bearer ${await mint.createAccessToken('alice', { additionalClaims: claims })}`;

describe.each(ADAPTERS)('claimsSchema (%s)', (adapter) => {
  describe.each(SCHEMAS)('with %s', (_name, claimsSchema, issue) => {
    const t = useTestApp(adapter, { options: { claimsSchema }, loaders: { userLookup: ScopesUser }, controllers: [ClaimsController] });

    it("hands the schema's output to handlers and loaders; registered claims stay as verified", async () => {
      const auth = await bearer({ role: 'admin', scopes: 'read write' });
      for (let i = 0; i < 2; i++) {
        const res = await request(t.url).get('/claims').set('Authorization', auth).expect(200);
        expect(res.body).toEqual({
          role: 'admin',
          scopes: ['read', 'write'],
          sub: 'alice',
          type: 'access',
          user: { scopes: ['read', 'write'] },
        });
      }
    });

    it('refuses a payload that fails it: 422 Invalid claims: <path>: <issue>', async () => {
      const res = await request(t.url)
        .get('/claims')
        .set('Authorization', await bearer(bad))
        .expect(422);
      expect(res.body).toEqual({ msg: `Invalid claims: ${issue}` });
    });

    it('checks the claims of new tokens: creation rejects with the issues', async () => {
      const creating = t.jwt.createAccessToken('alice', { additionalClaims: bad });
      await expect(creating).rejects.toThrow(ClaimsValidationError);
      await expect(creating).rejects.toThrow(TypeError);
      await expect(creating).rejects.toMatchObject({ message: `Invalid claims: ${issue}`, issues: [{ path: [expect.anything()] }] });
      const token = await t.jwt.createAccessToken('alice', { additionalClaims: { role: 'user', scopes: 'read' } });
      await request(t.url).get('/claims').set('Authorization', `Bearer ${token}`).expect(200);
    });
  });

  it('every issue, with nested paths, and through the invalidToken loader', async () => {
    @Injectable()
    class Teapot implements InvalidTokenLoader {
      onInvalidToken(reason: string) {
        return new HttpException({ reason }, 418);
      }
    }
    const claimsSchema = z.object({ role: z.enum(['admin', 'user']), org: z.object({ id: z.number() }) });
    const issues = claimsSchema.safeParse({ role: 'root', org: { id: 'x' } }).error!.issues;
    await withTestApp(
      adapter,
      { options: { claimsSchema }, loaders: { invalidToken: Teapot }, controllers: [ClaimsController] },
      async (t) => {
        const res = await request(t.url)
          .get('/claims')
          .set('Authorization', await bearer({ role: 'root', org: { id: 'x' } }))
          .expect(418);
        expect(res.body).toEqual({ reason: `Invalid claims: role: ${issues[0].message}; org.id: ${issues[1].message}` });
      },
    );
  });

  it('validates a payload once per token with the verified-token cache, on every request without it', async () => {
    for (const [tokenCacheSize, expected] of [
      [10, 1],
      [0, 3],
    ]) {
      const runs = { count: 0 };
      await withTestApp(
        adapter,
        {
          options: { claimsSchema: handSchema('async', runs), tokenCacheSize },
          loaders: { userLookup: ScopesUser },
          controllers: [ClaimsController],
        },
        async (t) => {
          const auth = await bearer({ role: 'user', scopes: 'read' });
          for (let i = 0; i < 3; i++) {
            const res = await request(t.url).get('/claims').set('Authorization', auth).expect(200);
            expect(res.body.scopes).toEqual(['read']);
          }
        },
      );
      expect(runs.count).toBe(expected);
    }
  });

  it('never lets a schema change the claims the library checks itself', async () => {
    const rewriting: StandardSchemaV1<unknown, object> = {
      '~standard': {
        version: 1,
        vendor: 'hand',
        validate: () => ({ value: { sub: 'mallory', type: 'refresh', exp: undefined, role: 'admin' } }),
      },
    };
    await withTestApp(
      adapter,
      { options: { claimsSchema: rewriting }, loaders: { userLookup: ScopesUser }, controllers: [ClaimsController] },
      async (t) => {
        const res = await request(t.url)
          .get('/claims')
          .set('Authorization', await bearer({ scopes: 'read' }))
          .expect(200);
        expect(res.body).toMatchObject({ role: 'admin', sub: 'alice', type: 'access', scopes: 'read' });
      },
    );
  });

  it('fails closed (500, the handler never runs) when the schema throws or gives no object of claims', async () => {
    const schemas: StandardSchemaV1<unknown, object>[] = [
      {
        '~standard': {
          version: 1,
          vendor: 'hand',
          validate: () => {
            throw new Error('schema bug');
          },
        },
      },
      { '~standard': { version: 1, vendor: 'hand', validate: () => ({ value: 'claims' as unknown as object }) } },
    ];
    for (const claimsSchema of schemas) {
      await withTestApp(
        adapter,
        { options: { claimsSchema }, loaders: { userLookup: ScopesUser }, controllers: [ClaimsController] },
        async (t) => {
          const res = await request(t.url)
            .get('/claims')
            .set('Authorization', await bearer({ role: 'admin', scopes: 'read' }))
            .expect(500);
          expect(JSON.stringify(res.body)).not.toMatch(/schema bug|claims/);
        },
      );
    }
  });

  it('refuses at start-up a claimsSchema that is no Standard Schema', async () => {
    for (const claimsSchema of [{ role: 'string' }, { '~standard': { version: 2, validate: () => ({ value: {} }) } }]) {
      const error = await startupError(adapter, { options: { claimsSchema: claimsSchema as never } });
      expect(error).toBeInstanceOf(JwtExtendedConfigError);
      expect((error as Error).message).toMatch(/claimsSchema/);
    }
  });
});
