import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../core/clock.ts';
import type { PlatformConfig } from '../config/platform-config.ts';
import { CommitLog } from './commit-log.ts';
import { markDataDirInUse } from './data-dir-lock.ts';
import { DurableWriter } from './durable-writer.ts';
import { type IntegrityReport, integrityReport, registerIntegrityMetrics } from './integrity-state.ts';
import { LatestValues } from './latest-values.ts';
import { type LifecycleJobs, startLifecycleJobs } from './lifecycle-jobs.ts';
import { LogDamageReporter } from './log-damage-report.ts';
import { Quarantine } from './log-quarantine.ts';
import { deferredStore, openStore } from './open-store.ts';
import { registerPipelineMetrics, registerStoreThreadMetrics } from './pipeline-metrics.ts';
import { createStorageWatch, type StorageHealth } from './storage-watch.ts';
import type { StoreAdapter } from './store-adapters.ts';
import { type FeederState, StoreFeeder } from './store-feeder.ts';
import type { TimeSeriesStore } from './time-series-store.ts';

export interface DurablePipelineOptions {
  /** `dataDir` exists already (platform.ts prepares it private: config/private-files.ts) */
  readonly config: Pick<PlatformConfig, 'dataDir' | 'store'>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: Registry;
  /** the adapters `store.engine` chooses from (default: store/store-adapters.ts) */
  readonly adapters?: readonly StoreAdapter[];
  /** the commit log's folder (default <dataDir>/log; a node's own one in cluster mode) */
  readonly logDir?: string;
}

/** What /api/health shows of the write path (the platform adds the broker, audit and uptime). */
export interface PipelineHealth {
  /** down: nothing can be acknowledged; degraded: low disk, store behind or failing, spool full, damage */
  readonly status: 'ok' | 'degraded' | 'down';
  readonly integrity: IntegrityReport;
  readonly store: {
    engine: string;
    /** deprecated name of engine, kept for existing monitors (docs/names.md) */
    kind: string;
    ready: boolean;
    lagBytes: number;
    spoolBytes: number;
    spoolMaxBytes: number;
    acknowledgementsHeld: boolean;
    lastError?: string;
    adapter?: Record<string, unknown>;
  };
  readonly storage: StorageHealth;
}

/**
 * The durable write path, in one place: the commit log (the point of acknowledgement and the outage
 * spool), the group-commit writer, the feeder that applies the log to the store adapter with checkpoints,
 * integrity (damage, quarantine) and disk state, and the adapter's lifecycle. Created before anything
 * else writes; `open()` waits for the adapter and replays the log into it; `close()` undoes it all in order
 * (no more writes, drain the feeder, close the adapter, then the log and the data-dir lock).
 *
 * Until `open()` the feeder does not exist: health and metrics report the store as not ready and the
 * whole log as lag, rather than reaching for a feeder that is not there yet.
 */
