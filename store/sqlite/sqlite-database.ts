import Database from 'better-sqlite3';
import type { Point } from '../time-series-store.ts';
import { seriesKey } from '../time-series-store.ts';
import type { RecordGroup } from '../log-record.ts';
import { type LifecyclePolicy, type RetentionReport, type RollupReport, SqliteLifecycle } from './sqlite-lifecycle.ts';
import { SqliteReader } from './sqlite-reads.ts';
import { createSchema } from './sqlite-schema.ts';

/**
 * The embedded store's SQL, synchronous (better-sqlite3). It runs inside a worker thread
 * (sqlite-worker.ts) so that a large transaction or query never stops the main event loop, where the
 * broker and the alert stream live.
 *
 * The writer: one connection, in the writer worker. Layout in sqlite-schema.ts. A replayed point lands on
 * itself and one that adds fields merges into it (json_patch), as InfluxDB merges a point's fields.
 */
export class SqliteDatabase {
  private readonly db: Database.Database;
  private readonly seriesIds = new Map<string, number>();
  /** series ids by measurement and tags in the order they came: no sort per record */
  private readonly seriesByTagOrder = new Map<string, number>();
  private readonly insertSeries: Database.Statement;
  private readonly upsertReading: Database.Statement;
  private readonly upsertLatest: Database.Statement;
  private readonly writeTx: (groups: readonly RecordGroup[]) => number;
  private readonly lifecycle: SqliteLifecycle;
  /** the 1-minute roll-up watermark: a reading written before it dirties its minute */
  private rolledUntil: number;
  /** reads on the writer's own connection (the store's reader workers have their own) */
  readonly reader: SqliteReader;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // NORMAL: a commit survives a crash of the process without an fsync of its own; the commit log is the
    // point of durability and forgets nothing before sync() (a checkpoint, which fsyncs) has run.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    createSchema(this.db);
    this.lifecycle = new SqliteLifecycle(this.db);
    this.rolledUntil = this.lifecycle.rolledUntil();
    this.reader = new SqliteReader(this.db);
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
      let late: Map<string, [number, number]> | undefined;
      for (const group of groups) {
        const id = this.seriesId(group.measurement, group.tags);
        for (const [ts, fields] of group.points) {
          this.upsertReading.run(id, ts, JSON.stringify(fields));
          count++;
          if (ts < this.rolledUntil) {
            // behind the roll-up job (a late or replayed reading): its minute is rolled up again
            const minute = ts - (((ts % 60_000) + 60_000) % 60_000);
            late ??= new Map();
            late.set(`${id}:${minute}`, [id, minute]);
          }
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
      if (late) this.lifecycle.noteLate(late.values());
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

  rollup(now: number, policy: LifecyclePolicy): RollupReport {
    const report = this.lifecycle.rollup(now, policy);
    this.rolledUntil = report.rolledUntil1m;
    return report;
  }

  retain(now: number, policy: LifecyclePolicy): RetentionReport {
    return this.lifecycle.retain(now, policy);
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
}

