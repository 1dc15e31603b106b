import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const LIB = fileURLToPath(new URL('../../lib', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

describe('@nestjs/websockets stays an optional peer', () => {
  it('no library file imports it at load time (only `import type` and a dynamic import())', () => {
    const loadTime = /^\s*(?:import|export)\s+(?!type\b)[^;]*?from\s+['"]@nestjs\/websockets['"]|^\s*import\s+['"]@nestjs\/websockets['"]/m;
    const offenders = sources(LIB).filter((file) => loadTime.test(readFileSync(file, 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('the WebSocket context imports it only when a failure needs WsException', () => {
    const source = readFileSync(join(LIB, 'request', 'ws-context.ts'), 'utf8');
    expect(source).toMatch(/import\('@nestjs\/websockets'\)/);
  });
});
