import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_LIFECYCLE_DEFAULTS } from '../../config/store-lifecycle-config.ts';
import { startInfluxd, type InfluxServer } from '../../test-support/influxd.ts';
import type { AggregateFn } from '../time-series-store.ts';
import { InfluxHttp } from './influx-http.ts';
import { rollupTiers } from './influx-rollup-reads.ts';
import { applyRollupSetup, planRollupSetup } from './influx-rollup-setup.ts';
import { freshDatabase, influxConfig } from './influx-test-helpers.ts';
import { openInfluxStore } from './influxdb-store.ts';

const T = Date.UTC(2026, 9, 1);
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const silent = pino({ level: 'silent' });

describe('InfluxDB aggregates from the roll-ups', () => {
  let server: InfluxServer;
  beforeAll(async () => {
    server = await startInfluxd();
  });
  afterAll(() => server?.dispose());

  it('answers as raw readings do, from the fitting roll-up (a reading behind it shows the source)', async () => {
    const database = freshDatabase('rollread');
    const config = influxConfig({ url: server.url, database });
    const store = await openInfluxStore(config, silent);
    const tags = { sensorId: 'rr-a', kind: 'air', district: 'Vỹ Dạ' };
    // two days, one reading every 5 minutes, values that differ per hour and per day
    const points = Array.from({ length: 2 * 288 }, (_, i) => ({
      measurement: 'air',
      tags,
      fields: { pm25: ((i * 7) % 53) + (i >= 288 ? 100 : 0) },
      ts: T + i * 5 * MIN,
    }));
    await store.write(points);
    const range = { measurement: 'air', sensorId: 'rr-a', field: 'pm25' };
    const answers = async (from: number, to: number, every: number) => {
      const out: Record<string, Array<{ ts: number; value: number }>> = {};
      for (const fn of ['mean', 'min', 'max', 'count', 'sum'] as AggregateFn[])
        out[fn] = await store.aggregate({ ...range, from, to, every, fn });
      return out;
    };
    // before any roll-up: raw answers, over whole days and over edges inside an hour and a minute
    const wholeDays = await answers(T, T + 2 * DAY, DAY);
    const ragged = await answers(T + 37 * MIN + 30_000, T + DAY + 5 * HOUR + 20 * MIN, HOUR);
    expect(wholeDays.max).toEqual([
      { ts: T, value: 52 },
      { ts: T + DAY, value: 152 },
    ]);

    const http = new InfluxHttp(config);
    await applyRollupSetup(http, await planRollupSetup(http, config, STORE_LIFECYCLE_DEFAULTS, Date.now()));
    const fresh = await openInfluxStore(config, silent); // sees the continuous queries at once
    for (const [label, from, to, every, raw] of [
      ['whole days', T, T + 2 * DAY, DAY, wholeDays],
      ['ragged hours', T + 37 * MIN + 30_000, T + DAY + 5 * HOUR + 20 * MIN, HOUR, ragged],
    ] as const) {
      for (const fn of ['mean', 'min', 'max', 'count', 'sum'] as AggregateFn[]) {
        const got = await fresh.aggregate({ ...range, from, to, every, fn });
        expect(
          got.map((s) => s.ts),
          `${label} ${fn}`,
        ).toEqual(raw[fn]!.map((s) => s.ts));
        got.forEach((s, i) => {
          expect(s.value, `${label} ${fn} @${s.ts}`).toBeCloseTo(raw[fn]![i]!.value, 9);
        });
      }
    }

    // A reading added inside a rolled-up hour, behind the continuous query's back: the daily max (from the
    // 1h roll-up) does not see it, the raw last() does; the same query inside a partial hour reads raw.
    await fresh.write([{ measurement: 'air', tags, fields: { pm25: 999 }, ts: T + 3 * HOUR + 30_000 }]);
    expect((await fresh.aggregate({ ...range, from: T, to: T + DAY, every: DAY, fn: 'max' }))[0]!.value).toBe(52);
    expect(
      (await fresh.aggregate({ ...range, from: T + 3 * HOUR, to: T + 3 * HOUR + 5 * MIN, every: HOUR, fn: 'last' }))[0]!
        .value,
    ).toBe(999);
    expect(
      (
        await fresh.aggregate({
          ...range,
          from: T + 3 * HOUR + 10_000,
          to: T + 3 * HOUR + 50_000,
          every: MIN,
          fn: 'max',
        })
      )[0]!.value,
    ).toBe(999);
    // ... while the whole minute around it comes from the 1m roll-up
    expect(
      (await fresh.aggregate({ ...range, from: T + 3 * HOUR, to: T + 3 * HOUR + MIN, every: MIN, fn: 'max' }))[0]!
        .value,
    ).toBe(40);
  });

  it('treats a grain as rolled up only once its continuous query has surely run', () => {
    const now = T + 5 * HOUR + 90_000; // 1.5 minutes past the hour: the last hour may not be written yet
    expect(rollupTiers(['ioc_rollup_1m', 'ioc_rollup_1h'], now)).toEqual([
      { table: 'rollup_1h', grainMs: HOUR, rolledUntil: T + 4 * HOUR },
      { table: 'rollup_1m', grainMs: MIN, rolledUntil: T + 5 * HOUR - MIN },
    ]);
  });
});
