import type { Logger } from 'pino';
import { DomainError } from '../../core/domain-error.ts';
import type { InfluxConfig } from '../../config/platform-config.ts';
import type {
  AggregateQuery,
  LatestQuery,
  LatestValue,
  Point,
  PointQuery,
  RangeQuery,
  Sample,
  TimeSeriesStore,
} from '../time-series-store.ts';
import { InfluxHttp, InfluxRequestError } from './influx-http.ts';
import { readAggregate, readLatest, readPoints, readRange, type RunStatements } from './influx-reads.ts';
import { InfluxStartupError, prepareInflux, type ServerFacts } from './influx-setup.ts';
import { InfluxWriter, routeClientLog, type WritePath } from './influx-writer.ts';
import { readAggregateFromRollups } from './influx-rollup-reads.ts';
import { readContinuousQueries, ROLLUP_NAMES, type RollupName } from './influx-rollup-setup.ts';

/**
 * How long the list of roll-ups (continuous queries) is trusted: `ioc store setup-retention` on a running platform is
 * seen within this.
 */
const ROLLUPS_TTL_MS = 60_000;

export type StoreLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** The adapter's own view of InfluxDB, for /api/health and /metrics. */
export interface InfluxStoreState {
  /** the server answered the last request (a refusal counts as an answer) */
  reachable: boolean;
  lastError: string | null;
  /** epoch ms of the last write the server accepted */
  lastWriteAt: number | null;
  url: string;
  writePath: WritePath;
  /** null until the server has been seen */
  readsAvailable: boolean | null;
  version: string | null;
  pointsWritten: number;
  /** points the server refused for good (field type conflict, beyond retention); logged when it happens */
  pointsRejected: number;
}

const UNREACHABLE = new Set(['unreachable', 'timeout']);

/**
 * The InfluxDB adapter of the store contract: line protocol writes (v1 `/write` or v2 `/api/v2/write`),
 * InfluxQL reads over `/query`. Open it with `openInfluxStore`.
 */
export class InfluxStore implements TimeSeriesStore {
  readonly name = 'influxdb';
  private readonly http: InfluxHttp;
  private readonly writer: InfluxWriter;
  private facts: ServerFacts | null = null;
  private preparing: Promise<ServerFacts> | null = null;
  private closed = false;
  private lastLogged: string | null = null;
  private readonly status: InfluxStoreState;
  private rollups: { names: RollupName[]; checkedAt: number } | null = null;

  constructor(
    private readonly config: InfluxConfig,
    private readonly logger: StoreLogger,
    private readonly now: () => number = Date.now,
  ) {
    this.http = new InfluxHttp(config);
    this.writer = new InfluxWriter(config);
    this.status = {
      reachable: false,
      lastError: null,
      lastWriteAt: null,
      url: this.http.url,
      writePath: this.writer.path,
      readsAvailable: null,
      version: null,
      pointsWritten: 0,
      pointsRejected: 0,
    };
  }

  state(): InfluxStoreState {
    return { ...this.status };
  }

  /** The start-up checks, once: until they pass (InfluxDB was down at start), every write runs them first. */
  prepare(): Promise<ServerFacts> {
    if (this.facts) return Promise.resolve(this.facts);
    this.preparing ??= prepareInflux(this.http, this.config, this.logger)
      .then((facts) => {
        this.facts = facts;
        Object.assign(this.status, { reachable: true, readsAvailable: facts.readsAvailable, version: facts.version });
        return facts;
      })
      .catch((err: unknown) => {
        this.noteFailure(err, false);
        throw err;
      })
      .finally(() => {
        this.preparing = null;
      });
    return this.preparing;
  }

  async write(points: readonly Point[]): Promise<void> {
    if (this.closed) throw new Error('the InfluxDB store is closed');
    if (points.length === 0) return;
    try {
      await this.prepare();
      const outcome = await this.writer.write(points);
      this.status.pointsWritten += outcome.written;
      if (outcome.rejected > 0) {
        this.status.pointsRejected += outcome.rejected;
        this.logger.error(
          { url: this.status.url, rejected: outcome.rejected, reason: outcome.rejectReason },
          'InfluxDB refused points for good (they cannot be written as they are); the others were stored',
        );
      }
      Object.assign(this.status, { reachable: true, lastError: null, lastWriteAt: Date.now() });
      this.lastLogged = null; // the next outage is logged again
    } catch (err) {
      this.noteFailure(err);
      throw err;
    }
  }

