import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type {
  AggregateQuery,
  LatestQuery,
  LatestValue,
  LifecycleJob,
  Point,
  PointQuery,
  RangeJson,
  RangeQuery,
  Sample,
  ThreadHeap,
  TimeSeriesStore,
} from '../time-series-store.ts';
import type { LifecyclePolicy } from './sqlite-lifecycle.ts';
import { packRecords } from './packed-records.ts';
import type { ReadOp } from './sqlite-worker.ts';
import { WorkerLink } from './sqlite-worker-link.ts';

export interface SqliteStoreOptions {
  /** read-only connections, each in its own worker, beside the writer (0: the writer answers reads too) */
  readers?: number;
  /** what the roll-up and retention jobs keep; unset: roll up, delete nothing */
  policy?: LifecyclePolicy;
}

const KEEP_ALL: LifecyclePolicy = { rawKeepMs: {}, rollup1mKeepMs: 0, rollup1hKeepMs: 0, maxSpanMs: 6 * 3_600_000 };

/**
 * The embedded default store: SQLite (better-sqlite3) in worker threads, so the platform runs on a fresh
 * machine with nothing else installed and a large write or query never blocks the broker. One writer
 * worker; reads go to the least busy of several reader workers (WAL: readers see every committed write
 * and never wait for the writer), so four heavy queries do not hold up the console's latest values.
 */
export class SqliteStore implements TimeSeriesStore {
  readonly name = 'embedded';
  /**
   * The last write handed to the writer: a read waits for the writes called before it (as one worker
   * doing both used to guarantee), never for other reads.
   */
  private lastWrite: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly writer: WorkerLink,
    private readonly readers: WorkerLink[],
    private readonly policy: LifecyclePolicy,
  ) {}

  /** Opens (creating if needed) the database file; resolves once the schema is ready. */
  static async open(file: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
    mkdirSync(dirname(file), { recursive: true });
    const writer = new WorkerLink({ file, role: 'writer' });
    await writer.call('latest', { sensorIds: [] });
    // readers open once the writer has made the schema and the WAL files
    const readers = Array.from({ length: options.readers ?? 2 }, () => new WorkerLink({ file, role: 'reader' }));
    await Promise.all(readers.map((r) => r.call('latest', { sensorIds: [] })));
    return new SqliteStore(writer, readers, options.policy ?? KEEP_ALL);
  }

  write(points: readonly Point[]): Promise<void> {
    return this.writing(this.writer.call('write', points)) as Promise<void>;
  }

  /**
   * Commit-log records are decoded in the worker: the main thread only copies their bytes, back to back
   * into one buffer that is transferred, not cloned (packed-records.ts).
   */
  writeEncoded(records: readonly Buffer[]): Promise<number> {
    const packed = packRecords(records);
    const transfer = [packed.bytes.buffer as ArrayBuffer, packed.ends.buffer as ArrayBuffer];
    return this.writing(this.writer.call('writeEncoded', packed, transfer)) as Promise<number>;
  }

  queryRange(query: RangeQuery): Promise<Sample[]> {
    return this.read('queryRange', query) as Promise<Sample[]>;
  }

  queryRangeJson(query: RangeQuery & { readonly limit: number }): Promise<RangeJson> {
    return this.read('queryRangeJson', query) as Promise<RangeJson>;
  }

  aggregate(query: AggregateQuery): Promise<Sample[]> {
    return this.read('aggregate', query) as Promise<Sample[]>;
  }

  latest(query: LatestQuery): Promise<LatestValue[]> {
    return this.read('latest', query) as Promise<LatestValue[]>;
  }

  queryPoints(query: PointQuery): Promise<Point[]> {
    return this.read('queryPoints', query) as Promise<Point[]>;
  }

  /** The roll-up and retention jobs, run in the writer (store/lifecycle-jobs.ts schedules them). */
  runLifecycle(job: LifecycleJob, now: number): Promise<object & { behind?: boolean }> {
    return this.writer.call(job === 'rollup' ? 'rollup' : 'retain', { now, policy: this.policy }) as Promise<
      object & { behind?: boolean }
    >;
  }

  async sync(): Promise<void> {
    await this.writer.call('sync', undefined);
  }

  /** Each worker's JavaScript heap, the writer first: memory of the process that is not the main thread's */
  threadHeaps(): Promise<ThreadHeap[]> {
    const heaps = [this.writer, ...this.readers].map(async (worker, i) => ({
      thread: i === 0 ? 'writer' : `reader-${i}`,
      ...((await worker.call('heap', undefined)) as Omit<ThreadHeap, 'thread'>),
    }));
    return Promise.all(heaps);
  }

  async close(): Promise<void> {
    await Promise.all(this.readers.map((r) => r.close()));
    await this.writer.close();
  }

  private writing(call: Promise<unknown>): Promise<unknown> {
    this.lastWrite = call.catch(() => undefined);
    return call;
  }

  private async read(op: ReadOp, query: unknown): Promise<unknown> {
    await this.lastWrite;
    return this.reader().call(op, query);
  }

  private reader(): WorkerLink {
    let best = this.writer;
    for (const r of this.readers) if (best === this.writer || r.pending < best.pending) best = r;
    return best;
  }
}
