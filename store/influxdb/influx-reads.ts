import type {
  AggregateQuery,
  FieldValue,
  LatestQuery,
  LatestValue,
  Point,
  PointQuery,
  RangeQuery,
  Sample,
} from '../time-series-store.ts';
import {
  aggregateStatement,
  type Cell,
  fieldKeysStatement,
  latestStatement,
  pointsStatement,
  rangeStatement,
  type Series,
  type StatementResult,
} from './influxql.ts';

/** Runs statements in one request; a statement's own error throws. */
export type RunStatements = (statements: string[]) => Promise<StatementResult[]>;

/** InfluxQL answers the store contract's reads are made of. Each takes the retention policy to read. */

function samples(series: Series | undefined): Sample[] {
  if (!series) return [];
  const out: Sample[] = [];
  for (const row of series.values) {
    const value = row[1];
    if (typeof value === 'number') out.push({ ts: Number(row[0]), value });
  }
  return out;
}

export async function readRange(run: RunStatements, q: RangeQuery, rp?: string): Promise<Sample[]> {
  const [result] = await run([rangeStatement(q, rp)]);
  return samples(result?.series[0]);
}

export async function readAggregate(run: RunStatements, q: AggregateQuery, rp?: string): Promise<Sample[]> {
  if (!(q.every > 0)) throw new RangeError(`aggregate bucket must be a positive number of ms, got ${q.every}`);
  const [result] = await run([aggregateStatement(q, rp)]);
  return samples(result?.series[0]);
}

const NUMERIC = new Set(['float', 'integer', 'unsigned']);
/** InfluxDB answers at most this many statements of one request comfortably; more go in further requests. */
const STATEMENTS_PER_REQUEST = 100;

/** Numeric field keys per measurement, from SHOW FIELD KEYS (a field of two types in two shards appears twice). */
async function numericFields(
  run: RunStatements,
  measurement: string | undefined,
  rp?: string,
): Promise<Array<[string, string]>> {
  const [result] = await run([fieldKeysStatement(measurement, rp)]);
  const pairs = new Map<string, [string, string]>();
  for (const series of result?.series ?? []) {
    for (const [field, type] of series.values) {
      if (NUMERIC.has(String(type))) pairs.set(`${series.name}\u0000${field}`, [series.name, String(field)]);
    }
  }
  return [...pairs.values()];
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export async function readLatest(run: RunStatements, q: LatestQuery, rp?: string): Promise<LatestValue[]> {
  if (q.sensorIds !== undefined && q.sensorIds.length === 0) return [];
  const pairs = await numericFields(run, q.measurement || undefined, rp);
  const newest = new Map<string, LatestValue>();
  for (let i = 0; i < pairs.length; i += STATEMENTS_PER_REQUEST) {
    const chunk = pairs.slice(i, i + STATEMENTS_PER_REQUEST);
    const results = await run(chunk.map(([m, f]) => latestStatement(m, f, q, rp)));
    chunk.forEach(([measurement, field], index) => {
      for (const series of results[index]?.series ?? []) {
        const row = series.values[0];
        const value = row?.[1];
        const sensorId = series.tags.sensorId;
        if (!row || typeof value !== 'number' || !sensorId) continue;
        const candidate: LatestValue = {
          measurement,
          sensorId,
          kind: series.tags.kind ?? '',
          district: series.tags.district ?? '',
          field,
          ts: Number(row[0]),
          value,
        };
        // a sensor whose tags changed (moved district) has several series: the newest value wins
        const key = `${measurement}\u0000${sensorId}\u0000${field}`;
        const prev = newest.get(key);
        if (!prev || prev.ts < candidate.ts) newest.set(key, candidate);
      }
    });
  }
  // the embedded store's order: sensor, then field
  return [...newest.values()].sort(
    (a, b) => compare(a.sensorId, b.sensorId) || compare(a.field, b.field) || compare(a.measurement, b.measurement),
  );
}

function pointFrom(measurement: string, series: Series, row: Cell[]): Point {
  const tags: Record<string, string> = {};
  for (const [key, value] of Object.entries(series.tags)) if (value !== '') tags[key] = value;
  const fields: Record<string, FieldValue> = {};
  series.columns.forEach((column, i) => {
    const value = row[i];
    if (i > 0 && value !== null && value !== undefined) fields[column] = value;
  });
  return { measurement, tags, fields, ts: Number(row[0]) };
}

export async function readPoints(run: RunStatements, q: PointQuery, rp?: string): Promise<Point[]> {
  const [result] = await run([pointsStatement(q, rp)]);
  const points: Point[] = [];
  for (const series of result?.series ?? []) {
    for (const row of series.values) points.push(pointFrom(q.measurement, series, row));
  }
  // GROUP BY * answers series by series, each cut to the limit: merge them in time order, then cut again
  points.sort((a, b) => a.ts - b.ts);
  return q.limit !== undefined && q.limit > 0 ? points.slice(0, q.limit) : points;
}
