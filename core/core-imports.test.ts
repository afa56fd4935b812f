import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CORE = dirname(fileURLToPath(import.meta.url));

/** Every module specifier a file imports or re-exports (static and dynamic). */
function specifiers(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]/g)) found.push(m[1]!);
  for (const m of source.matchAll(/(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)) found.push(m[1]!);
  for (const m of source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1]!);
  return found;
}

describe('core/', () => {
  it('imports nothing of the platform: only Node built-ins and files of core/ itself', () => {
    const files = readdirSync(CORE).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    const outside = files.flatMap((file) =>
      specifiers(readFileSync(join(CORE, file), 'utf8'))
        .filter((s) => !s.startsWith('node:') && !(s.startsWith('./') && !s.includes('/', 2)))
        .map((s) => `${file} imports ${s}`),
    );
    expect(outside).toEqual([]);
  });

  it('the check sees an import from outside core/', () => {
    expect(specifiers("import type { City } from '../config/city-config.ts';\nimport { x } from './y.ts';")).toEqual([
      '../config/city-config.ts',
      './y.ts',
    ]);
  });
});
