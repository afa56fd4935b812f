import type { LatestQuery, LatestValue, Point } from './time-series-store.ts';

/**
 * The newest value of every numeric field of every sensor, kept in memory from what the commit log
 * makes durable (every reading, derived values such as vnAqi, alert events), and seeded at start from the
 * store over a bounded window. The console polls latest values every few seconds: answering from here
 * costs no store query (InfluxDB's SHOW FIELD KEYS plus a last() per field, or a read queued behind a
 * month-long aggregate), and a value older than the window is not "latest" any more.
 */
export const LATEST_WINDOW_MS = 7 * 86_400_000;

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** An entry as kept: updated in place when a newer value of the same series comes (query hands out copies). */
type Entry = { -readonly [K in keyof LatestValue]: LatestValue[K] };

export class LatestValues {
  /** by measurement + sensor, then by field: one key string per point, not one per field value (hot path) */
  private readonly values = new Map<string, Map<string, Entry>>();

  constructor(
    private readonly now: () => number,
    private readonly windowMs = LATEST_WINDOW_MS,
  ) {}

  /** Points as they become durable; the newest value per sensor and field wins, whatever the order. */
  note(points: readonly Point[]): void {
    for (const p of points) {
      const sensorId = p.tags.sensorId;
      if (!sensorId) continue;
      let fields: Map<string, Entry> | undefined;
      const kind = p.tags.kind ?? '';
      const district = p.tags.district ?? '';
      for (const field in p.fields) {
        const value = p.fields[field];
        if (typeof value !== 'number') continue;
        fields ??= this.fieldsOf(p.measurement, sensorId);
        const prev = fields.get(field);
        if (prev && p.ts < prev.ts) continue;
        // in place: an object per field per reading lived until the sensor's next reading, long enough for the
        // young generation to copy it and often to promote it (GC work on every reading)
        if (prev && prev.kind === kind && prev.district === district) {
          prev.ts = p.ts;
          prev.value = value;
          continue;
        }
        fields.set(field, { measurement: p.measurement, sensorId, kind, district, field, ts: p.ts, value });
      }
    }
  }

  /** What the store knew at start, over the window (the commit log's tail is noted as it is replayed). */
  seed(values: readonly LatestValue[]): void {
    for (const v of values) this.keep(v);
  }

  /** The window's start: what to ask the store for when seeding. */
  since(): number {
    return this.now() - this.windowMs;
  }

  query(q: LatestQuery): LatestValue[] {
    if (q.sensorIds !== undefined && q.sensorIds.length === 0) return [];
    const since = Math.max(this.since(), q.since ?? -Infinity);
    const ids = q.sensorIds ? new Set(q.sensorIds) : undefined;
    const out: LatestValue[] = [];
    for (const v of this.all()) {
      if (v.ts < since) continue;
      if (q.measurement && v.measurement !== q.measurement) continue;
      if (q.kind && v.kind !== q.kind) continue;
      if (q.district && v.district !== q.district) continue;
      if (ids && !ids.has(v.sensorId)) continue;
      out.push({ ...v }); // a copy: the kept entry changes with the next reading
    }
    // the stores' order: sensor, then field
    return out.sort(
      (a, b) => compare(a.sensorId, b.sensorId) || compare(a.field, b.field) || compare(a.measurement, b.measurement),
    );
  }

  private keep(v: LatestValue): void {
    // a sensor that moved district keeps one entry: its newest value, with the district it came with
    const fields = this.fieldsOf(v.measurement, v.sensorId);
    const prev = fields.get(v.field);
    if (!prev || v.ts >= prev.ts) fields.set(v.field, { ...v });
  }

  private fieldsOf(measurement: string, sensorId: string): Map<string, Entry> {
    const key = `${measurement}\u0000${sensorId}`;
    let fields = this.values.get(key);
    if (!fields) {
      fields = new Map();
      this.values.set(key, fields);
    }
    return fields;
  }

  private *all(): Generator<Entry> {
    for (const fields of this.values.values()) yield* fields.values();
  }
}
