import { HttpError, InfluxDB, setLogger, type WriteApi, type WriteOptions } from '@influxdata/influxdb-client';
import type { InfluxConfig } from '../../config/platform-config.ts';
import type { Point } from '../time-series-store.ts';
import { authHeaders, failureFromStatus, InfluxRequestError } from './influx-http.ts';
import { toLine, withoutTwins } from './line-protocol.ts';

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

function isRetriable(error: Error): boolean {
  return !(error instanceof HttpError) || error.statusCode >= 429;
}

function asRequestError(error: Error, url: string): InfluxRequestError {
  if (error instanceof InfluxRequestError) return error;
  if (error instanceof HttpError) {
    const reason = error.json?.error ?? error.body ?? error.message;
    return new InfluxRequestError(
      failureFromStatus(error.statusCode),
      `InfluxDB at ${url} refused the write (${error.statusCode}): ${reason}`,
      error.statusCode,
    );
  }
  const code = (error as { code?: string }).code;
  if (error.name === 'RequestTimedOutError')
    return new InfluxRequestError('timeout', `InfluxDB at ${url} did not answer the write in time`);
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

  /**
   * Lines are built a batch at a time and handed to the WriteApi, which sends a batch as soon as it is
   * full: the next batch is built while InfluxDB takes the previous one.
   */
  async write(points: readonly Point[]): Promise<WriteOutcome> {
    const { batchSize } = this.config;
    // one request keeps InfluxDB's own order; several side by side need twins merged first
    const { points: unique, prefixes } =
      points.length > batchSize ? withoutTwins(points) : { points, prefixes: undefined };
    const send = this.open(unique.length);
    let unwritable = 0; // a point left without any field (every number non-finite) cannot be written
    for (let i = 0; i < unique.length && !send.failed(); i += batchSize) {
      const lines: string[] = [];
      for (let j = i; j < Math.min(i + batchSize, unique.length); j++) {
        const line = toLine(unique[j]!, prefixes?.[j]);
        if (line) lines.push(line);
        else unwritable++;
      }
      send.add(lines);
      if (i + batchSize < unique.length) await new Promise((resolve) => setImmediate(resolve));
    }
    const outcome = await send.finish();
    if (unwritable > 0) {
      outcome.rejected += unwritable;
      outcome.rejectReason ??= 'points without a writable field';
    }
    return outcome;
  }

  /** One write's WriteApi, settled once every line handed to it was answered (or one batch failed for good). */
  private open(maxLines: number): { add(lines: string[]): void; failed(): boolean; finish(): Promise<WriteOutcome> } {
    const { config } = this;
    let submitted = 0;
    let answered = 0;
    let finishing = false;
    let failure: InfluxRequestError | undefined;
    const outcome: WriteOutcome = { written: 0, rejected: 0 };
    let settle: { resolve(o: WriteOutcome): void; reject(e: Error): void } | undefined;
    const check = () => {
      if (!settle) return;
      if (failure) settle.reject(failure);
      else if (finishing && answered >= submitted) {
        outcome.written = submitted - outcome.rejected;
        settle.resolve(outcome);
      } else return;
      settle = undefined;
    };
    const fail = (error: Error) => {
      if (failure) return;
      failure = asRequestError(error, config.url);
      api.dispose();
      check();
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
      maxBufferLines: maxLines + 1,
      gzipThreshold: config.gzip ? 1000 : undefined,
      writeSuccess: (lines) => {
        answered += lines.length;
        check();
      },
      writeRetrySkipped: () => fail(new Error('the client dropped lines from its retry buffer')),
      writeFailed: (error, lines, attempt, expires) => {
        if (failure) return Promise.resolve();
        if (refusedForGood(error)) {
          outcome.rejected += refusedCount(error.body ?? '', lines.length);
          outcome.rejectReason = String(error.json?.error ?? error.body ?? error.message);
          answered += lines.length;
          check();
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
    return {
      add(lines) {
        submitted += lines.length;
        api.writeRecords(lines);
      },
      failed: () => failure !== undefined,
      finish() {
        finishing = true;
        return new Promise<WriteOutcome>((resolve, reject) => {
          settle = { resolve, reject };
          // failures reach writeFailed above, which settles this promise
          api.flush().catch(() => undefined);
          check();
        });
      },
    };
  }
}

function v1WritePath(config: InfluxConfig): string {
  const params = new URLSearchParams({ db: config.database, precision: 'ms' });
  if (config.retentionPolicy) params.set('rp', config.retentionPolicy);
  return `/write?${params}`;
}
