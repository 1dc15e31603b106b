import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

/**
 * §10 "no hard dependency": an HTTP-only app loads none of the context packages. The library is
 * compiled (per file, as ts-jest does) and imported in a fresh Node process whose resolve hook
 * makes those packages absent: any import of them fails there, as on a machine without them.
 */
const OPTIONAL_PEERS = ['@nestjs/microservices', '@nestjs/graphql', '@nestjs/websockets', '@nestjs/swagger'];

const root = fileURLToPath(new URL('../../', import.meta.url));

function compileLibrary(into: string): void {
  const { options } = ts.parseJsonConfigFileContent(ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile).config, ts.sys, root);
  const compilerOptions = { ...options, module: ts.ModuleKind.ESNext, declaration: false, sourceMap: false };
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const out = join(into, relative(root, path)).replace(/\.ts$/, '.js');
        mkdirSync(dirname(out), { recursive: true });
        writeFileSync(out, ts.transpileModule(readFileSync(path, 'utf8'), { compilerOptions, fileName: path }).outputText);
      }
    }
  };
  walk(join(root, 'lib'));
}

const HOOKS = `
const OPTIONAL_PEERS = ${JSON.stringify(OPTIONAL_PEERS)};
export async function resolve(specifier, context, next) {
  if (OPTIONAL_PEERS.some((name) => specifier === name || specifier.startsWith(name + '/'))) {
    process.stderr.write('absent: ' + specifier + ' imported by ' + context.parentURL + '\\n');
    throw Object.assign(new Error("Cannot find package '" + specifier + "'"), { code: 'ERR_MODULE_NOT_FOUND' });
  }
  return next(specifier, context);
}
`;

const REGISTER = `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n`;

// An HTTP-only app on both adapters: a global guard, a public route, an error loader (JwtErrorFilter).
const APP = `
import 'reflect-metadata';
const peer = await import('@nestjs/microservices').then(() => 'loaded', (error) => error.code);
const { Controller, Get, Injectable, Module, UnauthorizedException } = await import('@nestjs/common');
const { NestFactory } = await import('@nestjs/core');
const { ExpressAdapter } = await import('@nestjs/platform-express');
const { FastifyAdapter } = await import('@nestjs/platform-fastify');
const lib = await import('./lib/index.js');

class AppController {
  me(identity) { return { identity }; }
  open() { return { open: true }; }
}
lib.JwtIdentity()(AppController.prototype, 'me', 0);
const method = (name) => Object.getOwnPropertyDescriptor(AppController.prototype, name);
Reflect.decorate([Get('me')], AppController.prototype, 'me', method('me'));
Reflect.decorate([Get('open'), lib.JwtPublic()], AppController.prototype, 'open', method('open'));
Controller()(AppController);

class Shaper {
  onUnauthorized(reason) { return new UnauthorizedException({ shaped: reason }); }
}
Injectable()(Shaper);

class AppModule {}
Module({
  imports: [lib.JwtExtendedModule.forRoot({ secretKey: 'no-hard-dependency-secret-32-bytes!', globalGuard: true, loaders: { unauthorized: Shaper } })],
  controllers: [AppController],
})(AppModule);

const results = { peer };
for (const [name, adapter] of [['express', () => new ExpressAdapter()], ['fastify', () => new FastifyAdapter()]]) {
  const app = await NestFactory.create(AppModule, adapter(), { logger: false });
  await app.listen(0, '127.0.0.1');
  const base = 'http://127.0.0.1:' + app.getHttpServer().address().port;
  const token = await app.get(lib.JwtExtendedService).createAccessToken('alice');
  const answer = async (path, headers) => {
    const response = await fetch(base + path, { headers });
    return [response.status, await response.json()];
  };
  results[name] = {
    ok: await answer('/me', { authorization: 'Bearer ' + token }),
    denied: await answer('/me'),
    open: await answer('/open'),
  };
  await app.close();
}
console.log(JSON.stringify(results));
`;

describe('an HTTP-only app without the optional context packages', () => {
  let dir: string;
  let run: ReturnType<typeof spawnSync>;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'jwt-no-hard-dependency-'));
    compileLibrary(dir);
    // The app's dependencies resolve as in this repository; the hook takes the optional peers away.
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
    writeFileSync(join(dir, 'hooks.mjs'), HOOKS);
    writeFileSync(join(dir, 'register.mjs'), REGISTER);
    writeFileSync(join(dir, 'app.mjs'), APP);
    run = spawnSync(process.execPath, ['--import', pathToFileURL(join(dir, 'register.mjs')).href, join(dir, 'app.mjs')], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts, guards a route, answers a public one and shapes errors on Express and Fastify', () => {
    expect({
      status: run.status,
      stderr: String(run.stderr)
        .split('\n')
        .filter((line) => !line.startsWith('absent: ')),
    }).toEqual({
      status: 0,
      stderr: [''],
    });
    const results = JSON.parse(String(run.stdout)) as Record<string, unknown>;
    // The hook works: the package really is absent in that process.
    expect(results.peer).toBe('ERR_MODULE_NOT_FOUND');
    for (const adapter of ['express', 'fastify']) {
      expect(results[adapter]).toEqual({
        ok: [200, { identity: 'alice' }],
        denied: [401, { shaped: 'Missing Authorization Header' }],
        open: [200, { open: true }],
      });
    }
  });

  it('the library itself never asks for them', () => {
    const libraryUrl = pathToFileURL(join(dir, 'lib')).href;
    const attempts = String(run.stderr)
      .split('\n')
      .filter((line) => line.startsWith('absent: '));
    expect(attempts.filter((line) => line.includes(libraryUrl))).toEqual([]);
  });
});
