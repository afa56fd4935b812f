import { HttpError, InfluxDB, Point as LinePoint, setLogger, type WriteApi, type WriteOptions } from '@influxdata/influxdb-client';
import type { InfluxConfig } from '../../config/platform-config.ts';
import { seriesKey, type Point } from '../time-series-store.ts';
import { authHeaders, failureFromStatus, InfluxRequestError } from './influx-http.ts';

/**
 * Writes line protocol through `@influxdata/influxdb-client`'s WriteApi: the library escapes, splits into
 * batches of `batchSize` lines and retries transient failures with backoff (honouring Retry-After). The v1
 * path is the same WriteApi pointed at `/write`. `write` resolves only once the server took every batch.
 */
export type WritePath = 'v1' | 'v2';

export interface WriteOutcome {
  /** points the server stored */
  written: number;
  /** points refused for good (field type conflict, beyond retention, no writable field): retrying cannot help */
  rejected: number;
  rejectReason?: string;
}

export function writePath(config: InfluxConfig): WritePath {
  return config.token && config.org && config.bucket ? 'v2' : 'v1';
}

// The library logs every failed attempt to the console; the store reports failures itself, so its
// messages go to the platform log at debug level (or nowhere before a store is opened).
let clientLog: { debug(obj: object, msg?: string): void } | null = null;
setLogger({
  error: (message: string, error?: unknown) => clientLog?.debug({ err: error }, `influxdb-client: ${message}`),
  warn: (message: string, error?: unknown) => clientLog?.debug({ err: error }, `influxdb-client: ${message}`),
});

export function routeClientLog(logger: { debug(obj: object, msg?: string): void }): void {
  clientLog = logger;
}

const lineSettings = { convertTime: (t: string | number | Date | undefined) => (t === undefined ? undefined : String(t)) };

/** One point as a line (ms timestamps). Numbers are always floats, so a whole number never conflicts with a fraction. */
export function toLine(point: Point): string | undefined {
  const line = new LinePoint(point.measurement);
  for (const [key, value] of Object.entries(point.tags)) if (value !== '') line.tag(key, value);
  for (const [key, value] of Object.entries(point.fields)) {
    if (typeof value === 'number') {
      if (Number.isFinite(value)) line.floatField(key, value);
    } else if (typeof value === 'boolean') line.booleanField(key, value);
    else line.stringField(key, value);
  }
  line.timestamp(Math.floor(point.ts));
  return line.toLineProtocol(lineSettings);
}

/**
 * Batches of one write go out side by side, so two writes of one series and timestamp in different
 * batches could land in either order: merge them first, the later fields winning as InfluxDB would.
 */
export function mergeSameTimestamp(points: readonly Point[]): Point[] {
  const byKey = new Map<string, Point>();
  for (const p of points) {
    const key = `${seriesKey(p.measurement, p.tags)}\u0000${p.ts}`;
    const prev = byKey.get(key);
    byKey.set(key, prev ? { ...p, fields: { ...prev.fields, ...p.fields } } : p);
  }
  return [...byKey.values()];
}

function isRetriable(error: Error): boolean {
  return !(error instanceof HttpError) || error.statusCode >= 429;
}

function asRequestError(error: Error, url: string): InfluxRequestError {
  if (error instanceof InfluxRequestError) return error;
  if (error instanceof HttpError) {
    const reason = error.json?.error ?? error.body ?? error.message;
    return new InfluxRequestError(failureFromStatus(error.statusCode), `InfluxDB at ${url} refused the write (${error.statusCode}): ${reason}`, error.statusCode);
  }
  const code = (error as { code?: string }).code;
  if (error.name === 'RequestTimedOutError') return new InfluxRequestError('timeout', `InfluxDB at ${url} did not answer the write in time`);
  return new InfluxRequestError('unreachable', `InfluxDB at ${url} is not reachable (${code ?? error.message})`);
}

/** 400 / 422: the request was understood and (part of) it refused for good; InfluxDB says how many it dropped. */
function refusedForGood(error: Error): error is HttpError {
  return error instanceof HttpError && (error.statusCode === 400 || error.statusCode === 422);
}

