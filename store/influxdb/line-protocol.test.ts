import { describe, expect, it } from 'vitest';
import { toLine, withoutTwins } from './line-protocol.ts';

describe('line protocol', () => {
  it('escapes tags and strings, writes numbers as floats and times in ms', () => {
    expect(
      toLine({
        measurement: 'alert events',
        tags: { sensorId: 'a b', district: 'Phú Xuân,1', empty: '' },
        fields: { state: 'say "hi"', value: 3, notified: true },
        ts: 1_700_000_000_123,
      }),
    ).toBe(
      'alert\\ events,district=Phú\\ Xuân\\,1,sensorId=a\\ b state="say \\"hi\\"",value=3,notified=T 1700000000123',
    );
    expect(
      toLine({ measurement: 'air', tags: { sensorId: 'x' }, fields: { pm25: Number.NaN }, ts: 1 }),
    ).toBeUndefined();
    expect(toLine({ measurement: 'air', tags: { sensorId: 'x' }, fields: { 'a=b c': 1e21, n: -0.5 }, ts: 1.9 })).toBe(
      'air,sensorId=x a\\=b\\ c=1e+21,n=-0.5 1',
    );
  });
});

describe('points of one series and timestamp in one write', () => {
  const p = (sensorId: string, ts: number, fields: Record<string, number>) => ({
    measurement: 'air',
    tags: { sensorId },
    fields,
    ts,
  });

  it('are merged, later fields winning, so parallel batches cannot reorder them', () => {
    expect(withoutTwins([p('a', 1, { pm25: 1, pm10: 2 }), p('b', 1, { pm25: 5 }), p('a', 1, { pm25: 3 })])).toEqual({
      points: [p('a', 1, { pm25: 3, pm10: 2 }), p('b', 1, { pm25: 5 })],
      prefixes: ['air,sensorId=a', 'air,sensorId=b'],
    });
  });

  it('leave a write without twins as it is', () => {
    const points = [p('a', 1, { pm25: 1 }), p('a', 2, { pm25: 1 })];
    expect(withoutTwins(points).points).toBe(points);
  });
});
