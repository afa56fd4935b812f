import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder of the project's package.json, where config/, console/, docs/ and simulators/ live. The code runs
 * from the sources (tsx, vitest: this file in core/) or from the build (npm start: bundled into dist/main.js),
 * so files that are not code are found from here, never relative to the running module.
 */
function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json in ${from} or above`);
  }
}

export const PROJECT_ROOT = findProjectRoot(dirname(fileURLToPath(import.meta.url)));

/** A path inside the project (never inside dist/): `projectPath('config', 'default.yaml')`. */
export const projectPath = (...parts: string[]): string => join(PROJECT_ROOT, ...parts);
