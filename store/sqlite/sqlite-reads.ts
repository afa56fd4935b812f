import type Database from 'better-sqlite3';
import { samplesJson } from '../range-json.ts';
import type {
  AggregateQuery,
  FieldValue,
  LatestQuery,
  LatestValue,
  Point,
  PointQuery,
  RangeJson,
  RangeQuery,
  Sample,
} from '../time-series-store.ts';
import {
  type BucketState,
  finishBucket,
  mergeBuckets,
  planAggregate,
  type RollupTable,
  type RollupTier,
} from './aggregate-plan.ts';
import { ROLLUP_GRAINS } from './sqlite-schema.ts';
import { checkAggregateQuery, checkRangeQuery } from '../query-bounds.ts';

/**
 * The embedded store's reads. Several run at once: each reader worker (sqlite-store.ts) holds its own
 * connection, and WAL lets them read beside the writer. No request value is ever part of the SQL text:
 * values are bound, table names come from closed sets (RollupTable), and functions pick fixed statements.
 */
const NUMERIC = `('integer', 'real')`;
const BUCKET = (col: string) => `(${col} - (((${col} % :every) + :every) % :every))`;

interface SeriesRow {
  id: number;
  tags: string;
}

export class SqliteReader {
  private readonly rawRange: Database.Statement;
  private readonly rawBuckets: Database.Statement;
  private readonly rawFirst: Database.Statement;
  private readonly rawLast: Database.Statement;
  private readonly rollupBuckets: Record<RollupTable, Database.Statement>;
  private readonly seriesOfSensor: Database.Statement;
  private readonly watermark: Database.Statement;

  constructor(private readonly db: Database.Database) {
    const where = `series_id = :id AND ts >= :from AND ts < :to AND json_type(fields, :path) IN ${NUMERIC}`;
    this.rawRange = db.prepare(
      `SELECT ts, json_extract(fields, :path) AS value FROM readings WHERE ${where} ORDER BY ts LIMIT :limit`,
    );
    this.rawBuckets = db.prepare(
      `SELECT ${BUCKET('ts')} AS ts, COUNT(v) AS n, SUM(v) AS sum, MIN(v) AS min, MAX(v) AS max
       FROM (SELECT ts, json_extract(fields, :path) AS v FROM readings WHERE ${where}) GROUP BY 1`,
    );
    // SQLite's documented bare-column rule: with MIN()/MAX() the other columns come from that row
    this.rawFirst = db.prepare(
      `SELECT ${BUCKET('ts')} AS b, json_extract(fields, :path) AS value, MIN(ts) AS at FROM readings ` +
        `WHERE ${where} GROUP BY 1`,
    );
    this.rawLast = db.prepare(
      `SELECT ${BUCKET('ts')} AS b, json_extract(fields, :path) AS value, MAX(ts) AS at FROM readings ` +
        `WHERE ${where} GROUP BY 1`,
    );
    const rollup = (table: RollupTable) =>
      db.prepare(
        `SELECT ${BUCKET('bucket')} AS ts, SUM(n) AS n, SUM(sum) AS sum, MIN(min) AS min, MAX(max) AS max FROM ${table}
       WHERE series_id = :id AND bucket >= :from AND bucket < :to AND field = :field GROUP BY 1`,
      );
    this.rollupBuckets = { rollup_1m: rollup('rollup_1m'), rollup_1h: rollup('rollup_1h') };
    this.seriesOfSensor = db.prepare('SELECT id FROM series WHERE sensor_id = ? AND measurement = ?');
    // as readWatermark, prepared once: every aggregate reads both watermarks
    this.watermark = db.prepare('SELECT value FROM lifecycle WHERE name = ?');
  }

  queryRange(q: RangeQuery): Sample[] {
    checkRangeQuery(q);
    const ids = this.sensorSeries(q.measurement, q.sensorId);
    const limit = q.limit ?? -1;
    const out: Sample[] = [];
    for (const id of ids)
      out.push(...(this.rawRange.all({ id, from: q.from, to: q.to, path: fieldPath(q.field), limit }) as Sample[]));
    if (ids.length > 1) out.sort((a, b) => a.ts - b.ts);
    return limit > 0 ? out.slice(0, limit) : out;
  }

  /** The first `limit` samples as JSON, built here in the reader worker (store/range-json.ts). */
  queryRangeJson(q: RangeQuery & { limit: number }): RangeJson {
    return samplesJson(this.queryRange({ ...q, limit: q.limit + 1 }), q.limit);
  }

