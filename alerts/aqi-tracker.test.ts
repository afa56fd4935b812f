import { afterEach, describe, expect, it } from 'vitest';
import { reading, startHarness, T0, type Harness } from './alert-test-kit.ts';
import { HOUR_MS } from './aqi-tracker.ts';

const MIN = 60_000;
const aqiBad = {
  id: 'vn-aqi-bad',
  type: 'threshold',
  selector: { kinds: ['air'] },
  metric: 'vnAqi',
  above: 151,
  clearBelow: 141,
  for: '1h',
  severity: 'high',
  category: 'environment',
  subCategory: 'airPollution',
};

describe('VN_AQI as a derived metric', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  /** A reading every 10 minutes, also written to the store as ingest would. */
  async function feed(fromMin: number, toMin: number, pm25: number): Promise<void> {
    for (let m = fromMin; m < toMin; m += 10) {
      const ts = T0 + m * MIN;
      if (ts > h.clock.now()) h.clock.set(ts);
      const r = reading('air-benhvien', { pm25, no2: 40 }, ts);
      await h.store.write([
        {
          measurement: 'air',
          tags: { sensorId: r.sensorId, kind: r.kind, district: r.district },
          fields: r.values,
          ts,
        },
      ]);
      h.events.emit('readings', [r]);
    }
    await h.service.idle();
  }

  it('stores an hourly vnAqi per station and fires a rule after two hourly values over 150', async () => {
    h = await startHarness(
      [
        aqiBad,
        {
          ...aqiBad,
          id: 'vn-aqi-category',
          for: undefined,
          message: { vi: 'VN_AQI {sensor}: {value} ({category})', en: 'VN_AQI {sensor}: {value} ({category})' },
        },
      ],
      { vnAqi: true },
    );
    // PM2.5 at 120 µg/m³: NowCast 120 -> 150 + 50/70 x 40 = 178.6 -> 179 ("Xấu")
    await feed(0, 185, 120);
    const stored = await h.store.queryRange({
      measurement: 'air',
      sensorId: 'air-benhvien',
      field: 'vnAqi',
      from: T0,
      to: T0 + 4 * HOUR_MS,
    });
    // hour 0 alone has too little for NowCast (2 of the 3 latest hours); 01:00-02:00 is published at 02:00
    expect(stored).toEqual([
      { ts: T0 + 2 * HOUR_MS, value: 179 },
      { ts: T0 + 3 * HOUR_MS, value: 179 },
    ]);
    expect(h.seen.filter((e) => e.alert.ruleId === 'vn-aqi-bad').map((e) => [e.type, (e.ts - T0) / MIN])).toEqual([
      ['pending', 120],
      ['firing', 180],
    ]);
    expect(h.seen.find((e) => e.alert.ruleId === 'vn-aqi-category')!.alert.message).toEqual({
      vi: 'VN_AQI Quan trắc không khí Bệnh viện TW Huế: 179 (Xấu)',
      en: 'VN_AQI Quan trắc không khí Bệnh viện TW Huế: 179 (Bad)',
    });
    const fired = h.seen.find((e) => e.alert.ruleId === 'vn-aqi-bad' && e.type === 'firing')!;
    expect(fired.alert).toMatchObject({ metric: 'vnAqi', value: 179, threshold: 151 });
    expect(fired.alert.message.vi).toBe(
      'Chỉ số VN_AQI tại Quan trắc không khí Bệnh viện TW Huế là 179, vượt ngưỡng 151',
    );

    // the station goes quiet: hour 3 is still published, by the clock, 5 minutes after it ends
    h.clock.set(T0 + 4 * HOUR_MS + 5 * MIN);
    await h.service.idle();
    const later = await h.store.queryRange({
      measurement: 'air',
      sensorId: 'air-benhvien',
      field: 'vnAqi',
      from: T0 + 4 * HOUR_MS,
      to: T0 + 5 * HOUR_MS,
    });
    expect(later).toEqual([{ ts: T0 + 4 * HOUR_MS, value: 179 }]);
  });

  it('keeps NowCast history across a restart (read back from the store) and clears with clean air', async () => {
    h = await startHarness([aqiBad], { vnAqi: true });
    await feed(0, 185, 120);
    await h.restart();
    const before = h.seen.length;
    // clean air from 03:10: NowCast weighs the polluted hours read back from the store, so the index
    // falls over hours, not at once
    await feed(190, 12 * 60 + 10, 5);
    const values = (
      await h.store.queryRange({
        measurement: 'air',
        sensorId: 'air-benhvien',
        field: 'vnAqi',
        from: T0 + 4 * HOUR_MS,
        to: T0 + 13 * HOUR_MS,
      })
    ).map((s) => s.value);
    expect(values[0]).toBeGreaterThan(100); // 04:00: NowCast of (5-ish, 120, 120, 120)
    expect(values.at(-1)).toBeLessThan(50);
    const after = h.seen.slice(before);
    expect(after.map((e) => e.type)).toEqual(['resolved']);
  });
});
