import { describe, expect, it } from 'vitest';
import { LatestValues } from './latest-values.ts';

const tags = (sensorId: string, district = 'Phú Hội') => ({ sensorId, kind: 'air', district });

describe('latest values in memory', () => {
  it('keeps the newest numeric value per sensor and field whatever the order, filtered like the store', () => {
    let now = 10_000_000;
    const latest = new LatestValues(() => now, 1_000_000);
    latest.note([
      { measurement: 'air', tags: tags('a'), fields: { pm25: 5, note: 'x' }, ts: now - 10 },
      { measurement: 'air', tags: tags('a'), fields: { pm25: 4 }, ts: now - 20 },
      { measurement: 'air', tags: tags('b', 'Kim Long'), fields: { pm25: 9 }, ts: now - 5 },
      { measurement: 'alert_events', tags: { ruleId: 'r' }, fields: { value: 1 }, ts: now },
    ]);
    expect(latest.query({}).map((v) => [v.sensorId, v.field, v.value])).toEqual([
      ['a', 'pm25', 5],
      ['b', 'pm25', 9],
    ]);
    expect(latest.query({ district: 'Kim Long' }).map((v) => v.sensorId)).toEqual(['b']);
    expect(latest.query({ sensorIds: [] })).toEqual([]);
    // bounded in time: a value older than the window is not latest any more
    now += 1_000_000 - 7;
    expect(latest.query({}).map((v) => v.sensorId)).toEqual(['b']);
  });

  it('updates a kept value in place without changing what a query already returned; a moved sensor is replaced', () => {
    const now = 10_000_000;
    const latest = new LatestValues(() => now, 1_000_000);
    latest.note([{ measurement: 'air', tags: tags('a'), fields: { pm25: 5 }, ts: now - 30 }]);
    const first = latest.query({});
    latest.note([{ measurement: 'air', tags: tags('a'), fields: { pm25: 7 }, ts: now - 20 }]);
    expect(first.map((v) => [v.value, v.ts])).toEqual([[5, now - 30]]);
    expect(latest.query({}).map((v) => [v.value, v.ts, v.district])).toEqual([[7, now - 20, 'Phú Hội']]);
    // an older value never replaces a newer one, in place or not
    latest.note([{ measurement: 'air', tags: tags('a'), fields: { pm25: 1 }, ts: now - 25 }]);
    expect(latest.query({}).map((v) => v.value)).toEqual([7]);
    // the sensor moved district: the newest value comes with its new district
    latest.note([{ measurement: 'air', tags: tags('a', 'Kim Long'), fields: { pm25: 8 }, ts: now - 10 }]);
    expect(latest.query({}).map((v) => [v.value, v.district])).toEqual([[8, 'Kim Long']]);
    expect(latest.query({ district: 'Phú Hội' })).toEqual([]);
  });
});
