import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock, type ManualClock } from '../../core/clock.ts';
import { startLifecycleJobs, type LifecycleJobs } from '../lifecycle-jobs.ts';
import type { AggregateFn, Point } from '../time-series-store.ts';
import type { LifecyclePolicy } from './sqlite-lifecycle.ts';
import { SqliteStore } from './sqlite-store.ts';

/** Roll-ups and retention of the embedded store in simulated time, on real SQLite files. */
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const D0 = Date.UTC(2026, 9, 1);
const TAGS = { sensorId: 'air-1', kind: 'air', district: 'Phú Hội' };
const POLICY: LifecyclePolicy = {
  rawKeepMs: { air: 2 * DAY },
  rollup1mKeepMs: 7 * DAY,
  rollup1hKeepMs: 0,
  maxSpanMs: 6 * HOUR,
};
const silent = { info: () => undefined, error: () => undefined };

/** A reading every 10 s; the value varies inside each hour and from day to day. */
function readings(from: number, to: number): Point[] {
  const points: Point[] = [];
  for (let ts = from; ts < to; ts += 10_000)
    points.push({
      measurement: 'air',
      tags: TAGS,
      fields: { pm25: ((ts / 10_000) % 97) + Math.floor((ts - D0) / DAY), note: 'ok' },
      ts,
    });
  return points;
}

/** What every bucket should hold, computed here from the same points. */
function expected(points: Point[], every: number, fn: AggregateFn): Array<{ ts: number; value: number }> {
  const buckets = new Map<number, number[]>();
  for (const p of points) {
    const b = p.ts - (p.ts % every);
    buckets.set(b, [...(buckets.get(b) ?? []), p.fields.pm25 as number]);
  }
  const reduce: Record<string, (v: number[]) => number> = {
    max: (v) => Math.max(...v),
    min: (v) => Math.min(...v),
    count: (v) => v.length,
    sum: (v) => v.reduce((a, b) => a + b, 0),
    mean: (v) => v.reduce((a, b) => a + b, 0) / v.length,
  };
  return [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([ts, v]) => ({ ts, value: reduce[fn]!(v) }));
}

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

