import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { writeThrough } from '../alerts/write-through-store.ts';
import { createManualClock, systemClock } from '../core/clock.ts';
import { CommitLog } from './commit-log.ts';
import { DurableWriter } from './durable-writer.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import { StoreFeeder } from './store-feeder.ts';
import type { Point } from './time-series-store.ts';

/**
 * The feeder's flush interval (lingerMs, InfluxDB's `flushIntervalMs`) over a real commit log and the real
 * embedded store, in simulated time: readings that trickle in are written together, and a reader waiting
 * for the store or a full batch does not wait for the interval.
 */
const T0 = Date.UTC(2026, 9, 1);
const point = (i: number): Point => ({
  measurement: 'air',
  tags: { sensorId: 'air-1', kind: 'air', district: 'd' },
  fields: { pm25: i },
  ts: T0 + i,
});
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(lingerMs: number, batchPoints = 1000) {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-feeder-'));
  const clock = createManualClock(T0);
  const logger = pino({ level: 'silent' });
  const log = CommitLog.open({ dir: join(dir, 'log'), segmentBytes: 1024 * 1024 });
  const writer = new DurableWriter({ log, maxBytes: 64 * 1024 * 1024, clock: systemClock, logger });
  const real = await SqliteStore.open(join(dir, 'store.sqlite'));
  const writes: number[] = [];
  // the points of each store write, as the feeder batches them (the object path: no writeEncoded)
  const store = writeThrough(real, async (points) => {
    writes.push(points.length);
    await real.write(points);
  });
  const feeder = new StoreFeeder({
    name: 'test',
    log,
    store,
    checkpointFile: join(dir, 'checkpoint'),
    clock,
    logger,
    lingerMs,
    batchPoints,
  });
  writer.on('durable', (points, end, records) => feeder.push(points, end, records));
  feeder.start();
  await feeder.waitFor(log.head, 1000); // empty log: leaves the disk reader
  cleanups.push(async () => {
    await feeder.stop();
    await writer.close();
    await real.close();
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const settle = () => new Promise((r) => setTimeout(r, 30));
  return { clock, log, writer, feeder, real, writes, settle };
}

describe('StoreFeeder flush interval', () => {
  it('writes readings that trickle in together once the oldest has waited the interval', async () => {
    const { clock, writer, writes, settle, real } = await setup(200);
    for (let i = 0; i < 3; i++) {
      await writer.write([point(i)]);
      clock.advance(50);
      await settle();
    }
    expect(writes).toEqual([]); // 100 ms after the first: still waiting for more
    clock.advance(100);
    await settle();
    expect(writes).toEqual([3]);
    expect(
      await real.queryRange({ measurement: 'air', sensorId: 'air-1', field: 'pm25', from: T0, to: T0 + 10 }),
    ).toHaveLength(3);
  });

  it('does not make a waiting reader or a full batch wait for the interval', async () => {
    const { clock, log, writer, feeder, writes, settle } = await setup(60_000, 10);
    await writer.write([point(1)]);
    await settle();
    expect(writes).toEqual([]);
    await expect(feeder.waitFor(log.head, 5000)).resolves.toBe(true); // the read barrier cuts it short
    expect(writes).toEqual([1]);

    await writer.write(Array.from({ length: 12 }, (_, i) => point(10 + i)));
    await settle();
    expect(writes).toEqual([1, 12]); // a full batch goes at once
    expect(clock.now()).toBe(T0);
  });

  it('writes at once with no interval', async () => {
    const { writer, writes, settle } = await setup(0);
    await writer.write([point(1)]);
    await settle();
    expect(writes).toEqual([1]);
  });
});
