import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * No unused dependency (issue 15 item 7): every package in package.json is imported by tracked code, run by
 * its command (an npm script, `.ci/run`, or `node_modules/.bin/<command>` from code), or is the `@types/`
 * of a package that is used. A dependency that nothing uses costs every install and every audit for nothing
 * (node-cron sat unused until the scheduled jobs came; @fastify/rate-limit stayed after the sign-in limits
 * got their own limiter).
 */
const ROOT = join(import.meta.dirname, '..');
const CODE = /\.(ts|mts|cts|mjs|cjs|js)$/;

interface PackageJson {
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  bin?: string | Record<string, string>;
}

const readJson = (file: string): PackageJson => JSON.parse(readFileSync(file, 'utf8')) as PackageJson;
const pkg = readJson(join(ROOT, 'package.json'));
const all = { ...pkg.dependencies, ...pkg.devDependencies };
const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

const code = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' })
  .split('\0')
  .filter((f) => CODE.test(f))
  .map((f) => readFileSync(join(ROOT, f), 'utf8'))
  .join('\n');
const scripts = [...Object.values(pkg.scripts ?? {}), readFileSync(join(ROOT, '.ci', 'run'), 'utf8')].join('\n');

function commandsOf(name: string): string[] {
  const { bin } = readJson(join(ROOT, 'node_modules', name, 'package.json'));
  if (bin === undefined) return [];
  return typeof bin === 'string' ? [name.replace(/^@[^/]+\//, '')] : Object.keys(bin);
}

function isImported(name: string): boolean {
  // from 'x', import('x'), require('x'), node --import x, each also with a subpath ('x/esm/api')
  const spec = `['"]${escapeRegex(name)}(?:/[^'"]*)?['"]`;
  return new RegExp(`(?:\\bfrom\\s*|\\bimport\\s*\\(\\s*|\\brequire\\s*\\(\\s*|'--import',\\s*)${spec}`).test(code);
}

function isRun(name: string): boolean {
  return commandsOf(name).some(
    (command) =>
      new RegExp(`(?:^|[\\s;&|(])${escapeRegex(command)}\\s`, 'm').test(scripts) ||
      new RegExp(`\\.bin['"/,\\s]+${escapeRegex(command)}['"]`).test(code),
  );
}

function isUsed(name: string): boolean {
  if (name.startsWith('@types/')) {
    const typed = name.slice('@types/'.length).replace(/^(.+)__(.+)$/, '@$1/$2');
    return typed === 'node' || (typed in all && isUsed(typed));
  }
  return isImported(name) || isRun(name);
}

describe('dependencies', () => {
  it('lists only packages the code imports or the scripts run', () => {
    expect(Object.keys(all).filter((name) => !isUsed(name))).toEqual([]);
  });

  it('tells an unused package from a used one', () => {
    // an import, a command or a used package's types count; a name mentioned in prose or a string does not
    expect(isImported('fastify')).toBe(true);
    expect(isUsed('@types/node')).toBe(true);
    expect(isRun('@biomejs/biome')).toBe(true);
    expect(isImported('@fastify/rate-limit')).toBe(false);
  });
});
