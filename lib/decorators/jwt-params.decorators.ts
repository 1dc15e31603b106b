import { type ExecutionContext, type PipeTransform, type Type, createParamDecorator } from '@nestjs/common';
import { contextAdapter } from '../request/contexts/execution-contexts.js';
import { requireJwtState } from '../request/jwt-request-state.js';
import { currentUserOf } from '../service/jwt-extended.service.js';
import type { JwtPayload } from '../tokens/jwt.interfaces.js';

const request = (ctx: ExecutionContext) => contextAdapter(ctx).getRequest(ctx);

/** @internal What `@CurrentUser()` runs; the start-up check recognises the decorator by it. */
export const currentUserFactory = (_: unknown, ctx: ExecutionContext): unknown => currentUserOf(request(ctx));

/**
 * The user the `userLookup` loader returned (`null` on an optional request without token).
 * Annotate the parameter with the loader's user type: `@CurrentUser() user: User`.
 */
export const CurrentUser = createParamDecorator(currentUserFactory);

/** `@Jwt()` and `@Jwt('claim')`, typed: `Jwt<Claims>('rol')` does not compile when `Claims` has no `rol`. */
export interface JwtParamDecorator {
  /** The whole verified payload: annotate it `JwtPayload<Claims>`. */
  (...pipes: (Type<PipeTransform> | PipeTransform)[]): ParameterDecorator;
  /** One claim of the payload: annotate it with the claim's type (`Claims['role']`). */
  <Claims extends object = Record<string, unknown>>(
    claim: keyof JwtPayload<Claims> & string,
    ...pipes: (Type<PipeTransform> | PipeTransform)[]
  ): ParameterDecorator;
}

/**
 * The verified payload (`{}` on an optional request without token), or with a claim
 * name that one claim (`undefined` when the token does not carry it).
 */
export const Jwt: JwtParamDecorator = createParamDecorator((claim: string | undefined, ctx: ExecutionContext) => {
  const { payload } = requireJwtState(request(ctx));
  if (claim === undefined) return payload;
  // Own claims only: '__proto__' or 'constructor' name no claim.
  return Object.hasOwn(payload, claim) ? (payload as Record<string, unknown>)[claim] : undefined;
});

/** The verified header (`{}` on an optional request without token). */
export const JwtHeader = createParamDecorator((_: unknown, ctx: ExecutionContext) => requireJwtState(request(ctx)).header);

/** The identity claim (`null` on an optional request without token). */
export const JwtIdentity = createParamDecorator((_: unknown, ctx: ExecutionContext) => requireJwtState(request(ctx)).identity);

/** Where the token was found: `'headers' | 'cookies' | 'query_string' | 'json'`, or `null`. */
export const JwtLocation = createParamDecorator((_: unknown, ctx: ExecutionContext) => requireJwtState(request(ctx)).location);
