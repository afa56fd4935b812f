import type Database from 'better-sqlite3';
import { ROLLUP_GRAINS, readWatermark } from './sqlite-schema.ts';

/**
 * The embedded store's data lifecycle, run in the writer worker by the scheduled jobs
 * (store/lifecycle-jobs.ts): roll raw readings up into 1-minute and 1-hour count/sum/min/max, redo the
 * minutes that late readings changed, and drop what is older than its retention. Each run does a bounded
 * amount of work (`maxSpanMs` of raw readings) so writes queued behind it wait little; a run that could
 * not catch up says so (`behind`) and the scheduler runs it again at once.
 */
export interface LifecyclePolicy {
  /** raw readings kept per measurement (sensor kind), ms; a measurement not listed is kept */
  readonly rawKeepMs: Readonly<Record<string, number>>;
  /** 0 = kept for ever */
  readonly rollup1mKeepMs: number;
  readonly rollup1hKeepMs: number;
  /** raw time span one roll-up run reads at most */
  readonly maxSpanMs: number;
}

export interface RollupReport {
  rolledUntil1m: number;
  rolledUntil1h: number;
  lateMinutesRedone: number;
  behind: boolean;
}

export interface RetentionReport {
  rawDeleted: number;
  rollup1mDeleted: number;
  rollup1hDeleted: number;
}

const MINUTE = ROLLUP_GRAINS.rollup_1m;
const HOUR = ROLLUP_GRAINS.rollup_1h;
const UPSERT =
  'ON CONFLICT (series_id, bucket, field) DO UPDATE SET n = excluded.n, sum = excluded.sum, min = ' +
  'excluded.min, max = excluded.max';
const DIRTY_PER_RUN = 20_000;

function floorTo(ts: number, grain: number): number {
  return ts - (((ts % grain) + grain) % grain);
}

export class SqliteLifecycle {
  private readonly minutesFromRaw: Database.Statement;
  private readonly minuteOfSeries: Database.Statement;
  private readonly hoursFromMinutes: Database.Statement;
  private readonly hourOfSeries: Database.Statement;
  private readonly setWatermark: Database.Statement;
  private readonly markDirty: Database.Statement;

  constructor(private readonly db: Database.Database) {
    const minute = (where: string) =>
      db.prepare(
        `INSERT INTO rollup_1m (series_id, bucket, field, n, sum, min, max)
       SELECT r.series_id, r.ts - (((r.ts % ${MINUTE}) + ${MINUTE}) % ${MINUTE}), j.key,
         COUNT(*), SUM(j.value), MIN(j.value), MAX(j.value)
       FROM series s JOIN readings r ON r.series_id = s.id AND r.ts >= :from AND r.ts < :to, json_each(r.fields) j
       WHERE j.type IN ('integer', 'real') ${where} GROUP BY 1, 2, 3 ${UPSERT}`,
      );
    this.minutesFromRaw = minute('');
    this.minuteOfSeries = minute('AND s.id = :id');
    const hour = (where: string) =>
      db.prepare(
        `INSERT INTO rollup_1h (series_id, bucket, field, n, sum, min, max)
       SELECT m.series_id, m.bucket - (((m.bucket % ${HOUR}) + ${HOUR}) % ${HOUR}), m.field,
         SUM(m.n), SUM(m.sum), MIN(m.min), MAX(m.max)
       FROM series s JOIN rollup_1m m ON m.series_id = s.id AND m.bucket >= :from AND m.bucket < :to
       WHERE 1 ${where} GROUP BY 1, 2, 3 ${UPSERT}`,
      );
    this.hoursFromMinutes = hour('');
    this.hourOfSeries = hour('AND s.id = :id');
    this.setWatermark = db.prepare(
      'INSERT INTO lifecycle (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
    );
    this.markDirty = db.prepare('INSERT OR IGNORE INTO rollup_dirty (series_id, bucket) VALUES (?, ?)');
  }

  /** The 1-minute watermark, for the writer: a reading before it dirties its minute. */
  rolledUntil(): number {
    return readWatermark(this.db, 'rollup_1m');
  }

  /** Called inside the write transaction with the (series, minute) pairs written behind the watermark. */
  noteLate(minutes: Iterable<[number, number]>): void {
    for (const [id, bucket] of minutes) this.markDirty.run(id, bucket);
  }

