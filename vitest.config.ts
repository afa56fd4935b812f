import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    // bench/node-red has node_modules of its own (Node-RED, installed by its benchmark)
    exclude: ['**/node_modules/**', 'data/**'],
    testTimeout: 30_000,
    // The JSON report is how .ci/run counts passed and failed tests (CI does not read vitest's summary).
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
    hookTimeout: 60_000,
    // Integration tests start real servers; two cores run two files at a time comfortably.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
