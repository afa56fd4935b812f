import type Database from 'better-sqlite3';

/**
 * The embedded store's tables.
 * - `series`: measurement + tag set, as InfluxDB identifies a series.
 * - `readings`: a row per raw point keyed by (series, ts), fields as a JSON object. Ingest writes one
 *   B-tree row per reading (a row per field value cost 4x the inserts: commit "Embedded store: a row per
 *   point"); aggregates do not parse this JSON except for the few minutes not rolled up yet.
 * - `rollup_1m`, `rollup_1h`: count/sum/min/max per (series, bucket, numeric field), plain numeric
 *   columns. Keyed bucket before field so one grain of a series (what a late reading dirties) is one
 *   contiguous range; a query for one field reads the others' rows of the same range (few metrics per kind).
 * - `rollup_dirty`: minutes of a series written after they were rolled up (late or replayed readings).
 * - `lifecycle`: the roll-up watermarks.
 * - `latest`: the newest value per series and field, kept on write.
 */
export const ROLLUP_GRAINS = { rollup_1m: 60_000, rollup_1h: 3_600_000 } as const;

export function createSchema(db: Database.Database): void {
  db.exec(`
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
    CREATE TABLE IF NOT EXISTS rollup_1m (
      series_id INTEGER NOT NULL, bucket INTEGER NOT NULL, field TEXT NOT NULL,
      n INTEGER NOT NULL, sum REAL NOT NULL, min REAL NOT NULL, max REAL NOT NULL,
      PRIMARY KEY (series_id, bucket, field)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS rollup_1h (
      series_id INTEGER NOT NULL, bucket INTEGER NOT NULL, field TEXT NOT NULL,
      n INTEGER NOT NULL, sum REAL NOT NULL, min REAL NOT NULL, max REAL NOT NULL,
      PRIMARY KEY (series_id, bucket, field)) WITHOUT ROWID;
    -- daily or hourly figures of one metric read only that metric's hours, in order, from this index alone
    -- (the key puts bucket before field, so a month of one field read all fields' hours: EXPLAIN QUERY PLAN)
    CREATE INDEX IF NOT EXISTS rollup_1h_by_field ON rollup_1h (series_id, field, bucket, n, sum, min, max);
    CREATE TABLE IF NOT EXISTS rollup_dirty (
      series_id INTEGER NOT NULL, bucket INTEGER NOT NULL, PRIMARY KEY (series_id, bucket)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS lifecycle (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
  `);
  migrateSamples(db);
}

/**
 * Stores made before the row-per-point layout kept a row per field value in `samples`: fold them into
 * `readings` once, in one transaction, and drop the old table. (Stores in the row-per-point layout without
 * roll-ups need nothing: the tables above are created empty and the roll-up job fills them from the oldest
 * reading on, a bounded span per run.)
 */
function migrateSamples(db: Database.Database): void {
  const old = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'samples'`).get();
  if (!old) return;
  db.transaction(() => {
    db.exec(`
      INSERT INTO readings (series_id, ts, fields)
      SELECT series_id, ts, json_group_object(
        field,
        CASE type WHEN 0 THEN num WHEN 2 THEN json(CASE num WHEN 1 THEN 'true' ELSE 'false' END) ELSE str END
      )
      FROM samples GROUP BY series_id, ts;
      DROP TABLE samples;
    `);
  })();
}

/** The roll-up watermark of a table: every grain before it is rolled up (0: nothing yet). */
export function readWatermark(db: Database.Database, table: keyof typeof ROLLUP_GRAINS): number {
  const row = db.prepare('SELECT value FROM lifecycle WHERE name = ?').get(table) as { value: number } | undefined;
  return row?.value ?? 0;
}
