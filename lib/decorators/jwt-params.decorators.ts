import { type ExecutionContext, createParamDecorator } from '@nestjs/common';
import { contextAdapter } from '../request/execution-contexts.js';
import { requireJwtState } from '../request/jwt-request-state.js';
import { currentUserOf } from '../service/jwt-extended.service.js';

const request = (ctx: ExecutionContext) => contextAdapter(ctx).getRequest(ctx);

/** @internal What `@CurrentUser()` runs; the start-up check recognises the decorator by it. */
export const currentUserFactory = (_: unknown, ctx: ExecutionContext): unknown => currentUserOf(request(ctx));

/** The user the `userLookup` loader returned (`null` on an optional request without token). */
export const CurrentUser = createParamDecorator(currentUserFactory);

/** The verified payload (`{}` on an optional request without token). */
export const Jwt = createParamDecorator((_: unknown, ctx: ExecutionContext) => requireJwtState(request(ctx)).payload);

/** The verified header (`{}` on an optional request without token). */
export const JwtHeader = createParamDecorator((_: unknown, ctx: ExecutionContext) => requireJwtState(request(ctx)).header);

/** The identity claim (`null` on an optional request without token). */
export const JwtIdentity = createParamDecorator((_: unknown, ctx: ExecutionContext) => requireJwtState(request(ctx)).identity);

/** Where the token was found: `'headers' | 'cookies' | 'query_string' | 'json'`, or `null`. */
export const JwtLocation = createParamDecorator((_: unknown, ctx: ExecutionContext) => requireJwtState(request(ctx)).location);