  queryRange(query: RangeQuery): Promise<Sample[]> {
    return this.read((run, rp) => readRange(run, query, rp));
  }

  aggregate(query: AggregateQuery): Promise<Sample[]> {
    return this.read(async (run, rp) => {
      const rollups = await this.availableRollups();
      return rollups.length > 0
        ? readAggregateFromRollups(run, query, rollups, this.now(), rp)
        : readAggregate(run, query, rp);
    });
  }

  /** The roll-ups `ioc store setup-retention` created (their continuous queries exist); none on 2.x/3.x. */
  private async availableRollups(): Promise<RollupName[]> {
    const now = this.now();
    if (this.rollups && now - this.rollups.checkedAt < ROLLUPS_TTL_MS) return this.rollups.names;
    try {
      const queries = await readContinuousQueries(this.http, this.config.database);
      const names = ROLLUP_NAMES.filter((name) => queries.has(name));
      this.rollups = { names, checkedAt: now };
      return names;
    } catch {
      // a server without continuous queries (2.x, 3.x, VictoriaMetrics) answers from raw readings; not
      // remembered, so a server that was only busy is asked again
      return [];
    }
  }

  latest(query: LatestQuery): Promise<LatestValue[]> {
    return this.read((run, rp) => readLatest(run, query, rp));
  }

  queryPoints(query: PointQuery): Promise<Point[]> {
    return this.read((run, rp) => readPoints(run, query, rp));
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private async read<T>(fn: (run: RunStatements, rp?: string) => Promise<T>): Promise<T> {
    try {
      const facts = await this.prepare();
      if (!facts.readsAvailable) {
        throw new DomainError(
          'unavailable',
          'store_reads_unavailable',
          `InfluxDB at ${this.status.url} takes writes but does not answer ` +
            'InfluxQL on /query, so readings cannot be read back from it',
        );
      }
      return await fn(this.run, this.config.retentionPolicy);
    } catch (err) {
      if (err instanceof DomainError || err instanceof RangeError) throw err;
      this.noteFailure(err);
      throw new DomainError('unavailable', 'store_unavailable', (err as Error).message);
    }
  }

  private readonly run: RunStatements = async (statements) => {
    const results = await this.http.query(statements);
    this.status.reachable = true;
    const failed = results.find((r) => r.error);
    if (failed)
      throw new InfluxRequestError(
        'rejected',
        `InfluxDB at ${this.status.url} could not answer a query: ${failed.error}`,
      );
    return results;
  };

  /** Records a failure; logs it unless it repeats the last one logged (the feeder retries a down server often). */
  noteFailure(err: unknown, log = true): void {
    const message = (err as Error).message ?? String(err);
    const unreachable = err instanceof InfluxRequestError && UNREACHABLE.has(err.failure);
    this.status.lastError = message;
    this.status.reachable = !unreachable;
    if (!log || message === this.lastLogged) return;
    this.lastLogged = message;
    if (unreachable) this.logger.warn({ url: this.status.url }, message);
    else this.logger.error({ url: this.status.url }, message);
  }
}

/**
 * Opens the store and runs the start-up checks. Wrong credentials, a missing database that may not be
 * created, and the like throw InfluxStartupError (a ConfigError: a message for the operator). A server
 * that is down, too slow or failing (5xx) is not fatal: the platform starts, the commit log holds the
 * readings, and the checks run again before the first write that reaches it.
 */
export async function openInfluxStore(config: InfluxConfig, logger: StoreLogger): Promise<InfluxStore> {
  routeClientLog(logger);
  const store = new InfluxStore(config, logger);
  try {
    const facts = await store.prepare();
    logger.info(
      { url: store.state().url, version: facts.version, writePath: store.state().writePath, database: config.database },
      'InfluxDB store ready',
    );
  } catch (err) {
    if (err instanceof InfluxStartupError) throw err;
    // down, slow or failing for now (5xx): start anyway, the checks run again before the first write
    if (err instanceof InfluxRequestError && (UNREACHABLE.has(err.failure) || err.failure === 'server')) {
      store.noteFailure(err, true);
      logger.warn(
        { url: config.url },
        'the platform starts anyway: acknowledged readings wait ' +
          'in the commit log and are written when InfluxDB answers',
      );
      return store;
    }
    throw new InfluxStartupError(`InfluxDB at ${config.url} could not be set up: ${(err as Error).message}`);
  }
  return store;
}
