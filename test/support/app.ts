import type { DynamicModule, INestApplication, LoggerService, Type } from '@nestjs/common';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { JwtExtendedModule, type JwtExtendedLoaders, type JwtExtendedOptions, JwtExtendedService } from '../../lib/index.js';

export type AdapterName = 'express' | 'fastify';
export const ADAPTERS: AdapterName[] = ['express', 'fastify'];

/**
 * CI runs the e2e and security suites twice: with the verified-token cache (default)
 * and without it (TEST_TOKEN_CACHE_SIZE=0), so the fast path passes the same tests.
 */
export const TOKEN_CACHE =
  process.env.TEST_TOKEN_CACHE_SIZE === undefined ? {} : { tokenCacheSize: Number(process.env.TEST_TOKEN_CACHE_SIZE) };

/** A 32-byte secret: long enough for HS256. */
export const SECRET = 'test-secret-that-is-32-bytes-long!!';

export interface TestApp {
  app: INestApplication;
  jwt: JwtExtendedService;
  /** Base URL for supertest (the app listens on 127.0.0.1). */
  url: string;
  close(): Promise<void>;
}

export interface TestAppSetup {
  options?: JwtExtendedOptions;
  loaders?: JwtExtendedLoaders;
  controllers?: Type[];
  providers?: Type[];
  imports?: (Type | DynamicModule)[];
  module?: DynamicModule;
  /** Runs before `app.init()`: register middleware or plugins here. */
  beforeInit?: (app: INestApplication) => void | Promise<void>;
  /** Where the app logs (silent by default). */
  logger?: LoggerService;
}

/** Boots a real Nest app on the given adapter, listening on a loopback port. */
export async function createTestApp(adapter: AdapterName, setup: TestAppSetup): Promise<TestApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      ...(setup.imports ?? []),
      setup.module ?? JwtExtendedModule.forRoot({ secretKey: SECRET, ...TOKEN_CACHE, ...setup.options, loaders: setup.loaders }),
    ],
    controllers: setup.controllers ?? [],
    providers: setup.providers ?? [],
  }).compile();

  let app: INestApplication;
  if (adapter === 'express') {
    app = moduleRef.createNestApplication<NestExpressApplication>(new ExpressAdapter(), { logger: setup.logger ?? false });
  } else {
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: setup.logger ?? false });
  }
  await setup.beforeInit?.(app);
  await app.init();
  if (adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return {
    app,
    jwt: app.get(JwtExtendedService),
    url: `http://127.0.0.1:${address.port}`,
    close: () => app.close(),
  };
}

/** A logger that keeps every line, to check what was (and was not) logged. */
export class RecordingLogger implements LoggerService {
  readonly lines: string[] = [];
  private record(...parts: unknown[]) {
    this.lines.push(
      parts.map((p) => (p instanceof Error ? `${p.message} ${p.stack}` : typeof p === 'string' ? p : JSON.stringify(p))).join(' '),
    );
  }
  log = (...parts: unknown[]) => this.record(...parts);
  error = (...parts: unknown[]) => this.record(...parts);
  warn = (...parts: unknown[]) => this.record(...parts);
  debug = (...parts: unknown[]) => this.record(...parts);
  verbose = (...parts: unknown[]) => this.record(...parts);
}
