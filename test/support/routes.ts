import { Body, Controller, Get, Post } from '@nestjs/common';
import { Jwt, JwtIdentity, JwtRequired, type JwtPayload } from '../../lib/index.js';
import { handlerRuns } from './http.js';

/** What GET /protected answers for an access token of this identity. */
export const protectedAnswer = (id: unknown, fresh = false) => ({ id, type: 'access', fresh });

/** The routes every attack aims at; each records its path (without '/') in handlerRuns when it runs. */
@Controller()
export class TargetController {
  @Get('protected')
  @JwtRequired()
  protectedRoute(@JwtIdentity() id: unknown, @Jwt() jwt: JwtPayload) {
    handlerRuns.record('protected');
    return { id, type: jwt.type, fresh: jwt.fresh };
  }
  @Get('fresh')
  @JwtRequired({ fresh: true })
  fresh(@JwtIdentity() id: unknown) {
    handlerRuns.record('fresh');
    return { id };
  }
  @Post('refresh')
  @JwtRequired({ refresh: true })
  refresh(@JwtIdentity() id: unknown) {
    handlerRuns.record('refresh');
    return { id };
  }
  @Post('body')
  @JwtRequired({ locations: 'json' })
  body(@Body() _body: unknown) {
    handlerRuns.record('body');
    return { ok: true };
  }
  @Get('query')
  @JwtRequired({ locations: 'query_string' })
  query() {
    handlerRuns.record('query');
    return { ok: true };
  }
  @Post('cookie')
  @JwtRequired({ locations: 'cookies' })
  cookie() {
    handlerRuns.record('cookie');
    return { ok: true };
  }
}
