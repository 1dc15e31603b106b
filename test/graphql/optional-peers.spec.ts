import { describe, expect, it } from '@jest/globals';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const lib = fileURLToPath(new URL('../../lib/', import.meta.url));

/** Every module specifier the library's sources import, static or dynamic, per file. */
function importsOf(dir: string): [string, string][] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .flatMap((file) => {
      const source = readFileSync(join(dir, file), 'utf8');
      return [...source.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((match): [string, string] => [file, match[1]]);
    });
}

const GRAPHQL_PACKAGES = /^(?:@nestjs\/graphql|@nestjs\/apollo|@nestjs\/mercurius|@apollo\/|@as-integrations\/|graphql|mercurius)(?:\/|$)/;

describe('GraphQL packages are optional peers', () => {
  it('the library imports none of them: HTTP-only apps never load them, the GraphQL adapter reads the context by shape', () => {
    const imports = importsOf(lib);
    expect(imports.length).toBeGreaterThan(50);
    expect(imports.filter(([, specifier]) => GRAPHQL_PACKAGES.test(specifier))).toEqual([]);
    // The adapter itself is part of what is scanned.
    expect(imports.some(([file]) => file.endsWith('graphql-context.ts'))).toBe(true);
  });
});
