import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../core/clock.ts';
import { loadPlatformConfig } from '../config/platform-config.ts';
import { runningPid } from './data-dir-lock.ts';
import { DurablePipeline } from './durable-pipeline.ts';

/**
 * The durable pipeline on its own, with the real commit log and the real embedded store: what platform.ts
 * composes (issue 15 item 4). Before open() it must answer health and metrics without a feeder; after
 * close() the log and the data-dir lock are released and a new pipeline replays what was acknowledged.
 */
describe('durable pipeline', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const make = (dataDir: string) => {
    const config = loadPlatformConfig({ env: {}, overrides: { dataDir } });
    const registry = new Registry();
    const logger = pino({ level: 'silent' });
    return {
      pipeline: new DurablePipeline({ config, clock: createManualClock(Date.UTC(2026, 9, 1)), logger, registry }),
      registry,
    };
  };
  const point = (ts: number, pm25: number) => ({
    measurement: 'air',
    tags: { sensorId: 'air-ngomon', kind: 'air', district: 'phu-xuan' },
    fields: { pm25 },
    ts,
  });

  it('reports the store as not ready before open, then acknowledges, stores and reads back in order', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ioc-pipeline-'));
    dirs.push(dataDir);
    const { pipeline, registry } = make(dataDir);
    // health and metrics before the adapter is open: no feeder yet, and no throw
    expect(pipeline.health().store).toMatchObject({ engine: 'embedded', ready: false });
    expect(await registry.getSingleMetricAsString('ioc_store_up')).toMatch(/ioc_store_up 0/);
    expect(() => pipeline.feeder).toThrow(/not open/);
    // a write made before open is durable at once (the log) and reaches the store once it opens
    await pipeline.writer.write([point(1_000, 10)]);
    await pipeline.open();
    await pipeline.writer.write([point(2_000, 20)]);
    await pipeline.readBarrier();
    const stored = await pipeline.store.queryPoints({ measurement: 'air', from: 0, to: 3_000 });
    expect(stored.map((p) => p.fields.pm25)).toEqual([10, 20]);
    expect(pipeline.health()).toMatchObject({ status: 'ok', store: { ready: true, lagBytes: 0 } });
    expect(runningPid(dataDir)).toBe(process.pid);
    await Promise.all([pipeline.close(), pipeline.close()]);
    expect(runningPid(dataDir)).toBeUndefined();
    await expect(pipeline.writer.write([point(3_000, 30)])).rejects.toThrow(/closed/);
  });

  it('replays at the next open what was acknowledged but not yet in the store', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ioc-pipeline-'));
    dirs.push(dataDir);
    const first = make(dataDir).pipeline;
    // acknowledged (in the log), the adapter never opened: a crash between fsync and store write
    await first.writer.write([point(1_000, 11), point(2_000, 12)]);
    await first.close();
    const second = make(dataDir).pipeline;
    await second.open();
    await second.readBarrier();
    const stored = await second.store.queryPoints({ measurement: 'air', from: 0, to: 3_000 });
    expect(stored.map((p) => p.fields.pm25)).toEqual([11, 12]);
    await second.close();
  });
});
