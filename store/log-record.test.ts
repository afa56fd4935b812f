import { describe, expect, it } from 'vitest';
import { decodeRecord, decodeRecordList, encodeRecord } from './log-record.ts';
import type { Point } from './time-series-store.ts';

const tags = { sensorId: 'air-dongba', kind: 'air', district: 'Đông Ba' };
const reading = (ts: number, pm25: number): Point => ({
  measurement: 'air',
  tags: { ...tags },
  fields: { pm25, pm10: pm25 * 2 },
  ts,
});

describe('commit-log record format', () => {
  it('writes the shared measurement and tags of one device message once, and reads the points back', () => {
    const points = [reading(1_700_000_000_000, 12.5), reading(1_700_000_060_000, 13)];
    const text = encodeRecord(points);
    expect(text).toMatch(/^\{"m":"air","t":\{/);
    expect(text.length).toBeLessThan(JSON.stringify(points).length);
    expect(decodeRecord(text)).toEqual(points);
  });

  it('encodes a frozen tag object (kept per sensor by ingest) as it encodes a fresh one', () => {
    const frozen = Object.freeze({ ...tags });
    const first = encodeRecord([{ ...reading(1, 1), tags: frozen }]);
    expect(encodeRecord([{ ...reading(2, 2), tags: frozen }])).toBe(encodeRecord([reading(2, 2)]));
    expect(decodeRecord(first)).toEqual([reading(1, 1)]);
  });

  it('writes tags beyond ASCII as escapes (ASCII text for the log), read back as sent, frozen or not', () => {
    const odd = { sensorId: 'air-x', kind: 'air', district: 'Đông Ba 😀 "quoted" \\ ú' };
    for (const t of [odd, Object.freeze({ ...odd })]) {
      const text = encodeRecord([{ measurement: 'air', tags: t, fields: { pm25: 1 }, ts: 5 }]);
      expect(text).toMatch(/^[\x20-\x7e]*$/);
      expect(text).toContain('\\u0110\\u00f4ng Ba \\ud83d\\ude00');
      expect(decodeRecord(text)).toEqual([{ measurement: 'air', tags: odd, fields: { pm25: 1 }, ts: 5 }]);
      expect(decodeRecordList(`[${text}]`)[0]!.tags).toEqual(odd);
    }
  });

  it('reads many records sent as one JSON array as groups of points sharing a series', () => {
    const shared = encodeRecord([reading(1, 1), reading(2, 2)]);
    const mixed = encodeRecord([
      reading(3, 3),
      { measurement: 'alert_events', tags: { ruleId: 'r' }, fields: { seq: 1 }, ts: 4 },
    ]);
    expect(decodeRecordList(`[${shared},${mixed}]`)).toEqual([
      {
        measurement: 'air',
        tags,
        points: [
          [1, { pm25: 1, pm10: 2 }],
          [2, { pm25: 2, pm10: 4 }],
        ],
      },
      { measurement: 'air', tags, points: [[3, { pm25: 3, pm10: 6 }]] },
      { measurement: 'alert_events', tags: { ruleId: 'r' }, points: [[4, { seq: 1 }]] },
    ]);
  });

  it('keeps points with different tags, measurements or field types as they are', () => {
    const points: Point[] = [
      reading(1, 1),
      { measurement: 'air', tags: { ...tags, district: 'Phú Hội' }, fields: { pm25: 2 }, ts: 2 },
      {
        measurement: 'alert_events',
        tags: { ruleId: 'r', sensorId: 's' },
        fields: { state: 'firing', seq: 3, ok: true },
        ts: 3,
      },
    ];
    const text = encodeRecord(points);
    expect(text.startsWith('[')).toBe(true);
    expect(decodeRecord(text)).toEqual(points);
    // a tag present on one point only is a different series, not the same one
    const extra: Point[] = [reading(1, 1), { ...reading(2, 2), tags: { ...tags, road: 'x' } }];
    expect(decodeRecord(encodeRecord(extra))).toEqual(extra);
  });

  it('reads records written before this format (a JSON array of points)', () => {
    const legacy = [reading(5, 50)];
    expect(decodeRecord(JSON.stringify(legacy))).toEqual(legacy);
  });
});
