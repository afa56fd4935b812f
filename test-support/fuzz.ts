/**
 * How many cases a property-based test runs. `npm test` runs a small, seed-fixed number so a failure
 * reproduces; `npm run bench -- fuzz` runs every `*.fuzz.test.ts` with IOC_FUZZ_RUNS (100,000 by default)
 * and a fresh seed it prints, so a long run's failure can be replayed with IOC_FUZZ_SEED.
 */
export interface FuzzParameters {
  readonly numRuns: number;
  readonly seed: number;
}

export function fuzzParameters(defaultRuns: number): FuzzParameters {
  const runs = Number(process.env.IOC_FUZZ_RUNS);
  const seed = Number(process.env.IOC_FUZZ_SEED);
  return {
    numRuns: Number.isInteger(runs) && runs > 0 ? runs : defaultRuns,
    seed: Number.isInteger(seed) ? seed : 20261205,
  };
}