  rollup(now: number, policy: LifecyclePolicy): RollupReport {
    return this.db.transaction(() => {
      let until1m = readWatermark(this.db, 'rollup_1m');
      const target = floorTo(now, MINUTE);
      if (until1m === 0) until1m = this.oldest('readings', 'ts', MINUTE) ?? 0;
      let behind = false;
      if (until1m > 0 && until1m < target) {
        const end = Math.min(target, until1m + Math.max(MINUTE, floorTo(policy.maxSpanMs, MINUTE)));
        this.minutesFromRaw.run({ from: until1m, to: end });
        until1m = end;
        behind = end < target;
        this.setWatermark.run('rollup_1m', until1m);
      }
      let until1h = readWatermark(this.db, 'rollup_1h');
      const lateHours = this.redoLateMinutes(until1h);
      if (until1h === 0) until1h = this.oldest('rollup_1m', 'bucket', HOUR) ?? 0;
      const hourTarget = floorTo(until1m, HOUR);
      if (until1h > 0 && until1h < hourTarget) {
        this.hoursFromMinutes.run({ from: until1h, to: hourTarget });
        until1h = hourTarget;
        this.setWatermark.run('rollup_1h', until1h);
      }
      for (const [id, bucket] of lateHours) this.hourOfSeries.run({ id, from: bucket, to: bucket + HOUR });
      return { rolledUntil1m: until1m, rolledUntil1h: until1h, lateMinutesRedone: lateHours.redone, behind };
    })();
  }

  /** Drops raw readings and roll-ups past their retention, never anything not rolled up yet. */
  retain(now: number, policy: LifecyclePolicy): RetentionReport {
    const report: RetentionReport = { rawDeleted: 0, rollup1mDeleted: 0, rollup1hDeleted: 0 };
    const until1m = readWatermark(this.db, 'rollup_1m');
    const until1h = readWatermark(this.db, 'rollup_1h');
    const series = this.db.prepare('SELECT id, measurement FROM series').all() as Array<{
      id: number;
      measurement: string;
    }>;
    const deleteRaw = this.db.prepare('DELETE FROM readings WHERE series_id = ? AND ts < ?');
    const delete1m = this.db.prepare('DELETE FROM rollup_1m WHERE series_id = ? AND bucket < ?');
    const delete1h = this.db.prepare('DELETE FROM rollup_1h WHERE series_id = ? AND bucket < ?');
    // one transaction per series: a first run over years of readings does not hold the writer for long at once
    for (const { id, measurement } of series) {
      this.db.transaction(() => {
        const rawKeep = policy.rawKeepMs[measurement];
        if (rawKeep !== undefined && rawKeep > 0)
          report.rawDeleted += deleteRaw.run(id, Math.min(now - rawKeep, until1m)).changes;
        if (policy.rollup1mKeepMs > 0)
          report.rollup1mDeleted += delete1m.run(id, Math.min(now - policy.rollup1mKeepMs, until1h)).changes;
        if (policy.rollup1hKeepMs > 0) report.rollup1hDeleted += delete1h.run(id, now - policy.rollup1hKeepMs).changes;
      })();
    }
    return report;
  }

  /** Redoes the minutes late readings changed; answers the (series, hour) pairs already rolled up that they touch. */
  private redoLateMinutes(until1h: number): Array<[number, number]> & { redone: number } {
    const dirty = this.db
      .prepare('SELECT series_id AS id, bucket FROM rollup_dirty LIMIT ?')
      .all(DIRTY_PER_RUN) as Array<{ id: number; bucket: number }>;
    const hours = new Map<string, [number, number]>();
    const remove = this.db.prepare('DELETE FROM rollup_dirty WHERE series_id = ? AND bucket = ?');
    for (const { id, bucket } of dirty) {
      this.minuteOfSeries.run({ id, from: bucket, to: bucket + MINUTE });
      remove.run(id, bucket);
      const hour = floorTo(bucket, HOUR);
      if (hour < until1h) hours.set(`${id}:${hour}`, [id, hour]);
    }
    return Object.assign([...hours.values()], { redone: dirty.length });
  }

  /** The oldest grain of a table, from each series' first row (the primary key's order: no scan). */
  private oldest(table: 'readings' | 'rollup_1m', column: 'ts' | 'bucket', grain: number): number | undefined {
    const first = this.db
      .prepare(
        `SELECT MIN(x) AS first FROM (SELECT (SELECT ${column} FROM ${table} WHERE series_id = s.id ORDER ` +
          `BY ${column} LIMIT 1) AS x FROM series s)`,
      )
      .get() as { first: number | null };
    return first.first === null ? undefined : floorTo(first.first, grain);
  }
}
