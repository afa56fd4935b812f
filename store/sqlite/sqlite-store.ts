import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { AggregateQuery, LatestQuery, LatestValue, Point, PointQuery, RangeQuery, Sample, TimeSeriesStore } from '../time-series-store.ts';
import type { WorkerRequest, WorkerResponse } from './sqlite-worker.ts';

/**
 * Set only in the start bundle (start/server-bundle.mjs): the path of the worker compiled beside it, which
 * boots without a TypeScript loader. From the sources (tsx, vitest) the .ts worker boots through tsx.
 */
declare const IOC_SQLITE_WORKER: string | undefined;

const OPEN = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');

/**
 * The embedded default store: SQLite (better-sqlite3) in a worker thread. The platform runs on a fresh
 * machine with nothing else installed, and a large write or query never blocks the broker.
 */
export class SqliteStore implements TimeSeriesStore {
  readonly name = 'embedded';
  private readonly worker: Worker;
  private nextId = 1;
  private readonly inflight = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private failure: Error | undefined;

  private constructor(file: string) {
    this.worker = typeof IOC_SQLITE_WORKER === 'string'
      ? new Worker(IOC_SQLITE_WORKER, { workerData: { file } })
      : new Worker(new URL('../worker-boot.mjs', import.meta.url), {
        workerData: { entry: new URL('./sqlite-worker.ts', import.meta.url).href, file },
      });
    this.worker.on('message', (res: WorkerResponse) => {
      const pending = this.inflight.get(res.id);
      if (!pending) return;
      this.inflight.delete(res.id);
      if (res.ok) pending.resolve(res.result);
      else pending.reject(Object.assign(new Error(res.error), { code: res.code }));
    });
    const fail = (err: Error) => {
      this.failure = err;
      for (const p of this.inflight.values()) p.reject(err);
      this.inflight.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`embedded store worker exited (code ${code})`)));
  }

  /** Opens (creating if needed) the database file; resolves once the schema is ready. */
  static async open(file: string): Promise<SqliteStore> {
    mkdirSync(dirname(file), { recursive: true });
    const store = new SqliteStore(file);
    await store.call('latest', { sensorIds: [] });
    return store;
  }

  write(points: readonly Point[]): Promise<void> {
    return this.call('write', points) as Promise<void>;
  }

  /**
   * Commit-log records are decoded in the worker: the main thread only copies their bytes, as one JSON
   * array, so the worker parses a batch at once. One contiguous copy: cloning many small Buffers would
   * copy each one's whole 8 KiB pool slab.
   */
  writeEncoded(records: readonly Buffer[]): Promise<number> {
    const parts: Buffer[] = [OPEN];
    records.forEach((record, i) => (i === 0 ? parts.push(record) : parts.push(COMMA, record)));
    parts.push(CLOSE);
    return this.call('writeEncoded', Buffer.concat(parts)) as Promise<number>;
  }

  queryRange(query: RangeQuery): Promise<Sample[]> {
    return this.call('queryRange', query) as Promise<Sample[]>;
  }

  aggregate(query: AggregateQuery): Promise<Sample[]> {
    return this.call('aggregate', query) as Promise<Sample[]>;
  }

  latest(query: LatestQuery): Promise<LatestValue[]> {
    return this.call('latest', query) as Promise<LatestValue[]>;
  }

  queryPoints(query: PointQuery): Promise<Point[]> {
    return this.call('queryPoints', query) as Promise<Point[]>;
  }

  async sync(): Promise<void> {
    await this.call('sync', undefined);
  }

  async close(): Promise<void> {
    if (!this.failure) await this.call('close', undefined).catch(() => undefined);
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
    // later calls fail at once instead of waiting for a worker that is gone
    this.failure ??= new Error('the embedded store is closed');
  }

  private call(op: WorkerRequest['op'], arg: unknown): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.inflight.set(id, { resolve, reject });
      this.worker.postMessage({ id, op, arg } satisfies WorkerRequest);
    });
  }
}
