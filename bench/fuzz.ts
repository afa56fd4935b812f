import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';

/**
 * `npm run bench -- fuzz [--runs N] [--seed S]`: every property-based test file (`*.fuzz.test.ts`) with
 * N cases per property (100,000 by default) and a fresh seed, printed so a failure can be replayed:
 * `IOC_FUZZ_RUNS=N IOC_FUZZ_SEED=S npx vitest run fuzz.test`. `npm test` runs the same files with a few
 * hundred cases and a fixed seed.
 */
const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const runs = Number(option('runs') ?? 100_000);
const seed = Number(option('seed') ?? randomInt(2 ** 31));
const root = fileURLToPath(new URL('..', import.meta.url));
console.log(`fuzz: ${runs} cases per property, seed ${seed}`);
const started = Date.now();
const result = spawnSync('npx', ['vitest', 'run', '--testTimeout', '0', '--reporter', 'default', 'fuzz.test'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, IOC_FUZZ_RUNS: String(runs), IOC_FUZZ_SEED: String(seed) },
});
console.log(
  `fuzz: ${result.status === 0 ? 'no failure' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(0)} s ` +
    `(replay: IOC_FUZZ_RUNS=${runs} IOC_FUZZ_SEED=${seed} npx vitest run fuzz.test)`,
);
process.exit(result.status ?? 1);
