import { describe, expect, it } from 'vitest';
import { decodeRecord, encodeRecord } from './log-record.ts';
import type { Point } from './time-series-store.ts';

const tags = { sensorId: 'air-dongba', kind: 'air', district: 'Đông Ba' };
const reading = (ts: number, pm25: number): Point => ({ measurement: 'air', tags: { ...tags }, fields: { pm25, pm10: pm25 * 2 }, ts });

describe('commit-log record format', () => {
  it('writes the shared measurement and tags of one device message once, and reads the points back', () => {
    const points = [reading(1_700_000_000_000, 12.5), reading(1_700_000_060_000, 13)];
    const bytes = encodeRecord(points);
    expect(bytes.toString()).toMatch(/^\{"m":"air","t":\{/);
    expect(bytes.length).toBeLessThan(Buffer.from(JSON.stringify(points)).length);
    expect(decodeRecord(bytes.toString())).toEqual(points);
  });

  it('keeps points with different tags, measurements or field types as they are', () => {
    const points: Point[] = [
      reading(1, 1),
      { measurement: 'air', tags: { ...tags, district: 'Phú Hội' }, fields: { pm25: 2 }, ts: 2 },
      { measurement: 'alert_events', tags: { ruleId: 'r', sensorId: 's' }, fields: { state: 'firing', seq: 3, ok: true }, ts: 3 },
    ];
    const bytes = encodeRecord(points);
    expect(bytes.toString().startsWith('[')).toBe(true);
    expect(decodeRecord(bytes.toString())).toEqual(points);
    // a tag present on one point only is a different series, not the same one
    const extra: Point[] = [reading(1, 1), { ...reading(2, 2), tags: { ...tags, road: 'x' } }];
    expect(decodeRecord(encodeRecord(extra).toString())).toEqual(extra);
  });

  it('reads records written before this format (a JSON array of points)', () => {
    const legacy = [reading(5, 50)];
    expect(decodeRecord(JSON.stringify(legacy))).toEqual(legacy);
  });
});
