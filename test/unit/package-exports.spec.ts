import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const pkg = JSON.parse(read('package.json')) as {
  exports: Record<string, string | { types: string; default: string }>;
  typesVersions: Record<string, Record<string, string[]>>;
  files: string[];
  scripts: Record<string, string>;
  license: string;
};
// Not imported statically: jest.config.js has no types.
const { default: jestConfig } = (await import(new URL('jest.config.js', root).href)) as {
  default: { moduleNameMapper: Record<string, string> };
};
const tsconfig = JSON.parse(read('tsconfig.json')) as { compilerOptions: { paths: Record<string, string[]> } };
const subPaths = Object.entries(pkg.exports).filter(
  (entry): entry is [string, { types: string; default: string }] => entry[0] !== '.' && typeof entry[1] === 'object',
);

describe('the package shape', () => {
  it.each(subPaths)('%s: typesVersions (node10), tsconfig paths and jest mapping point where exports does', (subPath, target) => {
    const name = subPath.slice(2);
    const source = target.types.replace(/^\.\/dist\//, 'lib/').replace(/\.d\.ts$/, '.ts');
    expect(target.default).toBe(target.types.replace(/\.d\.ts$/, '.js'));
    expect(existsSync(new URL(source, root))).toBe(true);
    expect(pkg.typesVersions['*'][name]).toEqual([target.types]);
    expect(tsconfig.compilerOptions.paths[`nestjs-jwt-extended/${name}`]).toEqual([`./${source}`]);
    expect(jestConfig.moduleNameMapper[`^nestjs-jwt-extended/${name}$`]).toBe(`<rootDir>/${source}`);
  });

  it('exports the testing kit, the Redis store and the OpenAPI helper as sub-paths', () => {
    expect(subPaths.map(([subPath]) => subPath)).toEqual(expect.arrayContaining(['./redis', './testing', './swagger']));
  });

  it('packs dist (built by prepack) and an MIT LICENSE', () => {
    expect(pkg.scripts.prepack).toBe('npm run build');
    expect(pkg.files).toEqual(expect.arrayContaining(['dist', 'LICENSE']));
    expect(pkg.license).toBe('MIT');
    expect(read('LICENSE')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} nestjs-jwt-extended contributors\n/);
  });
});