  aggregate(q: AggregateQuery): Sample[] {
    // integers in range and a function of the closed list, whatever the caller claimed (store/query-bounds.ts)
    const fn = checkAggregateQuery(q);
    const every = q.every;
    const ids = this.sensorSeries(q.measurement, q.sensorId);
    if (ids.length === 0) return [];
    const path = fieldPath(q.field);
    if (fn === 'first' || fn === 'last') return this.firstOrLast(ids, { ...q, fn, every }, path);
    const tiers: RollupTier[] = (['rollup_1h', 'rollup_1m'] as const).map((table) => ({
      table,
      grainMs: ROLLUP_GRAINS[table],
      rolledUntil: (this.watermark.get(table) as { value: number } | undefined)?.value ?? 0,
    }));
    const parts: BucketState[][] = [];
    for (const piece of planAggregate(q.from, q.to, every, fn, tiers)) {
      for (const id of ids) {
        const params = { id, from: piece.from, to: piece.to, every };
        parts.push(
          piece.source === 'raw'
            ? (this.rawBuckets.all({ ...params, path }) as BucketState[])
            : (this.rollupBuckets[piece.source].all({ ...params, field: q.field }) as BucketState[]),
        );
      }
    }
    return mergeBuckets(parts)
      .filter((s) => s.n > 0)
      .map((s) => ({ ts: s.ts, value: finishBucket(s, fn) }));
  }

  latest(q: LatestQuery & { since?: number }): LatestValue[] {
    const conditions = ['s.sensor_id IS NOT NULL'];
    const params: unknown[] = [];
    if (q.measurement) {
      conditions.push('s.measurement = ?');
      params.push(q.measurement);
    }
    if (q.kind) {
      conditions.push('s.kind = ?');
      params.push(q.kind);
    }
    if (q.district) {
      conditions.push('s.district = ?');
      params.push(q.district);
    }
    if (q.since !== undefined) {
      conditions.push('l.ts >= ?');
      params.push(q.since);
    }
    if (q.sensorIds) {
      if (q.sensorIds.length === 0) return [];
      conditions.push(`s.sensor_id IN (${q.sensorIds.map(() => '?').join(',')})`);
      params.push(...q.sensorIds);
    }
    const rows = this.db
      .prepare(
        `SELECT s.measurement, s.sensor_id AS sensorId, s.kind, s.district, l.field, l.ts, l.num AS value
       FROM latest l JOIN series s ON s.id = l.series_id WHERE ${conditions.join(' AND ')}
       ORDER BY s.sensor_id, l.field, l.ts`,
      )
      .all(...params) as LatestValue[];
    // a sensor that changed district has several series: its newest value wins
    const newest = new Map<string, LatestValue>();
    for (const row of rows) {
      const key = `${row.measurement}\u0000${row.sensorId}\u0000${row.field}`;
      const prev = newest.get(key);
      if (!prev || row.ts >= prev.ts) newest.set(key, row);
    }
    return [...newest.values()];
  }

  queryPoints(q: PointQuery): Point[] {
    const series = (
      this.db.prepare('SELECT id, tags FROM series WHERE measurement = ?').all(q.measurement) as SeriesRow[]
    )
      .map((row) => ({ id: row.id, tags: JSON.parse(row.tags) as Record<string, string> }))
      .filter((s) => Object.entries(q.tags ?? {}).every(([k, v]) => s.tags[k] === v));
    if (series.length === 0) return [];
    const tagsById = new Map(series.map((s) => [s.id, s.tags]));
    const rows = this.db
      .prepare(
        `SELECT series_id, ts, fields FROM readings WHERE series_id IN (${series.map(() => '?').join(',')})
       AND ts >= ? AND ts < ? ORDER BY ts, series_id LIMIT ?`,
      )
      .all(...series.map((s) => s.id), q.from, q.to, q.limit ?? -1) as Array<{
      series_id: number;
      ts: number;
      fields: string;
    }>;
    return rows.map((row) => ({
      measurement: q.measurement,
      tags: tagsById.get(row.series_id)!,
      fields: JSON.parse(row.fields) as Record<string, FieldValue>,
      ts: row.ts,
    }));
  }

  private firstOrLast(ids: number[], q: AggregateQuery, path: string): Sample[] {
    const statement = q.fn === 'first' ? this.rawFirst : this.rawLast;
    const best = new Map<number, { at: number; value: number }>();
    for (const id of ids) {
      for (const row of statement.all({ id, from: q.from, to: q.to, every: q.every, path }) as Array<{
        b: number;
        value: number;
        at: number;
      }>) {
        const prev = best.get(row.b);
        if (!prev || (q.fn === 'first' ? row.at < prev.at : row.at > prev.at))
          best.set(row.b, { at: row.at, value: row.value });
      }
    }
    return [...best.entries()].sort((a, b) => a[0] - b[0]).map(([ts, v]) => ({ ts, value: v.value }));
  }

  private sensorSeries(measurement: string, sensorId: string): number[] {
    return (this.seriesOfSensor.all(sensorId, measurement) as Array<{ id: number }>).map((r) => r.id);
  }
}

/** A JSON path naming one field, quoted so that any field name is a single key. */
export function fieldPath(field: string): string {
  return `$.${JSON.stringify(field)}`;
}
