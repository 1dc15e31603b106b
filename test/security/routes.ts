import { Body, Controller, Get, Post } from '@nestjs/common';
import { Jwt, JwtIdentity, JwtRequired, type JwtPayload } from '../../lib/index.js';

/** Counts handler runs: every attack must leave it unchanged. */
export const handlerRuns = { count: 0 };

@Controller()
export class TargetController {
  @Get('protected')
  @JwtRequired()
  protectedRoute(@JwtIdentity() id: unknown, @Jwt() jwt: JwtPayload) {
    handlerRuns.count++;
    return { id, type: jwt.type, fresh: jwt.fresh };
  }
  @Get('fresh')
  @JwtRequired({ fresh: true })
  fresh(@JwtIdentity() id: unknown) {
    handlerRuns.count++;
    return { id };
  }
  @Post('refresh')
  @JwtRequired({ refresh: true })
  refresh(@JwtIdentity() id: unknown) {
    handlerRuns.count++;
    return { id };
  }
  @Post('body')
  @JwtRequired({ locations: 'json' })
  body(@Body() _body: unknown) {
    handlerRuns.count++;
    return { ok: true };
  }
  @Get('query')
  @JwtRequired({ locations: 'query_string' })
  query() {
    handlerRuns.count++;
    return { ok: true };
  }
  @Post('cookie')
  @JwtRequired({ locations: 'cookies' })
  cookie() {
    handlerRuns.count++;
    return { ok: true };
  }
}
