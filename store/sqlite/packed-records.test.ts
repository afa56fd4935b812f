import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeRecordList, encodeRecord } from '../log-record.ts';
import type { Point } from '../time-series-store.ts';
import Database from 'better-sqlite3';
import { fieldsTexts, packRecords } from './packed-records.ts';
import { SqliteDatabase } from './sqlite-database.ts';

/**
 * The writer reads packed commit-log records by their series header bytes instead of parsing each whole
 * (packed-records.ts). Whatever the records hold (tags that look like the header's end, non-ASCII, the
 * older array form, several series in one batch), the store must end up as parsing them all gave.
 */
const dir = mkdtempSync(join(tmpdir(), 'ioc-packed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const files = new Map<SqliteDatabase, string>();
const open = () => {
  const file = join(dir, `db-${n++}.sqlite`);
  const db = new SqliteDatabase(file);
  files.set(db, file);
  return db;
};
/** the rows as stored, the fields' JSON text included (queries parse it, so they would not see a difference) */
function rawRows(db: SqliteDatabase): unknown[] {
  const raw = new Database(files.get(db)!, { readonly: true });
  try {
    return raw
      .prepare('SELECT s.key, r.ts, r.fields FROM readings r JOIN series s ON s.id = r.series_id ORDER BY s.key, r.ts')
      .all();
  } finally {
    raw.close();
  }
}

const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(',"p":[', '"}', 'Phú Xuân', '\\', '{"m":', ']}', '\u0000'),
);
const tags = fc.record({
  sensorId: fc.constantFrom('air-1', 'air-2', ',"p":[x'),
  kind: fc.constant('air'),
  district: text,
});
const value = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), text, fc.boolean());
const fields = fc.dictionary(fc.oneof(fc.constantFrom('pm25', 'pm10', 'p'), text), value, { minKeys: 1, maxKeys: 3 });
const point = fc.record({
  measurement: fc.constantFrom('air', 'wa"ter'),
  tags,
  fields,
  ts: fc.integer({ min: 0, max: 50 }),
});
/** one record: the shared form when its points share a series, else the array form encodeRecord falls back to */
const record = fc.array(point, { minLength: 1, maxLength: 3 });

function dump(db: SqliteDatabase, measurement: string): Point[] {
  return db.reader.queryPoints({ measurement, from: 0, to: 100 });
}

describe('packed commit-log records', () => {
  it('write what parsing every record whole writes, for any records', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 12 }), (records) => {
        const encoded = records.map((r) => Buffer.from(encodeRecord(r)));
        const packedDb = open();
        const parsedDb = open();
        try {
          const written = packedDb.writePacked(packRecords(encoded));
          const expected = parsedDb.writeGroups(decodeRecordList(`[${encoded.join(',')}]`));
          expect(written).toBe(expected);
          for (const m of ['air', 'wa"ter']) expect(dump(packedDb, m)).toEqual(dump(parsedDb, m));
          expect(packedDb.reader.latest({})).toEqual(parsedDb.reader.latest({}));
          expect(rawRows(packedDb)).toEqual(rawRows(parsedDb));
        } finally {
          packedDb.close();
          parsedDb.close();
        }
      }),
      { seed: 20_261_206, numRuns: 60 },
    );
  });

  it("finds each point's fields text as JSON.stringify wrote it, or says the layout is not the encoder's", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer(), fields), { minLength: 1, maxLength: 4 }), (points) => {
        expect(fieldsTexts(JSON.stringify(points))).toEqual(points.map(([, f]) => JSON.stringify(f)));
      }),
      { seed: 20_261_207, numRuns: 200 },
    );
    expect(fieldsTexts('[[1,{"a":"}]"}],[2,{"b":[1,{"c":2}]}]]')).toEqual(['{"a":"}]"}', '{"b":[1,{"c":2}]}']);
    const odd = ['[[1,{"a":1},2]]', '[[1,2]]', '[{"a":1}]', '[[1,{"a":1}] ]', '[[1,{"a":1}]', '[["a,{",{"x":1}]]'];
    for (const text of odd) expect(fieldsTexts(text)).toBeUndefined();
  });

  it('refuses a batch with a record that is not JSON, writing none of it', () => {
    const db = open();
    try {
      const one: Point = { measurement: 'air', tags: { sensorId: 'air-1' }, fields: { pm25: 1 }, ts: 1 };
      const good = Buffer.from(encodeRecord([one]));
      expect(() => db.writePacked(packRecords([good, Buffer.from('{"m":"air","t":{},"p":[[2,{"pm25":')]))).toThrow();
      expect(dump(db, 'air')).toEqual([]);
      expect(db.writePacked(packRecords([good]))).toBe(1);
    } finally {
      db.close();
    }
  });
});
