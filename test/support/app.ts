import type { DynamicModule, INestApplication, LoggerService, Type } from '@nestjs/common';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test, type TestingModule, type TestingModuleBuilder } from '@nestjs/testing';
import { afterAll, beforeAll } from '@jest/globals';
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
  /** The compiled testing module the app was created from. */
  moduleRef: TestingModule;
  jwt: JwtExtendedService;
  /** Base URL for supertest (the app listens on 127.0.0.1). */
  url: string;
  close(): Promise<void>;
}

export interface TestAppSetup {
  options?: JwtExtendedOptions;
  loaders?: JwtExtendedLoaders;
  /** `forRoot({ globalGuard })` of the default module. */
  globalGuard?: boolean;
  controllers?: Type[];
  providers?: Type[];
  imports?: (Type | DynamicModule)[];
  module?: DynamicModule;
  /** Runs before `app.init()`: register middleware or plugins here. */
  beforeInit?: (app: INestApplication) => void | Promise<void>;
  /** Where the app logs (silent by default). */
  logger?: LoggerService;
  /** Runs before compiling: `overrideProvider(...)` and the like. */
  override?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
}

/** Boots a real Nest app on the given adapter, listening on a loopback port. */
export async function createTestApp(adapter: AdapterName, setup: TestAppSetup): Promise<TestApp> {
  const builder = Test.createTestingModule({
    imports: [
      ...(setup.imports ?? []),
      setup.module ??
        JwtExtendedModule.forRoot({
          secretKey: SECRET,
          ...TOKEN_CACHE,
          ...setup.options,
          loaders: setup.loaders,
          globalGuard: setup.globalGuard,
        }),
    ],
    controllers: setup.controllers ?? [],
    providers: setup.providers ?? [],
  });
  const moduleRef = await (setup.override?.(builder) ?? builder).compile();

  let app: INestApplication;
  if (adapter === 'express') {
    app = moduleRef.createNestApplication<NestExpressApplication>(new ExpressAdapter(), { logger: setup.logger ?? false });
  } else {
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: setup.logger ?? false });
  }
  await setup.beforeInit?.(app);
  await app.init();
  if (adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  return { app, moduleRef, jwt: app.get(JwtExtendedService), url: await listenOnLoopback(app), close: () => app.close() };
}

/** Starts `app` listening on a free loopback port; returns its base URL. */
export async function listenOnLoopback(app: INestApplication): Promise<string> {
  await app.listen(0, '127.0.0.1');
  return `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
}

/**
 * The app of the enclosing describe block: booted before its tests, closed after them. Read its
 * fields inside tests and hooks: the app exists once the block's first beforeAll has run.
 */
export function useTestApp(adapter: AdapterName, setup: TestAppSetup): TestApp {
  let started: TestApp | undefined;
  beforeAll(async () => {
    started = await createTestApp(adapter, setup);
  });
  afterAll(() => started?.close());
  const current = () => {
    if (!started) throw new Error('useTestApp(): the app is booted in beforeAll; read it inside tests and hooks');
    return started;
  };
  return {
    get app() {
      return current().app;
    },
    get moduleRef() {
      return current().moduleRef;
    },
    get jwt() {
      return current().jwt;
    },
    get url() {
      return current().url;
    },
    close: async () => {
      const app = current();
      started = undefined;
      await app.close();
    },
  };
}

/** Boots an app for the length of `body` and closes it afterwards, whether `body` passes or throws. */
export async function withTestApp<T>(adapter: AdapterName, setup: TestAppSetup, body: (t: TestApp) => Promise<T>): Promise<T> {
  const t = await createTestApp(adapter, setup);
  try {
    return await body(t);
  } finally {
    await t.close();
  }
}

/**
 * The error an app fails to start with (`undefined` if it starts: it is then closed at once, so a
 * regression fails the test instead of leaving an app open).
 */
export async function startupError(adapter: AdapterName, setup: TestAppSetup): Promise<unknown> {
  try {
    await (await createTestApp(adapter, setup)).close();
  } catch (error) {
    return error;
  }
  return undefined;
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
