import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { aggregateStatement, rangeStatement } from './influxdb/influxql.ts';
import Database from 'better-sqlite3';
import { SqliteDatabase } from './sqlite/sqlite-database.ts';
import { SqliteReader } from './sqlite/sqlite-reads.ts';
import type { AggregateQuery } from './time-series-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'ioc-bounds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base: AggregateQuery = {
  measurement: 'air',
  sensorId: 's1',
  field: 'pm25',
  from: 0,
  to: 3_600_000,
  every: 60_000,
  fn: 'mean',
};
// what a caller that skipped the API's parsing could hand an adapter
const hostile: Array<Partial<Record<keyof AggregateQuery, unknown>>> = [
  { every: '1) UNION SELECT 1,2 --' },
  { every: Number.NaN },
  { every: Infinity },
  { every: 1e300 },
  { every: 0.5 },
  { every: -5 },
  { fn: 'mean) FROM readings; --' },
  { fn: 'constructor' },
  { fn: 'stddev' },
  { from: '0 OR 1=1' },
  { to: Number.POSITIVE_INFINITY },
  { from: 1.5 },
  { limit: -1 },
];

describe('store query bounds: no caller-chosen text reaches SQL or InfluxQL', () => {
  it('the embedded store binds every value and refuses what is not a bounded integer or a known function', () => {
    const db = new SqliteDatabase(join(dir, 'a.sqlite'));
    db.write([
      { measurement: 'air', tags: { sensorId: 's1', kind: 'air', district: 'd' }, fields: { pm25: 10 }, ts: 60_000 },
    ]);
    // the reads run on their own connection, as in a reader worker
    const connection = new Database(join(dir, 'a.sqlite'), { readonly: true });
    const reader = new SqliteReader(connection);
    expect(reader.aggregate(base)).toEqual([{ ts: 60_000, value: 10 }]);
    expect(reader.aggregate({ ...base, fn: 'last', every: 3_600_000 })).toEqual([{ ts: 0, value: 10 }]);
    for (const bad of hostile) {
      expect(() => reader.aggregate({ ...base, ...bad } as AggregateQuery), JSON.stringify(bad)).toThrow(RangeError);
    }
    connection.close();
    db.close();
  });

  it('InfluxQL statements take the function from a closed map and only integers in range', () => {
    expect(aggregateStatement(base)).toContain('SELECT mean("pm25")');
    expect(aggregateStatement(base)).toContain('GROUP BY time(60000ms)');
    for (const bad of hostile) {
      expect(() => aggregateStatement({ ...base, ...bad } as AggregateQuery), JSON.stringify(bad)).toThrow(RangeError);
    }
    expect(() => rangeStatement({ ...base, from: Number.NaN })).toThrow(RangeError);
  });
});
