import Database from 'better-sqlite3';
import type { AggregateFn, AggregateQuery, FieldValue, LatestQuery, LatestValue, Point, PointQuery, RangeQuery, Sample } from '../time-series-store.ts';
import { seriesKey } from '../time-series-store.ts';
import { checkAggregateQuery, checkRangeQuery } from '../query-bounds.ts';
import type { RecordGroup } from '../log-record.ts';

/**
 * The embedded store's SQL, synchronous (better-sqlite3). It runs inside a worker thread
 * (sqlite-worker.ts) so that a large transaction or query never stops the main event loop, where the
 * broker and the alert stream live.
 *
 * Layout: a series table (measurement + tag set, as InfluxDB); a row per point in `readings`, keyed by
 * (series, ts), its fields a JSON object, so a replayed point lands on itself and one that adds fields
 * merges into it (json_patch), as InfluxDB merges a point's fields; and a `latest` table kept up to date
 * on write. A row per point rather than per field value is what lets the store keep up with ingest: one
 * B-tree insert for a reading of four metrics instead of four.
 */
const NUMERIC = `('integer', 'real')`;

const BUCKET = '(ts - (((ts % :every) + :every) % :every))';
const NUM = 'json_extract(fields, :path)';
// $IDS: series ids this process read from its own series table (integers), never request data
const WHERE = `series_id IN ($IDS) AND ts >= :from AND ts < :to AND json_type(fields, :path) IN ${NUMERIC}`;
const plain = (agg: string) => `SELECT ${BUCKET} AS ts, ${agg}(${NUM}) AS value FROM readings WHERE ${WHERE} GROUP BY 1 ORDER BY 1`;
// first/last rely on SQLite's documented bare-column rule: with MIN()/MAX() the other columns come
// from the row holding that extreme.
const extreme = (agg: string) => `SELECT b AS ts, value FROM (SELECT ${BUCKET} AS b, ${NUM} AS value, ${agg}(ts) FROM readings WHERE ${WHERE} GROUP BY 1) ORDER BY 1`;
/** Each aggregate function of the store contract mapped to its statement: the only SQL a caller can pick. */
const AGGREGATE_SQL: Readonly<Record<AggregateFn, string>> = Object.freeze({
  mean: plain('AVG'), min: plain('MIN'), max: plain('MAX'), sum: plain('SUM'), count: plain('COUNT'),
  first: extreme('MIN'), last: extreme('MAX'),
});

interface SeriesRow { id: number; measurement: string; sensor_id: string | null; kind: string | null; district: string | null; tags: string }

