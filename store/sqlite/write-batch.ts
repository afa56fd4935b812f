import type Database from 'better-sqlite3';
import type { FieldValue } from '../time-series-store.ts';

/** Rows per multi-row INSERT: one statement call per this many points instead of one per point. */
export const ROWS_PER_INSERT = 64;

const UPSERT_READING =
  'ON CONFLICT (series_id, ts) DO UPDATE SET fields = json_patch(readings.fields, excluded.fields)';

/** The reading upserts: one row, and ROWS_PER_INSERT rows (later rows of one statement see the earlier ones). */
export function prepareReadingUpserts(db: Database.Database): { one: Database.Statement; many: Database.Statement } {
  const values = (n: number) => Array.from({ length: n }, () => '(?, ?, ?)').join(', ');
  return {
    one: db.prepare(`INSERT INTO readings (series_id, ts, fields) VALUES ${values(1)} ${UPSERT_READING}`),
    many: db.prepare(
      `INSERT INTO readings (series_id, ts, fields) VALUES ${values(ROWS_PER_INSERT)} ${UPSERT_READING}`,
    ),
  };
}

interface Newest {
  ts: number;
  value: number;
}

/**
 * The points of one write transaction, in order: readings go out ROWS_PER_INSERT at a time, and what the
 * transaction needs at its end is gathered on the way (the newest value per series and field, for one
 * `latest` upsert each; the minutes written behind the roll-up watermark). Lives inside the transaction.
 */
export class WriteBatch {
  count = 0;
  /** (series, minute) pairs written before the roll-up watermark, to roll up again */
  late: Map<string, [number, number]> | undefined;
  private readonly params: unknown[] = [];
  private readonly newest = new Map<number, Map<string, Newest>>();

  constructor(
    private readonly upserts: { one: Database.Statement; many: Database.Statement },
    private readonly rolledUntil: number,
  ) {}

  /** `json`: the fields as JSON when the caller has them as text already (a commit-log record's own) */
  put(id: number, ts: number, fields: Readonly<Record<string, FieldValue>>, json?: string): void {
    const params = this.params;
    params.push(id, ts, json ?? JSON.stringify(fields));
    if (params.length === ROWS_PER_INSERT * 3) {
      this.upserts.many.run(params);
      params.length = 0;
    }
    this.count++;
    if (ts < this.rolledUntil) {
      // behind the roll-up job (a late or replayed reading): its minute is rolled up again
      const minute = ts - (((ts % 60_000) + 60_000) % 60_000);
      this.late ??= new Map();
      this.late.set(`${id}:${minute}`, [id, minute]);
    }
    let series = this.newest.get(id);
    if (!series) {
      series = new Map();
      this.newest.set(id, series);
    }
    for (const field in fields) {
      const value = fields[field];
      if (typeof value !== 'number') continue;
      const prev = series.get(field);
      if (!prev) series.set(field, { ts, value });
      else if (ts >= prev.ts) {
        prev.ts = ts;
        prev.value = value;
      }
    }
  }

  /** Writes what is buffered and the newest values; returns how many points. */
  finish(upsertLatest: Database.Statement): number {
    const params = this.params;
    for (let i = 0; i < params.length; i += 3) this.upserts.one.run(params[i], params[i + 1], params[i + 2]);
    params.length = 0;
    for (const [id, fields] of this.newest) {
      for (const [field, l] of fields) upsertLatest.run(id, field, l.ts, l.value);
    }
    return this.count;
  }
}
