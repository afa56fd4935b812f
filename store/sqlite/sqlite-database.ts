import Database from 'better-sqlite3';
import type { Point } from '../time-series-store.ts';
import { seriesKey } from '../time-series-store.ts';
import { decodeRecordList, type RecordGroup } from '../log-record.ts';
import { type PackedRecords, visitPacked } from './packed-records.ts';
import { type LifecyclePolicy, type RetentionReport, type RollupReport, SqliteLifecycle } from './sqlite-lifecycle.ts';
import { SqliteReader } from './sqlite-reads.ts';
import { createSchema } from './sqlite-schema.ts';
import { prepareReadingUpserts, WriteBatch } from './write-batch.ts';

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
  /** series ids by a shared-form record's header bytes (packed-records.ts): no parse per record */
  private readonly seriesByHeader = new Map<string, number>();
  private readonly upsertReadings: ReturnType<typeof prepareReadingUpserts>;
  private readonly upsertLatest: Database.Statement;
  private readonly writeTx: (fill: (batch: WriteBatch) => void) => number;
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
    // WAL checkpoints are the feeder's (sync(), every store.log.checkpointEvery* records or seconds); SQLite's
    // own, at 1,000 pages, ran after nearly every large transaction and wrote the same hot pages again each time
    this.db.pragma('wal_autocheckpoint = 10000');
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
    this.upsertReadings = prepareReadingUpserts(this.db);
    this.upsertLatest = this.db.prepare(
      `INSERT INTO latest (series_id, field, ts, num) VALUES (?, ?, ?, ?)
       ON CONFLICT (series_id, field) DO UPDATE SET ts = excluded.ts, num = excluded.num
       WHERE excluded.ts >= latest.ts`,
    );
    this.writeTx = this.db.transaction((fill: (batch: WriteBatch) => void) => {
      const batch = new WriteBatch(this.upsertReadings, this.rolledUntil);
      fill(batch);
      const count = batch.finish(this.upsertLatest);
      if (batch.late) this.lifecycle.noteLate(batch.late.values());
      return count;
    });
  }

  write(points: readonly Point[]): void {
    this.writeGroups(points.map((p) => ({ measurement: p.measurement, tags: p.tags, points: [[p.ts, p.fields]] })));
  }

  /** Writes groups of points that share a series (commit-log records); returns how many points. */
  writeGroups(groups: readonly RecordGroup[]): number {
    return this.writing((batch) => this.putGroups(batch, groups));
  }

  /** Writes commit-log records as they were packed on the main thread (packed-records.ts). */
  writePacked(packed: PackedRecords): number {
    return this.writing((batch) =>
      visitPacked(
        packed,
        {
          shared: (key, header, points, fieldsJson) => {
            let id = this.seriesByHeader.get(key);
            if (id === undefined) {
              const { m, t } = header();
              id = this.seriesId(m, t);
              this.seriesByHeader.set(key, id);
            }
            for (let i = 0; i < points.length; i++) {
              const [ts, fields] = points[i]!;
              batch.put(id, ts, fields, fieldsJson?.[i]);
            }
          },
          groups: (groups) => this.putGroups(batch, groups),
        },
        decodeRecordList,
      ),
    );
  }

  private putGroups(batch: WriteBatch, groups: readonly RecordGroup[]): void {
    for (const group of groups) {
      const id = this.seriesId(group.measurement, group.tags);
      for (const [ts, fields] of group.points) batch.put(id, ts, fields);
    }
  }

  private writing(fill: (batch: WriteBatch) => void): number {
    try {
      return this.writeTx(fill);
    } catch (err) {
      // the transaction rolled back, and with it any series rows it created: forget their cached ids
      this.seriesIds.clear();
      this.seriesByTagOrder.clear();
      this.seriesByHeader.clear();
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
      const info = this.insertSeries.run(
        measurement,
        key,
        tags.sensorId ?? null,
        tags.kind ?? null,
        tags.district ?? null,
        JSON.stringify(tags),
      );
      id = Number(info.lastInsertRowid);
      this.seriesIds.set(key, id);
    }
    this.seriesByTagOrder.set(asSent, id);
    return id;
  }
}