export class DurablePipeline {
  readonly log: CommitLog;
  /** what other modules write through: resolves once the points are fsynced in the log */
  readonly writer: DurableWriter;
  /** the adapter for reads, usable at once: calls wait while it opens */
  readonly store: TimeSeriesStore;
  /** the newest value per sensor and field, from what becomes durable (the API's latest values) */
  readonly latest: LatestValues;
  private readonly opening: Promise<TimeSeriesStore>;
  private readonly damage: LogDamageReporter;
  private readonly quarantine: Quarantine;
  private readonly logDir: string;
  private readonly disk: ReturnType<typeof createStorageWatch>;
  private readonly releaseDataDir: () => void;
  private openedFeeder: StoreFeeder | undefined;
  private jobs: LifecycleJobs | undefined;
  private releasing = false;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: DurablePipelineOptions) {
    const { config, clock, logger, registry } = options;
    // the adapter opens in its own thread (or reaches a server) while the platform wires the rest
    this.opening = openStore(config, logger, options.adapters);
    this.opening.catch(() => undefined);
    this.releaseDataDir = markDataDirInUse(config.dataDir); // ioc restore refuses a directory in use
    // in cluster mode each node keeps its own log (<dataDir>/log/<nodeId>, cluster/cluster-node.ts)
    const logDir = options.logDir ?? join(config.dataDir, 'log');
    this.logDir = logDir;
    // damaged or torn log bytes are copied to <dataDir>/log/quarantine, logged once, counted, shown in health
    this.quarantine = new Quarantine(join(config.dataDir, 'log', 'quarantine'), () => clock.now());
    this.damage = new LogDamageReporter({
      quarantine: this.quarantine,
      logger: logger.child({ module: 'commit-log' }),
      registry,
    });
    const { segmentBytes, maxBytes } = config.store.log;
    this.log = CommitLog.open({ dir: logDir, segmentBytes, damage: this.damage });
    // disk full / I/O errors: a state (no acks, health 503, one log line), and the low-disk watermark
    this.disk = createStorageWatch({
      dataDir: config.dataDir,
      logDir,
      segmentBytes,
      disk: config.store.disk,
      clock,
      logger,
      registry,
    });
    this.writer = new DurableWriter({
      log: this.log,
      maxBytes,
      clock,
      logger,
      storage: this.disk.storage,
      probe: this.disk.probe,
    });
    this.store = deferredStore(config.store.engine, this.opening);
    this.latest = new LatestValues(() => clock.now());
    this.writer.on('durable', (points) => this.latest.note(points));
    registerPipelineMetrics(registry, () => ({
      feeder: this.feederState(),
      logBytes: this.log.sizeBytes,
      held: this.writer.isFull,
      groups: this.writer.stats.groups,
    }));
    registerIntegrityMetrics(registry, () => this.feederState());
    registerStoreThreadMetrics(registry, () => this.store.threadHeaps?.() ?? Promise.resolve([]));
  }

  /** The feeder, once `open()` made it (tests and benches read its state). */
  get feeder(): StoreFeeder {
    if (!this.openedFeeder) throw new Error('the durable pipeline is not open yet');
    return this.openedFeeder;
  }

  /**
   * Waits for the adapter, then replays the log from the store's checkpoint (checked for damage first, so
   * it is reported at start), waits up to 5 s for the replay, starts roll-ups and retention, and seeds the
   * latest values. If the adapter cannot open, what the constructor took is released before rethrowing.
   */
  async open(): Promise<TimeSeriesStore> {
    const { config, clock, logger } = this.options;
    let store: TimeSeriesStore;
    try {
      store = await this.opening;
    } catch (err) {
      await this.close();
      throw err;
    }
    const feeder = this.createFeeder(store);
    this.openedFeeder = feeder;
    this.writer.on('durable', (points, end, records) => feeder.push(points, end, records));
    // the store replays while the scan runs (damage met by both is reported once)
    feeder.start();
    await this.log.verify(feeder.appliedOffset);
    if (this.log.head > feeder.appliedOffset) {
      logger.info({ bytes: this.log.head - feeder.appliedOffset }, 'replaying the commit log into the store');
    }
    await feeder.waitFor(this.log.head, 5000);
    // roll-ups and retention on their cron schedules, on the platform's clock (store/lifecycle-jobs.ts)
    const schedule = config.store.lifecycle.schedule;
    this.jobs = startLifecycleJobs({ store, clock, schedule, logger: logger.child({ module: 'store-lifecycle' }) });
    await store.latest({ since: this.latest.since() }).then(
      (v) => this.latest.seed(v),
      (err: Error) => logger.warn({ err: err.message }, 'could not read the latest values from the store'),
    );
    return store;
  }

  /**
   * A read sees what was accepted before it (alerts announce a reading while its commit is under way). A
   * failing store or a full spool will not catch up within a read: answer at once from what the store has
   * rather than make every request of an operator's console wait out the timeouts.
   */
  async readBarrier(): Promise<void> {
    if (this.writer.isFull || !this.openedFeeder?.state().healthy) return;
    await this.writer.settled(2000);
    await this.openedFeeder.waitFor(this.log.head, 2000);
  }

  health(): PipelineHealth {
    const s = this.feederState();
    const adapterState = this.store.state?.() ?? {};
    const integrity = integrityReport(this.damage, s);
    const disk = this.disk.status();
    const behind = !s.healthy || this.writer.isFull || integrity.state !== 'ok';
    return {
      status: disk === 'down' ? 'down' : disk === 'degraded' || behind ? 'degraded' : 'ok',
      integrity,
      store: {
        engine: this.store.name,
        kind: this.store.name,
        ready: s.healthy,
        lagBytes: s.lagBytes,
        spoolBytes: this.log.sizeBytes,
        spoolMaxBytes: this.options.config.store.log.maxBytes,
        acknowledgementsHeld: this.writer.isFull,
        ...(s.lastError ? { lastError: s.lastError } : {}),
        ...(Object.keys(adapterState).length ? { adapter: { ...adapterState } as Record<string, unknown> } : {}),
      },
      storage: this.disk.health(),
    };
  }

  /**
   * After everything that writes has stopped: no more log writes, the feeder gets up to 5 s to apply what
   * is left (the rest is replayed at next start), then the adapter, the log and the data-dir lock close.
   * Idempotent; also releases a pipeline whose adapter never opened.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    const { logger } = this.options;
    logger.debug('shutdown: commit log writer');
    await this.writer.close();
    this.jobs?.stop();
    this.disk.stop();
    if (this.openedFeeder) {
      logger.debug('shutdown: store feeder');
      const drained = await this.openedFeeder.drain(5000);
      logger.debug({ drained }, 'shutdown: store');
      if (!drained) logger.warn('the store is behind: the rest stays in the commit log and is replayed at next start');
    }
    // also an adapter that opened after all while start-up gave up: its worker threads would keep running
    await this.opening.then(
      (store) => store.close(),
      () => undefined,
    );
    await this.log.close();
    this.releaseDataDir();
  }

  private createFeeder(store: TimeSeriesStore): StoreFeeder {
    const { config, clock, logger } = this.options;
    const feeder: StoreFeeder = new StoreFeeder({
      name: store.name,
      log: this.log,
      store,
      checkpointFile: join(this.logDir, `${store.name}.checkpoint`),
      // both stores prefer fewer, larger writes (config/platform-config.ts says why for each)
      lingerMs:
        config.store.influxdb && config.store.engine === 'influxdb'
          ? config.store.influxdb.flushIntervalMs
          : config.store.embedded.flushIntervalMs,
      clock,
      logger,
      checkpointEveryRecords: config.store.log.checkpointEveryRecords,
      checkpointEveryMs: config.store.log.checkpointEverySeconds * 1000,
      quarantine: this.quarantine,
      onProgress: (applied: number) => this.releaseApplied(feeder, applied),
    });
    return feeder;
  }

  /** A segment is deleted only once the store made everything in it durable (a checkpoint). */
  private releaseApplied(feeder: StoreFeeder, applied: number): void {
    if (this.releasing || !this.log.canRelease(applied)) return;
    this.releasing = true;
    feeder
      .checkpoint()
      .then((durable) => {
        this.log.release(durable);
        this.writer.notifySpace();
      })
      .catch((err: Error) =>
        this.options.logger.warn({ err: err.message }, 'store sync failed; the commit log keeps the segment'),
      )
      .finally(() => {
        this.releasing = false;
      });
  }

  private feederState(): FeederState {
    if (this.openedFeeder) return this.openedFeeder.state();
    const name = this.store.name;
    return {
      name,
      applied: 0,
      lagBytes: this.log.head,
      healthy: false,
      written: 0,
      writes: 0,
      failures: 0,
      lastWriteMs: 0,
      quarantinedRecords: 0,
    };
  }
}
