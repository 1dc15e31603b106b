/**
 * The HTTP benchmark's server, run in its own process: `node http-server.js express|fastify`.
 * Prints `READY <port>` once it listens on 127.0.0.1.
 */
import 'reflect-metadata';
import {
  type CanActivate,
  Controller,
  type ExecutionContext,
  Get,
  Injectable,
  Module,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import { jwtVerify } from 'jose';
import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { JwtExtendedModule, JwtRequired } from 'nestjs-jwt-extended';

export const SECRET = 'bench-secret-that-is-at-least-32-bytes-long';

/** passport-jwt as the @nestjs/passport docs set it up. */
@Injectable()
class JwtStrategy extends PassportStrategy(Strategy) {
  constructor() {
    super({ jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(), ignoreExpiration: false, secretOrKey: SECRET });
  }
  validate(payload: { sub: string }) {
    return { userId: payload.sub };
  }
}

function bearer(context: ExecutionContext): { req: { headers: Record<string, string | undefined>; user?: unknown }; token: string } {
  const req = context.switchToHttp().getRequest();
  const [type, token] = (req.headers.authorization ?? '').split(' ');
  if (type !== 'Bearer' || !token) throw new UnauthorizedException();
  return { req, token };
}

/** A hand-written guard around jose's jwtVerify, key imported once. */
@Injectable()
class JoseGuard implements CanActivate {
  private readonly key = new TextEncoder().encode(SECRET);
  async canActivate(context: ExecutionContext) {
    const { req, token } = bearer(context);
    try {
      req.user = (await jwtVerify(token, this.key, { algorithms: ['HS256'] })).payload;
      return true;
    } catch {
      throw new UnauthorizedException();
    }
  }
}

/** Reference point: one raw HMAC per request and nothing else (no claims, no JSON). */
@Injectable()
class RawHmacGuard implements CanActivate {
  private readonly key = createSecretKey(Buffer.from(SECRET));
  canActivate(context: ExecutionContext) {
    const { token } = bearer(context);
    const dot = token.lastIndexOf('.');
    const expected = createHmac('sha256', this.key).update(token.slice(0, dot)).digest();
    const actual = Buffer.from(token.slice(dot + 1), 'base64url');
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) throw new UnauthorizedException();
    return true;
  }
}

@Controller()
class BenchController {
  @Get('open')
  open() {
    return { ok: true };
  }
  @Get('jwt')
  @JwtRequired()
  jwt() {
    return { ok: true };
  }
  @Get('passport')
  @UseGuards(AuthGuard('jwt'))
  passport() {
    return { ok: true };
  }
  @Get('jose')
  @UseGuards(JoseGuard)
  jose() {
    return { ok: true };
  }
  @Get('hmac')
  @UseGuards(RawHmacGuard)
  hmac() {
    return { ok: true };
  }
}

@Module({
  imports: [JwtExtendedModule.forRoot({ secretKey: SECRET }), PassportModule],
  controllers: [BenchController],
  providers: [JwtStrategy, JoseGuard, RawHmacGuard],
})
class BenchModule {}

const adapter = process.argv[2] === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
const app = await NestFactory.create(BenchModule, adapter, { logger: false });
await app.listen(0, '127.0.0.1');
console.log(`READY ${(app.getHttpServer().address() as { port: number }).port}`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
