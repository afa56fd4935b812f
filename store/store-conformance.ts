import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Point, TimeSeriesStore } from './time-series-store.ts';

/**
 * The conformance suite every TimeSeriesStore adapter passes (embedded and InfluxDB), so both give the
 * same answers on the same data. Each test writes its own sensors under a fresh id, so the suite can run
 * against a shared server and in any order.
 */
export interface StoreUnderTest {
  store: TimeSeriesStore;
  cleanup(): Promise<void>;
}

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 9, 1, 0, 0, 0); // 2026-10-01, bucket-aligned for every test interval

function reading(sensorId: string, ts: number, fields: Record<string, number>, overrides: Partial<Point> = {}): Point {
  return {
    measurement: 'air',
    tags: { sensorId, kind: 'air', district: 'Phú Xuân' },
    fields,
    ts,
    ...overrides,
  };
}

function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export function describeStoreConformance(name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`${name} store conformance`, () => {
    let sut: StoreUnderTest;
    beforeAll(async () => {
      sut = await open();
    }, 60_000);
    afterAll(async () => {
      await sut?.cleanup();
    });

    it('returns written samples of one field in time order, within [from, to)', async () => {
      const id = uniqueId('range');
      await sut.store.write([
        reading(id, T0 + 2000, { pm25: 12.5, pm10: 30 }),
        reading(id, T0, { pm25: 10, pm10: 20 }),
        reading(id, T0 + 1000, { pm25: 11.25 }),
        reading(id, T0 + 3000, { pm25: 99 }),
      ]);
      const samples = await sut.store.queryRange({
        measurement: 'air',
        sensorId: id,
        field: 'pm25',
        from: T0,
        to: T0 + 3000,
      });
      expect(samples).toEqual([
        { ts: T0, value: 10 },
        { ts: T0 + 1000, value: 11.25 },
        { ts: T0 + 2000, value: 12.5 },
      ]);
      const pm10 = await sut.store.queryRange({
        measurement: 'air',
        sensorId: id,
        field: 'pm10',
        from: T0,
        to: T0 + HOUR,
      });
      expect(pm10.map((s) => s.value)).toEqual([20, 30]);
    });

    it('keeps one value when the same series, field and timestamp is written twice (replays land once)', async () => {
      const id = uniqueId('dup');
      const points = [reading(id, T0, { pm25: 5 }), reading(id, T0 + 1000, { pm25: 6 })];
      await sut.store.write(points);
      await sut.store.write(points);
      await sut.store.write([reading(id, T0 + 1000, { pm25: 7 })]);
      const samples = await sut.store.queryRange({
        measurement: 'air',
        sensorId: id,
        field: 'pm25',
        from: T0,
        to: T0 + HOUR,
      });
      expect(samples).toEqual([
        { ts: T0, value: 5 },
        { ts: T0 + 1000, value: 7 },
      ]);
    });

    it('honours the limit, oldest first', async () => {
      const id = uniqueId('limit');
      await sut.store.write(Array.from({ length: 10 }, (_, i) => reading(id, T0 + i * 1000, { pm25: i })));
      const samples = await sut.store.queryRange({
        measurement: 'air',
        sensorId: id,
        field: 'pm25',
        from: T0,
        to: T0 + HOUR,
        limit: 3,
      });
      expect(samples.map((s) => s.value)).toEqual([0, 1, 2]);
    });

    it('aggregates per epoch-aligned bucket with mean, min, max, first, last, count and sum', async () => {
      const id = uniqueId('agg');
      // bucket 0: 1, 2, 6 ; bucket 1: (empty) ; bucket 2: 10, 4
      const values: Array<[number, number]> = [
        [T0 + 1 * 60_000, 1],
        [T0 + 20 * 60_000, 2],
        [T0 + 59 * 60_000, 6],
        [T0 + 2 * HOUR + 5 * 60_000, 10],
        [T0 + 2 * HOUR + 30 * 60_000, 4],
      ];
      await sut.store.write(values.map(([ts, v]) => reading(id, ts, { pm25: v })));
      const base = { measurement: 'air', sensorId: id, field: 'pm25', from: T0, to: T0 + 3 * HOUR, every: HOUR };
      const run = async (fn: 'mean' | 'min' | 'max' | 'first' | 'last' | 'count' | 'sum') =>
        (await sut.store.aggregate({ ...base, fn })).map((s) => [s.ts - T0, s.value]);
      const mean = await run('mean');
      expect(mean.map(([t]) => t)).toEqual([0, 2 * HOUR]);
      expect(mean[0]![1]).toBeCloseTo(3, 9);
      expect(mean[1]![1]).toBeCloseTo(7, 9);
      expect(await run('min')).toEqual([
        [0, 1],
        [2 * HOUR, 4],
      ]);
      expect(await run('max')).toEqual([
        [0, 6],
        [2 * HOUR, 10],
      ]);
      expect(await run('first')).toEqual([
        [0, 1],
        [2 * HOUR, 10],
      ]);
      expect(await run('last')).toEqual([
        [0, 6],
        [2 * HOUR, 4],
      ]);
      expect(await run('count')).toEqual([
        [0, 3],
        [2 * HOUR, 2],
      ]);
      expect(await run('sum')).toEqual([
        [0, 9],
        [2 * HOUR, 14],
      ]);
    });

    it('aligns buckets to the epoch, not to the start of the query', async () => {
      const id = uniqueId('align');
      await sut.store.write([reading(id, T0 + 10 * 60_000, { pm25: 1 }), reading(id, T0 + 50 * 60_000, { pm25: 3 })]);
      const samples = await sut.store.aggregate({
        measurement: 'air',
        sensorId: id,
        field: 'pm25',
        from: T0 + 5 * 60_000,
        to: T0 + HOUR,
        every: 30 * 60_000,
        fn: 'max',
      });
      expect(samples).toEqual([
        { ts: T0, value: 1 },
        { ts: T0 + 30 * 60_000, value: 3 },
      ]);
    });

    it('returns the latest value of each field per sensor, filtered by kind, district and sensor ids', async () => {
      const a = uniqueId('latest-a');
      const b = uniqueId('latest-b');
      const w = uniqueId('latest-w');
      await sut.store.write([
        reading(a, T0, { pm25: 1, pm10: 2 }),
        reading(a, T0 + 5000, { pm25: 3 }),
        reading(b, T0 + 1000, { pm25: 8 }, { tags: { sensorId: b, kind: 'air', district: 'Kim Long' } }),
        {
          measurement: 'water',
          tags: { sensorId: w, kind: 'water', district: 'Kim Long' },
          fields: { waterLevel: 1.75 },
          ts: T0 + 2000,
        },
      ]);
      const mine = new Set([a, b, w]);
      const all = (await sut.store.latest({ sensorIds: [a, b, w] })).filter((v) => mine.has(v.sensorId));
      const byKey = Object.fromEntries(all.map((v) => [`${v.sensorId}.${v.field}`, [v.ts, v.value]]));
      expect(byKey).toEqual({
        [`${a}.pm25`]: [T0 + 5000, 3],
        [`${a}.pm10`]: [T0, 2],
        [`${b}.pm25`]: [T0 + 1000, 8],
        [`${w}.waterLevel`]: [T0 + 2000, 1.75],
      });
      const water = await sut.store.latest({ kind: 'water', sensorIds: [a, b, w] });
      expect(water.map((v) => v.sensorId)).toEqual([w]);
      expect(water[0]).toMatchObject({ measurement: 'water', kind: 'water', district: 'Kim Long' });
      const kimLong = await sut.store.latest({ district: 'Kim Long', sensorIds: [a, b, w] });
      expect(kimLong.map((v) => v.sensorId).sort()).toEqual([b, w].sort());
      const airOnly = await sut.store.latest({ measurement: 'air', sensorIds: [a, w] });
      expect(new Set(airOnly.map((v) => v.sensorId))).toEqual(new Set([a]));
    });

    it('keeps tags and string, boolean and number fields of whole points', async () => {
      const ruleId = uniqueId('rule');
      const points: Point[] = [
        {
          measurement: 'alert_events',
          tags: { ruleId, sensorId: 'water-kimlong', severity: 'high' },
          fields: { state: 'firing', value: 2.1, notified: true },
          ts: T0,
        },
        {
          measurement: 'alert_events',
          tags: { ruleId, sensorId: 'water-kimlong', severity: 'high' },
          fields: { state: 'resolved', value: 1.4, notified: false },
          ts: T0 + 60_000,
        },
        {
          measurement: 'alert_events',
          tags: { ruleId, sensorId: 'water-phuoc', severity: 'low' },
          fields: { state: 'firing', value: 3, notified: true },
          ts: T0 + 30_000,
        },
      ];
      await sut.store.write(points);
      const kimLong = await sut.store.queryPoints({
        measurement: 'alert_events',
        tags: { ruleId, sensorId: 'water-kimlong' },
        from: T0,
        to: T0 + HOUR,
      });
      expect(kimLong).toEqual([points[0], points[1]]);
      const all = await sut.store.queryPoints({
        measurement: 'alert_events',
        tags: { ruleId },
        from: T0,
        to: T0 + HOUR,
      });
      expect(all.map((p) => p.ts)).toEqual([T0, T0 + 30_000, T0 + 60_000]);
      const limited = await sut.store.queryPoints({
        measurement: 'alert_events',
        tags: { ruleId },
        from: T0,
        to: T0 + HOUR,
        limit: 1,
      });
      expect(limited).toEqual([points[0]]);
    });

    it('answers empty, not an error, for a sensor or field it has never seen', async () => {
      const id = uniqueId('none');
      await expect(
        sut.store.queryRange({ measurement: 'air', sensorId: id, field: 'pm25', from: T0, to: T0 + HOUR }),
      ).resolves.toEqual([]);
      await expect(
        sut.store.aggregate({
          measurement: 'air',
          sensorId: id,
          field: 'pm25',
          from: T0,
          to: T0 + HOUR,
          every: HOUR,
          fn: 'mean',
        }),
      ).resolves.toEqual([]);
      await expect(sut.store.latest({ sensorIds: [id] })).resolves.toEqual([]);
    });

    it('stores a large batch in one write', async () => {
      const id = uniqueId('bulk');
      const points = Array.from({ length: 20_000 }, (_, i) =>
        reading(id, T0 + i * 1000, { pm25: i % 500, pm10: i % 700 }),
      );
      await sut.store.write(points);
      const [count] = await sut.store.aggregate({
        measurement: 'air',
        sensorId: id,
        field: 'pm10',
        from: T0,
        to: T0 + 24 * HOUR,
        every: 24 * HOUR,
        fn: 'count',
      });
      expect(count).toEqual({ ts: T0, value: 20_000 });
    });
  });
}
