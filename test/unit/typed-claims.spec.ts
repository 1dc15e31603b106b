/**
 * The typed surface of claimsSchema and nestjs-jwt-extended/swagger. `npm run typecheck` compiles
 * this file: each `@ts-expect-error` line must fail to compile, or the type-check fails. Jest runs
 * the runtime halves.
 */
import { Controller, Get, type INestApplication } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import type { OpenAPIObject } from '@nestjs/swagger';
import * as v from 'valibot';
import { z } from 'zod';
import {
  type ClaimsOf,
  type ClaimsSchema,
  ClaimsValidationError,
  Jwt,
  type JwtExtendedModuleOptions,
  type JwtPayload,
  type StandardSchemaV1,
} from '../../lib/index.js';
import { JWT_SECURITY_SCHEMES, type JwtSecurityOptions, applyJwtSecurity } from '../../lib/swagger/index.js';
import { SECRET } from '../support/app.js';
import { createService } from '../support/service.js';

/** `true` only when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

const zodClaims = z.object({ role: z.enum(['admin', 'user']), tenant: z.string().transform(Number) });
const valibotClaims = v.object({ role: v.picklist(['admin', 'user']), tenant: v.number() });
type Claims = ClaimsOf<typeof zodClaims>;

describe('claimsSchema and ClaimsOf', () => {
  it('takes any Standard Schema of an object; other values do not compile', () => {
    const hand: StandardSchemaV1<unknown, { role: string }> = {
      '~standard': { version: 1, vendor: 'hand', validate: (value) => ({ value: value as { role: string } }) },
    };
    const options: JwtExtendedModuleOptions[] = [
      { secretKey: SECRET, claimsSchema: zodClaims },
      { secretKey: SECRET, claimsSchema: valibotClaims },
      { secretKey: SECRET, claimsSchema: hand },
      // @ts-expect-error a schema of a string is no schema of claims
      { secretKey: SECRET, claimsSchema: z.string() },
      // @ts-expect-error a plain object is no schema
      { secretKey: SECRET, claimsSchema: { role: 'string' } },
      // @ts-expect-error only Standard Schema v1
      { secretKey: SECRET, claimsSchema: { '~standard': { version: 2, vendor: 'x', validate: () => ({ value: {} }) } } },
    ];
    const schema: ClaimsSchema = zodClaims;
    expect([options.length, schema['~standard'].vendor]).toEqual([6, 'zod']);
  });

  it("ClaimsOf is the schema's output: misspelt claims and wrong claim types do not compile", async () => {
    const output: Equal<Claims, { role: 'admin' | 'user'; tenant: number }> = true;
    const valibotOutput: Equal<ClaimsOf<typeof valibotClaims>, { role: 'admin' | 'user'; tenant: number }> = true;
    const jwt = await createService({ secretKey: SECRET, claimsSchema: zodClaims });
    const payload: JwtPayload<Claims> = await jwt.decodeToken<Claims>(
      await jwt.createAccessToken('a', { additionalClaims: { role: 'admin', tenant: '7' } }),
    );
    const tenant: number = payload.tenant;
    // @ts-expect-error a misspelt claim does not compile
    const misspelt = payload.tennant;
    // @ts-expect-error the output type, not the input type
    const asText: string = payload.tenant;
    // @ts-expect-error role is 'admin' | 'user'
    const wrongRole: JwtPayload<Claims> = { ...payload, role: 'root' };
    expect([output, valibotOutput, tenant, misspelt, asText, wrongRole.role]).toEqual([true, true, 7, undefined, 7, 'root']);
  });

  it("@Jwt<ClaimsOf<typeof schema>>('claim') takes only the schema's claims", () => {
    @Controller()
    class Handlers {
      @Get('typed')
      typed(@Jwt<Claims>('tenant') tenant: Claims['tenant'], @Jwt() jwt: JwtPayload<Claims>) {
        return { tenant, role: jwt.role };
      }
      @Get('misspelt')
      misspelt(
        // @ts-expect-error a misspelt claim name does not compile
        @Jwt<Claims>('tennant') tenant: unknown,
      ) {
        return { tenant };
      }
    }
    expect(Handlers).toBeDefined();
  });

  it('ClaimsValidationError is a TypeError listing the typed issues', async () => {
    const jwt = await createService({ secretKey: SECRET, claimsSchema: zodClaims });
    const error = await jwt.createAccessToken('a', { additionalClaims: { role: 'root', tenant: '1' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClaimsValidationError);
    const issues: readonly StandardSchemaV1.Issue[] = (error as ClaimsValidationError).issues;
    expect(issues.map((issue) => issue.path)).toEqual([['role']]);
    expect(error).toBeInstanceOf(TypeError);
  });
});

describe('nestjs-jwt-extended/swagger types', () => {
  it('applyJwtSecurity takes an OpenAPI document and an app; the scheme names are literal', () => {
    const options: JwtSecurityOptions = { operationIdFactory: (controller, method) => `${controller}.${method}` };
    const scheme: Equal<typeof JWT_SECURITY_SCHEMES.access.headers, 'jwt'> = true;
    const call = (document: OpenAPIObject, app: INestApplication) => {
      const result: OpenAPIObject = applyJwtSecurity(document, app, options);
      // @ts-expect-error an object that is no OpenAPI document
      applyJwtSecurity({ paths: {} }, app);
      // @ts-expect-error operationIdFactory returns the operation id
      applyJwtSecurity(document, app, { operationIdFactory: () => 42 });
      return result;
    };
    expect([typeof call, scheme]).toEqual(['function', true]);
  });
});
