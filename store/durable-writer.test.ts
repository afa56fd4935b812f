import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../core/clock.ts';
import { CommitLog } from './commit-log.ts';
import { DurableWriter } from './durable-writer.ts';
import type { Point } from './time-series-store.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const point = (i: number, pad = 0): Point => ({
  measurement: 'air',
  tags: { sensorId: 's', kind: 'air', district: 'd' },
  fields: { pm25: i, ...(pad ? { note: 'x'.repeat(pad) } : {}) },
  ts: 1_700_000_000_000 + i,
});

function setup(maxBytes: number) {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-writer-'));
  dirs.push(dir);
  const log = CommitLog.open({ dir, segmentBytes: 64 * 1024 });
  const writer = new DurableWriter({ log, maxBytes, clock: systemClock, logger: pino({ level: 'silent' }) });
  return { log, writer };
}

describe('DurableWriter', () => {
  it('commits concurrent writes in groups and reports them in order', async () => {
    const { log, writer } = setup(64 * 1024 * 1024);
    const seen: number[] = [];
    writer.on('durable', (points) => seen.push(...points.map((p) => p.fields.pm25 as number)));
    await Promise.all(Array.from({ length: 200 }, (_, i) => writer.write([point(i)])));
    expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(writer.stats.groups).toBeLessThan(200); // grouped, not one fsync per write
    const records = await log.read(0, 10 * 1024 * 1024);
    expect(records).toHaveLength(200);
  });

  it('holds writes while the log is full and lets them through once space is released', async () => {
    const { log, writer } = setup(1024 * 1024);
    // 17 records of ~60 KB fit under 1 MiB; the 18th does not
    for (let i = 0; i < 17; i++) await writer.write([point(i, 60_000)]);
    let done = false;
    const held = writer.write([point(999, 60_000)]).then(() => {
      done = true;
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(done).toBe(false);
    expect(writer.isFull).toBe(true);
    log.release(log.head); // the consumers caught up
    writer.notifySpace();
    await held;
    expect(done).toBe(true);
    expect(writer.isFull).toBe(false);
  });

  it('settled() waits for writes made before it, and gives up after its timeout while the log is full', async () => {
    const { log, writer } = setup(1024 * 1024);
    await expect(writer.settled(1000)).resolves.toBe(true); // nothing queued
    const durable: number[] = [];
    writer.on('durable', (points) => durable.push(...points.map((p) => p.fields.pm25 as number)));
    for (let i = 0; i < 5; i++) void writer.write([point(i)]);
    await expect(writer.settled(5000)).resolves.toBe(true);
    expect(durable).toEqual([0, 1, 2, 3, 4]);

    for (let i = 0; i < 17; i++) await writer.write([point(i, 60_000)]);
    const held = writer.write([point(999, 60_000)]);
    await expect(writer.settled(300)).resolves.toBe(false); // held behind a full log
    const waiting = writer.settled(10_000);
    log.release(log.head);
    writer.notifySpace();
    await held;
    await expect(waiting).resolves.toBe(true);
  });

  it('refuses writes after close, and close waits for queued writes', async () => {
    const { writer } = setup(64 * 1024 * 1024);
    const pending = writer.write([point(1)]);
    await writer.close();
    await expect(pending).resolves.toBeUndefined();
    await expect(writer.write([point(2)])).rejects.toThrow(/closed/);
  });
});