async function setup(
  start: number,
  file?: string,
): Promise<{ store: SqliteStore; clock: ManualClock; jobs: LifecycleJobs; file: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-lifecycle-'));
  const path = file ?? join(dir, 'ioc.sqlite');
  const store = await SqliteStore.open(path, { readers: 2, policy: POLICY });
  const clock = createManualClock(start);
  const jobs = startLifecycleJobs({
    store,
    clock,
    schedule: { rollup: '* * * * *', retention: '7 * * * *' },
    logger: silent,
  });
  cleanup.push(async () => {
    jobs.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, clock, jobs, file: path };
}

/** Lets the scheduled roll-up (and its catch-up runs) work through the backlog in simulated time. */
async function catchUp(clock: ManualClock, jobs: LifecycleJobs): Promise<void> {
  for (let i = 0; i < 40; i++) {
    clock.advance(1000);
    await jobs.run('rollup');
  }
}

function rowCount(file: string, table: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('embedded store roll-ups', () => {
  it('answers every aggregate the same from roll-ups as from raw readings, aligned and unaligned ranges', async () => {
    const { store, clock, jobs, file } = await setup(D0 + 3 * DAY + 30_000);
    const points = readings(D0, D0 + 3 * DAY);
    await store.write(points);
    const base = { measurement: 'air', sensorId: 'air-1', field: 'pm25' };
    const queries = [
      { from: D0, to: D0 + 3 * DAY, every: DAY },
      { from: D0, to: D0 + 3 * DAY, every: HOUR },
      { from: D0 + 7 * MIN + 3_000, to: D0 + 2 * DAY + 11 * MIN, every: 5 * MIN },
      { from: D0 + 90_000, to: D0 + DAY, every: 30_000 },
    ];
    const fns: AggregateFn[] = ['mean', 'min', 'max', 'count', 'sum', 'first', 'last'];
    const before = await Promise.all(queries.flatMap((q) => fns.map((fn) => store.aggregate({ ...base, ...q, fn }))));
    expect(rowCount(file, 'rollup_1h')).toBe(0);

    clock.advance(MIN); // the minute's cron tick starts the job; it is behind and catches up on the clock
    await catchUp(clock, jobs);
    expect(rowCount(file, 'rollup_1h')).toBe(3 * 24);
    const after = await Promise.all(queries.flatMap((q) => fns.map((fn) => store.aggregate({ ...base, ...q, fn }))));
    after.forEach((samples, i) => {
      expect(samples.map((s) => s.ts)).toEqual(before[i]!.map((s) => s.ts));
      samples.forEach((s, j) => {
        expect(s.value).toBeCloseTo(before[i]![j]!.value, 6);
      });
    });
    expect(after[2]).toEqual(expected(points, DAY, 'max'));
  });

  it('rolls a late reading into minutes and hours already rolled up', async () => {
    const { store, clock, jobs } = await setup(D0 + DAY + 30_000);
    await store.write(readings(D0, D0 + DAY));
    clock.advance(MIN);
    await catchUp(clock, jobs);
    // a device's backlog arrives after its hour was rolled up
    await store.write([{ measurement: 'air', tags: TAGS, fields: { pm25: 5000 }, ts: D0 + HOUR + 5_000 }]);
    clock.advance(MIN);
    await jobs.run('rollup');
    const q = { measurement: 'air', sensorId: 'air-1', field: 'pm25', from: D0, to: D0 + DAY };
    expect(await store.aggregate({ ...q, every: DAY, fn: 'max' })).toEqual([{ ts: D0, value: 5000 }]);
    expect((await store.aggregate({ ...q, every: HOUR, fn: 'max' }))[1]).toEqual({ ts: D0 + HOUR, value: 5000 });
    expect(await store.aggregate({ ...q, every: DAY, fn: 'count' })).toEqual([{ ts: D0, value: 8641 }]);
  });
});

describe('embedded store retention', () => {
  it("drops raw readings past their kind's retention, 1-minute roll-ups past theirs; daily figures stay", async () => {
    const { store, clock, jobs, file } = await setup(D0 + 3 * DAY + 30_000);
    const points = readings(D0, D0 + 3 * DAY);
    await store.write(points);
    await store.write([
      { measurement: 'alert_events', tags: { ruleId: 'r1', sensorId: 'air-1' }, fields: { state: 'firing' }, ts: D0 },
    ]);
    clock.advance(MIN);
    await catchUp(clock, jobs);
    const q = { measurement: 'air', sensorId: 'air-1', field: 'pm25' };
    const dailyMax = await store.aggregate({ ...q, from: D0, to: D0 + 3 * DAY, every: DAY, fn: 'max' });

    clock.advance(HOUR); // passes a ':07' minute: the retention job runs on its schedule
    await jobs.run('retention');
    const raw = await store.queryRange({ ...q, from: D0, to: D0 + 3 * DAY });
    // the job ran in the minute D0 + 3 d + 7 min: two days back from then
    expect(raw[0]!.ts).toBeGreaterThanOrEqual(D0 + DAY + 7 * MIN);
    expect(raw[0]!.ts).toBeLessThan(D0 + DAY + 8 * MIN);
    expect(await store.aggregate({ ...q, from: D0, to: D0 + 3 * DAY, every: DAY, fn: 'max' })).toEqual(dailyMax);
    // alert events are not a sensor kind with a retention: kept
    expect(await store.queryPoints({ measurement: 'alert_events', from: D0, to: D0 + 1 })).toHaveLength(1);

    clock.advance(8 * DAY);
    await jobs.run('retention'); // the run the advance started, at its first ':07'
    await jobs.run('retention'); // and one at the end of the eight days
    expect(rowCount(file, 'readings')).toBe(1);
    expect(rowCount(file, 'rollup_1m')).toBe(0);
    expect(await store.aggregate({ ...q, from: D0, to: D0 + 3 * DAY, every: DAY, fn: 'max' })).toEqual(dailyMax);
    expect(await store.latest({ sensorIds: ['air-1'] })).toEqual([
      expect.objectContaining({ field: 'pm25', ts: D0 + 3 * DAY - 10_000 }),
    ]);
  });
});

describe('embedded store made before roll-ups', () => {
  it('opens a data dir in the row-per-point layout and rolls its history up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ioc-lifecycle-old-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'ioc.sqlite');
    // the layout of the commit "Embedded store: a row per point", as a store of that version left it
    const old = new Database(file);
    old.exec(`
      CREATE TABLE series (id INTEGER PRIMARY KEY, measurement TEXT NOT NULL, key TEXT NOT NULL UNIQUE,
        sensor_id TEXT, kind TEXT, district TEXT, tags TEXT NOT NULL);
      CREATE INDEX series_by_sensor ON series (sensor_id, measurement);
      CREATE TABLE readings (series_id INTEGER NOT NULL, ts INTEGER NOT NULL, fields TEXT NOT NULL,
        PRIMARY KEY (series_id, ts)) WITHOUT ROWID;
      CREATE TABLE latest (series_id INTEGER NOT NULL, field TEXT NOT NULL, ts INTEGER NOT NULL, num REAL NOT NULL,
        PRIMARY KEY (series_id, field)) WITHOUT ROWID;
    `);
    old
      .prepare('INSERT INTO series VALUES (1, ?, ?, ?, ?, ?, ?)')
      .run('air', 'air,district=Phú Hội,kind=air,sensorId=air-1', 'air-1', 'air', 'Phú Hội', JSON.stringify(TAGS));
    const insert = old.prepare('INSERT INTO readings VALUES (1, ?, ?)');
    const points = readings(D0, D0 + 2 * DAY);
    old.transaction(() => {
      for (const p of points) insert.run(p.ts, JSON.stringify(p.fields));
    })();
    old.close();

    const { store, clock, jobs } = await setup(D0 + 2 * DAY + 30_000, file);
    const q = {
      measurement: 'air',
      sensorId: 'air-1',
      field: 'pm25',
      from: D0,
      to: D0 + 2 * DAY,
      every: DAY,
      fn: 'max' as const,
    };
    expect(await store.aggregate(q)).toEqual(expected(points, DAY, 'max'));
    clock.advance(MIN);
    await catchUp(clock, jobs);
    expect(rowCount(file, 'rollup_1h')).toBe(48);
    expect(await store.aggregate(q)).toEqual(expected(points, DAY, 'max'));
    expect(await store.aggregate({ ...q, fn: 'mean' })).toEqual(
      expected(points, DAY, 'mean').map((s) => ({ ts: s.ts, value: expect.closeTo(s.value, 6) })),
    );
  });
});