/**
 * How many lines a 400 refused: "dropped=N" counts points refused after parsing (type conflict, beyond
 * retention), and each line that did not parse is named in its own "unable to parse" clause.
 */
export function refusedCount(body: string, batchLines: number): number {
  const dropped = /dropped=(\d+)/.exec(body);
  const unparsed = body.match(/unable to parse/g)?.length ?? 0;
  if (!dropped && unparsed === 0) return batchLines; // refused as a whole
  return Math.min(batchLines, (dropped ? Number(dropped[1]) : 0) + unparsed);
}

export class InfluxWriter {
  readonly path: WritePath;
  private readonly client: InfluxDB;

  constructor(private readonly config: InfluxConfig) {
    this.path = writePath(config);
    this.client = new InfluxDB({ url: config.url, token: config.token, timeout: config.timeoutMs });
  }

  async write(points: readonly Point[]): Promise<WriteOutcome> {
    const unique = points.length > this.config.batchSize ? mergeSameTimestamp(points) : points;
    const lines: string[] = [];
    for (const p of unique) {
      const line = toLine(p);
      if (line) lines.push(line);
    }
    // a point left without any field (every number non-finite) cannot be written at all
    const unwritable = unique.length - lines.length;
    if (lines.length === 0) return { written: 0, rejected: unwritable, rejectReason: 'points without a writable field' };
    const outcome = await this.send(lines);
    if (unwritable > 0) {
      outcome.rejected += unwritable;
      outcome.rejectReason ??= 'points without a writable field';
    }
    return outcome;
  }

  private send(lines: string[]): Promise<WriteOutcome> {
    const { config } = this;
    const url = config.url;
    return new Promise<WriteOutcome>((resolve, reject) => {
      let pending = lines.length;
      let settled = false;
      const outcome: WriteOutcome = { written: 0, rejected: 0 };
      const done = (count: number) => {
        pending -= count;
        if (pending <= 0 && !settled) {
          settled = true;
          outcome.written = lines.length - outcome.rejected;
          resolve(outcome);
        }
      };
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        api.dispose();
        reject(asRequestError(error, url));
      };
      const options: Partial<WriteOptions> = {
        batchSize: config.batchSize,
        flushInterval: 0,
        maxRetries: config.writeRetries,
        maxRetryTime: config.timeoutMs * (config.writeRetries + 1) + 10_000,
        minRetryDelay: 200,
        maxRetryDelay: 2000,
        exponentialBase: 2,
        retryJitter: 100,
        // never let the library drop retried lines to keep its buffer small: that would lose readings
        maxBufferLines: lines.length + 1,
        writeSuccess: (written) => done(written.length),
        writeRetrySkipped: () => fail(new Error('the client dropped lines from its retry buffer')),
        writeFailed: (error, failed, attempt, expires) => {
          if (settled) return Promise.resolve();
          if (refusedForGood(error)) {
            outcome.rejected += refusedCount(error.body ?? '', failed.length);
            outcome.rejectReason = String(error.json?.error ?? error.body ?? error.message);
            done(failed.length);
            return Promise.resolve();
          }
          // undefined hands the lines to the library's retry buffer (it retries exactly these errors)
          if (isRetriable(error) && attempt <= config.writeRetries && expires > Date.now()) return undefined;
          fail(error);
          return Promise.resolve();
        },
      };
      if (this.path === 'v1') options.headers = authHeaders(config);
      const api: WriteApi = this.client.getWriteApi(config.org ?? '', config.bucket ?? '', 'ms', options);
      if (this.path === 'v1') api.path = v1WritePath(config);
      api.writeRecords(lines);
      api.flush().catch(() => {
        // failures reach writeFailed above, which settles this promise
      });
    });
  }
}

function v1WritePath(config: InfluxConfig): string {
  const params = new URLSearchParams({ db: config.database, precision: 'ms' });
  if (config.retentionPolicy) params.set('rp', config.retentionPolicy);
  return `/write?${params}`;
}
