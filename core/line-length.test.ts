import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * No line over 120 characters in code, config and docs (issue 15, docs/code-style.md). Biome's formatter keeps
 * code within 120 but never breaks a string or a comment, and Markdown and YAML are not formatted at all, so
 * this test reads every tracked file of those types. Exempt: what no one can wrap (a Markdown table row, npm's
 * lock file, Grafana's exported dashboard, GeoJSON data). Files that still had long lines when the check came
 * are listed in line-length-baseline.json with their count: a file may only go down, and must leave the list
 * once clean, so the list shrinks to nothing.
 */
const MAX_LINE = 120;
const ROOT = join(import.meta.dirname, '..');
const CHECKED = /\.(ts|mts|mjs|js|css|ya?ml|json|md)$/;
const EXEMPT_FILES = [/^package-lock\.json$/, /^docs\/grafana\//, /\.geojson$/];
const known: Readonly<Record<string, number>> = JSON.parse(
  readFileSync(join(import.meta.dirname, 'line-length-baseline.json'), 'utf8'),
);

function longLines(file: string): number[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const markdown = file.endsWith('.md');
  const found: number[] = [];
  lines.forEach((line, i) => {
    if (line.length <= MAX_LINE) return;
    if (markdown && line.trimStart().startsWith('|')) return; // a table row is one line by syntax
    found.push(i + 1);
  });
  return found;
}

function trackedFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' });
  return out
    .split('\0')
    .filter((f) => CHECKED.test(f) && !EXEMPT_FILES.some((re) => re.test(f)))
    .sort();
}

describe('line length', () => {
  const offenders = new Map(
    trackedFiles()
      .map((f) => [f, longLines(f)] as const)
      .filter(([, lines]) => lines.length > 0),
  );

  it(`has no new line over ${MAX_LINE} characters in code, config or docs`, () => {
    const grown = [...offenders]
      .filter(([file, lines]) => lines.length > (known[file] ?? 0))
      .flatMap(([file, lines]) => lines.map((n) => `${file}:${n}`));
    expect(grown, `lines over ${MAX_LINE} characters: break them (strings: concatenate; prose: wrap)`).toEqual([]);
  });

  it('keeps the baseline of older long lines exact, so it only shrinks', () => {
    const stale = Object.entries(known)
      .filter(([file, count]) => (offenders.get(file)?.length ?? 0) < count)
      .map(([file, count]) => `${file}: ${offenders.get(file)?.length ?? 0} now, ${count} in the baseline`);
    expect(stale, 'lower these counts in core/line-length-baseline.json (remove a file at 0)').toEqual([]);
  });
});
