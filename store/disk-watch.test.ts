import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../core/clock.ts';
import { captureLogs } from '../test-support/log-capture.ts';
import { DiskWatch } from './disk-watch.ts';

/** The low-disk watermark against the real free space of the temp dir's filesystem. */
const dir = mkdtempSync(join(tmpdir(), 'ioc-diskwatch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const watch = (lowWatermarkBytes: number, lowWatermarkPercent = 0) => {
  const logs = captureLogs('info');
  const clock = createManualClock();
  return {
    logs,
    clock,
    disk: new DiskWatch({ dir, clock, logger: logs.logger, lowWatermarkBytes, lowWatermarkPercent, checkSeconds: 5 }),
  };
};

describe('DiskWatch', () => {
  it('is low below the byte watermark, with the reason, and warns once however often it checks', async () => {
    const { logs, disk } = watch(Number.MAX_SAFE_INTEGER);
    for (let i = 0; i < 5; i++) await disk.check();
    const s = disk.snapshot();
    expect(s.low).toBe(true);
    expect(s.freeBytes).toBeGreaterThan(0);
    expect(s.reason).toMatch(/^low disk space on the data dir: .* free \(.*%\), below the watermark/);
    expect(logs.lines.filter((l) => l.level === 40)).toHaveLength(1);
  });

  it('is low below the percent watermark too, and not low under both', async () => {
    expect((await watch(0, 100.0001).disk.check()).low).toBe(true);
    const { logs, disk } = watch(0, 0);
    expect((await disk.check()).low).toBe(false);
    expect(logs.lines).toHaveLength(0);
  });

  it('checks on the injected clock once started', async () => {
    const { clock, disk } = watch(Number.MAX_SAFE_INTEGER);
    expect(disk.snapshot().freeBytes).toBeUndefined();
    disk.start();
    clock.advance(5000);
    await new Promise((r) => setTimeout(r, 50));
    expect(disk.snapshot().low).toBe(true);
    disk.stop();
  });
});