export class SqliteDatabase {
  private readonly db: Database.Database;
  private readonly seriesIds = new Map<string, number>();
  /** series ids by measurement and tags in the order they came: no sort per record */
  private readonly seriesByTagOrder = new Map<string, number>();
  private readonly insertSeries: Database.Statement;
  private readonly upsertReading: Database.Statement;
  private readonly upsertLatest: Database.Statement;
  private readonly writeTx: (groups: readonly RecordGroup[]) => number;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // NORMAL: a commit survives a crash of the process without an fsync of its own; the commit log is the
    // point of durability and forgets nothing before sync() (a checkpoint, which fsyncs) has run.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS series (
        id INTEGER PRIMARY KEY, measurement TEXT NOT NULL, key TEXT NOT NULL UNIQUE,
        sensor_id TEXT, kind TEXT, district TEXT, tags TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS series_by_sensor ON series (sensor_id, measurement);
      CREATE TABLE IF NOT EXISTS readings (
        series_id INTEGER NOT NULL, ts INTEGER NOT NULL, fields TEXT NOT NULL,
        PRIMARY KEY (series_id, ts)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS latest (
        series_id INTEGER NOT NULL, field TEXT NOT NULL, ts INTEGER NOT NULL, num REAL NOT NULL,
        PRIMARY KEY (series_id, field)) WITHOUT ROWID;
    `);
    migrateSamples(this.db);
    for (const row of this.db.prepare('SELECT id, key FROM series').all() as Array<{ id: number; key: string }>) {
      this.seriesIds.set(row.key, row.id);
    }
    this.insertSeries = this.db.prepare(
      'INSERT INTO series (measurement, key, sensor_id, kind, district, tags) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.upsertReading = this.db.prepare(
      `INSERT INTO readings (series_id, ts, fields) VALUES (?, ?, ?)
       ON CONFLICT (series_id, ts) DO UPDATE SET fields = json_patch(readings.fields, excluded.fields)`,
    );
    this.upsertLatest = this.db.prepare(
      `INSERT INTO latest (series_id, field, ts, num) VALUES (?, ?, ?, ?)
       ON CONFLICT (series_id, field) DO UPDATE SET ts = excluded.ts, num = excluded.num WHERE excluded.ts >= latest.ts`,
    );
    this.writeTx = this.db.transaction((groups: readonly RecordGroup[]) => {
      // the newest value per series and field of the whole batch: one `latest` upsert each, not one per value
      const newest = new Map<string, { id: number; field: string; ts: number; value: number }>();
      let count = 0;
      for (const group of groups) {
        const id = this.seriesId(group.measurement, group.tags);
        for (const [ts, fields] of group.points) {
          this.upsertReading.run(id, ts, JSON.stringify(fields));
          count++;
          for (const field in fields) {
            const v = fields[field]!;
            if (typeof v !== 'number') continue;
            const key = `${id}\u0000${field}`;
            const prev = newest.get(key);
            if (!prev) newest.set(key, { id, field, ts, value: v });
            else if (ts >= prev.ts) { prev.ts = ts; prev.value = v; }
          }
        }
      }
      for (const l of newest.values()) this.upsertLatest.run(l.id, l.field, l.ts, l.value);
      return count;
    });
  }

  write(points: readonly Point[]): void {
    this.writeGroups(points.map((p) => ({ measurement: p.measurement, tags: p.tags, points: [[p.ts, p.fields]] })));
  }

  /** Writes groups of points that share a series (commit-log records); returns how many points. */
  writeGroups(groups: readonly RecordGroup[]): number {
    try {
      return this.writeTx(groups);
    } catch (err) {
      // the transaction rolled back, and with it any series rows it created: forget their cached ids
      this.seriesIds.clear();
      this.seriesByTagOrder.clear();
      for (const row of this.db.prepare('SELECT id, key FROM series').all() as Array<{ id: number; key: string }>) {
        this.seriesIds.set(row.key, row.id);
      }
      throw err;
    }
  }

  queryRange(q: RangeQuery): Sample[] {
    checkRangeQuery(q);
    const ids = this.sensorSeries(q.measurement, q.sensorId);
    if (ids.length === 0) return [];
    const limit = q.limit ?? -1;
    const path = fieldPath(q.field);
    return this.db.prepare(
      `SELECT ts, json_extract(fields, ?) AS value FROM readings WHERE series_id IN (${ids.join(',')})
       AND ts >= ? AND ts < ? AND json_type(fields, ?) IN ${NUMERIC} ORDER BY ts LIMIT ?`,
    ).all(path, q.from, q.to, path, limit) as Sample[];
  }

  aggregate(q: AggregateQuery): Sample[] {
    const fn = checkAggregateQuery(q);
    const ids = this.sensorSeries(q.measurement, q.sensorId);
    if (ids.length === 0) return [];
    // every value is bound (:every, :from, :to, :path); the statement text comes from a closed map
    return this.db.prepare(AGGREGATE_SQL[fn].replace('$IDS', ids.map(Number).join(',')))
      .all({ path: fieldPath(q.field), from: q.from, to: q.to, every: q.every }) as Sample[];
  }

  latest(q: LatestQuery): LatestValue[] {
    const conditions = ['s.sensor_id IS NOT NULL'];
    const params: unknown[] = [];
    if (q.measurement) { conditions.push('s.measurement = ?'); params.push(q.measurement); }
    if (q.kind) { conditions.push('s.kind = ?'); params.push(q.kind); }
    if (q.district) { conditions.push('s.district = ?'); params.push(q.district); }
    if (q.sensorIds) {
      if (q.sensorIds.length === 0) return [];
      conditions.push(`s.sensor_id IN (${q.sensorIds.map(() => '?').join(',')})`);
      params.push(...q.sensorIds);
    }
    const rows = this.db.prepare(
      `SELECT s.measurement, s.sensor_id AS sensorId, s.kind, s.district, l.field, l.ts, l.num AS value
       FROM latest l JOIN series s ON s.id = l.series_id WHERE ${conditions.join(' AND ')}
       ORDER BY s.sensor_id, l.field, l.ts`,
    ).all(...params) as LatestValue[];
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
    const series = (this.db.prepare('SELECT * FROM series WHERE measurement = ?').all(q.measurement) as SeriesRow[])
      .map((row) => ({ id: row.id, tags: JSON.parse(row.tags) as Record<string, string> }))
      .filter((s) => Object.entries(q.tags ?? {}).every(([k, v]) => s.tags[k] === v));
    if (series.length === 0) return [];
    const tagsById = new Map(series.map((s) => [s.id, s.tags]));
    const rows = this.db.prepare(
      `SELECT series_id, ts, fields FROM readings WHERE series_id IN (${series.map((s) => s.id).join(',')})
       AND ts >= ? AND ts < ? ORDER BY ts, series_id LIMIT ?`,
    ).all(q.from, q.to, q.limit ?? -1) as Array<{ series_id: number; ts: number; fields: string }>;
    return rows.map((row) => ({
      measurement: q.measurement,
      tags: tagsById.get(row.series_id)!,
      fields: JSON.parse(row.fields) as Record<string, FieldValue>,
      ts: row.ts,
    }));
  }

  /** Makes every committed transaction durable on disk (WAL fsync and checkpoint). */
  sync(): void {
    this.db.pragma('wal_checkpoint(PASSIVE)');
  }

  close(): void {
    this.db.close();
  }

  private seriesId(measurement: string, tags: Readonly<Record<string, string>>): number {
    // tags as they come (a device's records list them in the same order) before the canonical, sorted key
    let asSent = measurement;
    for (const k in tags) asSent += `\u0000${k}\u0000${tags[k]}`;
    const known = this.seriesByTagOrder.get(asSent);
    if (known !== undefined) return known;
    const key = seriesKey(measurement, tags);
    let id = this.seriesIds.get(key);
    if (id === undefined) {
      const info = this.insertSeries.run(measurement, key, tags.sensorId ?? null, tags.kind ?? null, tags.district ?? null, JSON.stringify(tags));
      id = Number(info.lastInsertRowid);
      this.seriesIds.set(key, id);
    }
    this.seriesByTagOrder.set(asSent, id);
    return id;
  }

  private sensorSeries(measurement: string, sensorId: string): number[] {
    return (this.db.prepare('SELECT id FROM series WHERE sensor_id = ? AND measurement = ?').all(sensorId, measurement) as Array<{ id: number }>)
      .map((r) => r.id);
  }
}

/** A JSON path naming one field, quoted so that any field name is a single key. */
function fieldPath(field: string): string {
  return `$.${JSON.stringify(field)}`;
}

/**
 * Stores made before the row-per-point layout kept a row per field value in `samples`: fold them into
 * `readings` once, in one transaction, and drop the old table.
 */
function migrateSamples(db: Database.Database): void {
  const old = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'samples'`).get();
  if (!old) return;
  db.transaction(() => {
    db.exec(`
      INSERT INTO readings (series_id, ts, fields)
      SELECT series_id, ts, json_group_object(field, CASE type WHEN 0 THEN num WHEN 2 THEN json(CASE num WHEN 1 THEN 'true' ELSE 'false' END) ELSE str END)
      FROM samples GROUP BY series_id, ts;
      DROP TABLE samples;
    `);
  })();
}
