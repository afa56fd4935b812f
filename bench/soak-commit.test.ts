import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Histogram, Registry } from 'prom-client';
import { commitP99Meter, diskWriteMeter, quantileMs } from './soak-commit.ts';

describe('the soak’s commit p99 (from the ioc_commit_seconds histogram)', () => {
  it('interpolates inside the bucket the quantile falls in', () => {
    // 100 observations: 90 up to 10 ms, 10 between 10 and 20 ms; the 99th is 9/10 of the way into the second
    expect(quantileMs([0.01, 0.02, Number.POSITIVE_INFINITY], [90, 100, 100], 0.99)).toBeCloseTo(19, 5);
    expect(quantileMs([0.01, Number.POSITIVE_INFINITY], [0, 0], 0.99)).toBeUndefined();
    // past the last finite bound all it can say is that bound
    expect(quantileMs([0.01, Number.POSITIVE_INFINITY], [50, 100], 0.99)).toBe(10);
  });

  it('reads each sample’s own observations, not the total since start', async () => {
    const registry = new Registry();
    const h = new Histogram({ name: 'ioc_commit_seconds', help: 'x', buckets: [0.005, 0.05], registers: [registry] });
    const meter = commitP99Meter(registry);
    for (let i = 0; i < 100; i++) h.observe(0.04);
    expect(await meter()).toBeGreaterThan(5);
    for (let i = 0; i < 100; i++) h.observe(0.001);
    expect(await meter()).toBeLessThan(5);
    expect(await meter()).toBeUndefined();
  });

  it('measures the machine’s disk writes: 16 MiB written and synced show', () => {
    const dir = mkdtempSync(join(tmpdir(), 'soak-disk-'));
    try {
      const meter = diskWriteMeter();
      const started = performance.now();
      const fd = openSync(join(dir, 'f'), 'w');
      writeSync(fd, Buffer.alloc(16 * 2 ** 20, 7));
      fsyncSync(fd);
      closeSync(fd);
      const rate = meter();
      const seconds = (performance.now() - started) / 1000;
      expect(rate! * seconds).toBeGreaterThan(15);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
