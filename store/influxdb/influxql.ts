import type { AggregateFn, AggregateQuery, LatestQuery, PointQuery, RangeQuery } from '../time-series-store.ts';
import { checkAggregateQuery, checkRangeQuery } from '../query-bounds.ts';

/**
 * InfluxQL text for the store's reads, and the parser of `/query` answers. Pure functions: every value
 * that reaches a statement goes through `ident` or `literal`.
 */

/** A double-quoted identifier (measurement, tag key, field key, database, retention policy). */
export function ident(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A single-quoted string literal. */
export function literal(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** `"rp"."measurement"` when a retention policy is configured, else the measurement alone (the default RP). */
export function source(measurement: string, retentionPolicy?: string): string {
  return retentionPolicy ? `${ident(retentionPolicy)}.${ident(measurement)}` : ident(measurement);
}

/** [from, to) in epoch milliseconds. */
export function timeRange(from: number, to: number): string {
  return `time >= ${Math.floor(from)}ms AND time < ${Math.floor(to)}ms`;
}

function equals(key: string, value: string): string {
  return `${ident(key)} = ${literal(value)}`;
}

function oneOf(key: string, values: readonly string[]): string {
  return values.length === 1 ? equals(key, values[0]!) : `(${values.map((v) => equals(key, v)).join(' OR ')})`;
}

function limitClause(limit: number | undefined): string {
  return limit !== undefined && limit > 0 ? ` LIMIT ${Math.floor(limit)}` : '';
}

/** The store contract's functions mapped to InfluxQL's: the only function text a caller can pick. */
const INFLUX_FN: Readonly<Record<AggregateFn, string>> = Object.freeze({
  mean: 'mean',
  min: 'min',
  max: 'max',
  first: 'first',
  last: 'last',
  count: 'count',
  sum: 'sum',
});

export function rangeStatement(q: RangeQuery, rp?: string): string {
  checkRangeQuery(q);
  return (
    `SELECT ${ident(q.field)} FROM ${source(q.measurement, rp)} WHERE ${equals('sensorId', q.sensorId)} ` +
    `AND ${timeRange(q.from, q.to)}` +
    ` ORDER BY time ASC${limitClause(q.limit)}`
  );
}

/** GROUP BY time() buckets start on multiples of `every` since the epoch, which is the store contract. */
export function aggregateStatement(q: AggregateQuery, rp?: string): string {
  const fn = INFLUX_FN[checkAggregateQuery(q)];
  return (
    `SELECT ${fn}(${ident(q.field)}) FROM ${source(q.measurement, rp)} WHERE ${equals('sensorId', q.sensorId)}` +
    ` AND ${timeRange(q.from, q.to)} GROUP BY time(${q.every}ms) fill(none)${limitClause(q.limit)}`
  );
}

/**
 * The newest value of one field per series. One statement per field: with several selectors in one
 * statement InfluxQL answers time 0 instead of each value's own time.
 */
export function latestStatement(measurement: string, field: string, q: LatestQuery, rp?: string): string {
  const where = [`${ident('sensorId')} != ''`];
  if (q.kind) where.push(equals('kind', q.kind));
  if (q.district) where.push(equals('district', q.district));
  if (q.sensorIds !== undefined) where.push(oneOf('sensorId', q.sensorIds));
  // bounded in time: last() over every shard the database ever had is what made "latest" slow
  if (q.since !== undefined) where.push(`time >= ${Math.floor(q.since)}ms`);
  return (
    `SELECT last(${ident(field)}) FROM ${source(measurement, rp)} WHERE ${where.join(' AND ')}` +
    ` GROUP BY ${ident('sensorId')}, ${ident('kind')}, ${ident('district')}`
  );
}

/**
 * Whole points. GROUP BY * puts the tags in each series' `tags` and leaves only fields as columns; the
 * limit then applies per series, so the caller merges the series and cuts to the limit again.
 */
export function pointsStatement(q: PointQuery, rp?: string): string {
  const where = Object.entries(q.tags ?? {}).map(([k, v]) => equals(k, v));
  where.push(timeRange(q.from, q.to));
  return (
    `SELECT * FROM ${source(q.measurement, rp)} WHERE ${where.join(' AND ')} GROUP BY * ORDER BY time ` +
    `ASC${limitClause(q.limit)}`
  );
}

export function fieldKeysStatement(measurement: string | undefined, rp?: string): string {
  return measurement === undefined ? 'SHOW FIELD KEYS' : `SHOW FIELD KEYS FROM ${source(measurement, rp)}`;
}

// ---- answers ----------------------------------------------------------------------------------------

export type Cell = number | string | boolean | null;

export interface Series {
  name: string;
  tags: Record<string, string>;
  columns: string[];
  values: Cell[][];
}

export interface StatementResult {
  series: Series[];
  error?: string;
}

interface RawSeries {
  name?: string;
  tags?: Record<string, string>;
  columns?: string[];
  values?: Cell[][];
}
interface RawAnswer {
  error?: string;
  results?: Array<{ statement_id?: number; series?: RawSeries[]; error?: string }>;
}

/**
 * Parses a `/query` body: one JSON object, or (chunked=true) one per line, where a series may continue
 * over several chunks. Results come back indexed by statement. A whole-request error throws.
 */
export function parseQueryAnswer(body: string, statements: number): StatementResult[] {
  const results: StatementResult[] = Array.from({ length: statements }, () => ({ series: [] }));
  for (const line of body.split('\n')) {
    if (!line.trim()) continue;
    const answer = JSON.parse(line) as RawAnswer;
    if (answer.error) throw new Error(answer.error);
    for (const result of answer.results ?? []) {
      const target = results[result.statement_id ?? 0];
      if (!target) continue;
      if (result.error) target.error = result.error;
      for (const raw of result.series ?? []) appendSeries(target.series, raw);
    }
  }
  return results;
}

function appendSeries(list: Series[], raw: RawSeries): void {
  const name = raw.name ?? '';
  const tags = raw.tags ?? {};
  const last = list[list.length - 1];
  // Chunks of one series arrive one after another; a series never reappears after another began.
  if (last && last.name === name && sameTags(last.tags, tags)) {
    last.values.push(...(raw.values ?? []));
    return;
  }
  list.push({ name, tags, columns: raw.columns ?? [], values: raw.values ?? [] });
}

function sameTags(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
