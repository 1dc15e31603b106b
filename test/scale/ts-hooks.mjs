// Module hooks that let a plain `node` child process run the TypeScript sources (lib/, test/)
// as ts-jest does: each file transpiled alone, with decorator metadata for Nest's injection.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Transpiled output is kept on disk by source hash: a fleet starts many processes from the same
// sources, and TypeScript is loaded (hundreds of ms) and run only when a source changed.
const CACHE = join(tmpdir(), 'nestjs-jwt-extended-ts-hooks');
// The key also covers these hooks (compiler options) and the TypeScript version.
const SALT = await Promise.all([
  readFile(fileURLToPath(import.meta.url)),
  readFile(createRequire(import.meta.url).resolve('typescript/package.json')),
]);
let typescript;

const compilerOptions = (ts) => ({
  module: ts.ModuleKind.ESNext,
  target: ts.ScriptTarget.ES2023,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  sourceMap: false,
});

/** Relative imports carry `.js` extensions (NodeNext style): point them at the `.ts` source when there is one. */
export async function resolve(specifier, context, nextResolve) {
  if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
    const candidate = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
    if (existsSync(fileURLToPath(candidate))) return { url: candidate.href, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (!url.endsWith('.ts')) return nextLoad(url, context);
  const fileName = fileURLToPath(url);
  const source = await readFile(fileName, 'utf8');
  const cached = join(
    CACHE,
    `${createHash('sha256').update(SALT[0]).update(SALT[1]).update(fileName).update('\0').update(source).digest('hex')}.js`,
  );
  const hit = await readFile(cached, 'utf8').catch(() => undefined);
  if (hit !== undefined) return { format: 'module', source: hit, shortCircuit: true };
  typescript ??= (await import('typescript')).default;
  const { outputText } = typescript.transpileModule(source, { compilerOptions: compilerOptions(typescript), fileName });
  // Written whole under a unique name, then renamed: a process reading it never sees half a file.
  await mkdir(CACHE, { recursive: true });
  const partial = `${cached}.${process.pid}`;
  await writeFile(partial, outputText);
  await rename(partial, cached);
  return { format: 'module', source: outputText, shortCircuit: true };
}
