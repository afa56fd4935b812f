/**
 * The one storage interface. Two adapters implement it (embedded SQLite, InfluxDB) and both pass the
 * shared conformance suite in `store-conformance.ts`.
 *
 * Data model (InfluxDB's): a point is a measurement, a set of tags (the series) and fields at a timestamp.
 * Readings: measurement = sensor kind, tags = { sensorId, kind, district }, a numeric field per metric.
 * Writing the same series, field and timestamp twice keeps one value (the last): replays are harmless.
 */
export type FieldValue = number | string | boolean;

export interface Point {
  readonly measurement: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly fields: Readonly<Record<string, FieldValue>>;
  /** epoch milliseconds */
  readonly ts: number;
}

export interface Sample {
  readonly ts: number;
  readonly value: number;
}

/** Samples of one numeric field of one sensor, in [from, to), oldest first. */
export interface RangeQuery {
  readonly measurement: string;
  readonly sensorId: string;
  readonly field: string;
  readonly from: number;
  readonly to: number;
  readonly limit?: number;
}

export const AGGREGATE_FNS = ['mean', 'min', 'max', 'first', 'last', 'count', 'sum'] as const;
export type AggregateFn = (typeof AGGREGATE_FNS)[number];

/**
 * Buckets of `every` ms aligned to the Unix epoch (as InfluxQL GROUP BY time()); each result carries its
 * bucket's start. Empty buckets are left out.
 */
export interface AggregateQuery extends RangeQuery {
  readonly every: number;
  readonly fn: AggregateFn;
}

export interface LatestQuery {
  /** only values at or after this (epoch ms): bounds the work, and a sensor silent since then has none */
  readonly since?: number;
  readonly measurement?: string;
  readonly kind?: string;
  readonly district?: string;
  readonly sensorIds?: readonly string[];
}

/** The newest value of each numeric field of each sensor. */
export interface LatestValue {
  readonly measurement: string;
  readonly sensorId: string;
  readonly kind: string;
  readonly district: string;
  readonly field: string;
  readonly ts: number;
  readonly value: number;
}

/** Whole points of one measurement (alert events, device status), filtered by tags, oldest first. */
export interface PointQuery {
  readonly measurement: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly from: number;
  readonly to: number;
  readonly limit?: number;
}

/** A page of raw samples: `points` is the UTF-8 JSON array; `next` the time of the first sample left out. */
export interface RangeJson {
  readonly points: Uint8Array;
  readonly count: number;
  readonly next?: number;
}

export type LifecycleJob = 'rollup' | 'retention';

export interface TimeSeriesStore {
  readonly name: string;
  write(points: readonly Point[]): Promise<void>;
  /**
   * The same as write, given commit-log records (store/log-record.ts) instead of objects: lets an
   * adapter that works in another thread decode there. Resolves with the number of points written.
   */
  writeEncoded?(records: readonly Buffer[]): Promise<number>;
  queryRange(query: RangeQuery): Promise<Sample[]>;
  /**
   * queryRange's first `limit` samples as JSON, built where the rows are read (store/range-json.ts);
   * stores without it are served by samplesJson on the caller's thread.
   */
  queryRangeJson?(query: RangeQuery & { readonly limit: number }): Promise<RangeJson>;
  aggregate(query: AggregateQuery): Promise<Sample[]>;
  latest(query: LatestQuery): Promise<LatestValue[]>;
  queryPoints(query: PointQuery): Promise<Point[]>;
  /**
   * Makes every write so far durable, for adapters whose writes are not durable on return. The commit
   * log forgets nothing before this resolved.
   */
  sync?(): Promise<void>;
  /**
   * The data lifecycle jobs (store/lifecycle-jobs.ts): `rollup` folds raw readings into the 1-minute and
   * 1-hour roll-ups, `retention` drops what is past its time. Adapters whose server does this itself
   * (InfluxDB's continuous queries and retention policies) leave it out. `behind`: run again soon.
   */
  runLifecycle?(job: LifecycleJob, now: number): Promise<object & { behind?: boolean }>;
  /** the adapter's own view for /api/health (reachability, version, refused points...), if it has one */
  state?(): object;
  /** the JavaScript heaps of the threads the adapter runs in besides the main one (the embedded store's workers) */
  threadHeaps?(): Promise<ThreadHeap[]>;
  close(): Promise<void>;
}

/** A worker thread's JavaScript heap: what V8 has committed (resident), in all and for the young generation */
export interface ThreadHeap {
  /** the thread's name in /metrics: `writer`, `reader-1`... */
  readonly thread: string;
  readonly committedBytes: number;
  readonly youngCommittedBytes: number;
  readonly usedBytes: number;
}

/** The canonical series key: measurement plus tags sorted by key, as InfluxDB identifies a series. */
export function seriesKey(measurement: string, tags: Readonly<Record<string, string>>): string {
  const parts = Object.keys(tags)
    .sort()
    .map((k) => `${k}=${tags[k]}`);
  return [measurement, ...parts].join(',');
}
