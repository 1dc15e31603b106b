/**
 * The fleet benchmark's server, one process per instance:
 * `node fleet-server.js <express|fastify> <memory|redis|redis-cached> [redis-url]`.
 * Routes: `/open`, `/cpu` (the process's CPU time, read around each run), `/noop` (an async guard that only sets `req.user`: Nest's guard pipeline
 * and nothing else), `/floor` (raw node:crypto HMAC, JSON parse, exp check, sets `req.user`),
 * `/least` (the least a guard with a verified-token cache does: header, `Map` lookup, `exp`, sets
 * `req.user`), `/jwt` (`@JwtRequired()`, default options, a `userLookup` loader and the chosen blocklist),
 * `DELETE /logout` (revokes the presented token). Prints `READY <port>` once it listens.
 */
import 'reflect-metadata';
import {
  type CanActivate,
  Controller,
  Delete,
  type ExecutionContext,
  Get,
  Inject,
  Injectable,
  Module,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Redis } from 'ioredis';
import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import {
  InMemoryBlocklist,
  Jwt,
  JwtExtendedModule,
  JwtRequired,
  type JwtPayload,
  type RevocationStore,
  type UserLookupLoader,
} from 'nestjs-jwt-extended';
import { RedisBlocklist } from 'nestjs-jwt-extended/redis';

const SECRET = 'bench-secret-that-is-at-least-32-bytes-long';
const [adapterName, storeKind, redisUrl] = process.argv.slice(2);
const redis = storeKind === 'memory' ? undefined : new Redis(redisUrl!, { maxRetriesPerRequest: 1 });

@Injectable()
class Revocations extends RedisBlocklist {
  constructor() {
    super(redis!, { keyPrefix: 'bench:', ...(storeKind === 'redis-cached' ? { localCache: { maxEntries: 100_000 } } : {}) });
  }
}
const Store = storeKind === 'memory' ? InMemoryBlocklist : Revocations;

@Injectable()
class Users implements UserLookupLoader {
  lookupUser(_header: unknown, payload: JwtPayload) {
    return { id: payload.sub };
  }
}

type BenchRequest = { headers: Record<string, string | undefined>; user?: unknown };

/** Nest's guard pipeline and nothing else: an async guard that sets `req.user`. */
@Injectable()
class NoopGuard implements CanActivate {
  async canActivate(context: ExecutionContext) {
    context.switchToHttp().getRequest<BenchRequest>().user = { id: 'bench' };
    return true;
  }
}

/** The floor: one raw HMAC, the payload's JSON and `exp`, `req.user` set; no claims policy, no blocklist. */
@Injectable()
class FloorGuard implements CanActivate {
  private readonly key = createSecretKey(Buffer.from(SECRET));
  canActivate(context: ExecutionContext) {
    const req = context.switchToHttp().getRequest<BenchRequest>();
    const payload = this.verify(req.headers.authorization?.slice(7) ?? '');
    if (payload.exp <= Date.now() / 1000) throw new UnauthorizedException();
    req.user = { id: payload.sub };
    return true;
  }

  /** The signature and the payload's JSON. */
  verify(token: string): { exp: number; sub: string } {
    const [head, body, signature] = token.split('.');
    const expected = createHmac('sha256', this.key).update(`${head}.${body}`).digest();
    const actual = Buffer.from(signature ?? '', 'base64url');
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) throw new UnauthorizedException();
    return JSON.parse(Buffer.from(body, 'base64url').toString()) as { exp: number; sub: string };
  }
}

/**
 * The least a guard that caches verified tokens can do per request, for reference: the header,
 * one `Map` lookup, `exp`, `req.user`; verified with the floor's steps on a miss. No type, claims
 * or revocation check, no user lookup, a cache that never evicts.
 */
@Injectable()
class LeastGuard implements CanActivate {
  private readonly floor = new FloorGuard();
  private readonly verified = new Map<string, { exp: number; sub: string }>();
  canActivate(context: ExecutionContext) {
    const req = context.switchToHttp().getRequest<BenchRequest>();
    const token = req.headers.authorization?.slice(7) ?? '';
    let payload = this.verified.get(token);
    if (!payload) {
      payload = this.floor.verify(token);
      this.verified.set(token, payload);
    }
    if (payload.exp <= Date.now() / 1000) throw new UnauthorizedException();
    req.user = { id: payload.sub };
    return true;
  }
}

@Controller()
class FleetBenchController {
  constructor(@Inject(Store) private readonly store: RevocationStore) {}
  @Get('open')
  open() {
    return { ok: true };
  }
  /** This process's CPU time so far (µs): the bench reads it around each run for CPU per request. */
  @Get('cpu')
  cpu() {
    const { user, system } = process.cpuUsage();
    return { micros: user + system };
  }
  @Get('noop')
  @UseGuards(NoopGuard)
  noop() {
    return { ok: true };
  }
  @Get('floor')
  @UseGuards(FloorGuard)
  floor() {
    return { ok: true };
  }
  @Get('least')
  @UseGuards(LeastGuard)
  least() {
    return { ok: true };
  }
  @Get('jwt')
  @JwtRequired()
  jwt() {
    return { ok: true };
  }
  @Delete('logout')
  @JwtRequired()
  async logout(@Jwt() jwt: JwtPayload) {
    await this.store.revokeToken(jwt);
    return { ok: true };
  }
}

@Module({
  imports: [JwtExtendedModule.forRoot({ secretKey: SECRET, loaders: { blocklist: Store, userLookup: Users } })],
  controllers: [FleetBenchController],
  providers: [NoopGuard, FloorGuard, LeastGuard],
})
class FleetBenchModule {}

const app = await NestFactory.create(FleetBenchModule, adapterName === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(), {
  logger: false,
});
await app.listen(0, '127.0.0.1');
console.log(`READY ${(app.getHttpServer().address() as { port: number }).port}`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
