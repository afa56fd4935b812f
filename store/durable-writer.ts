import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import type { CommitLog } from './commit-log.ts';
import { encodeRecord } from './log-record.ts';
import { ProgressWaiters } from './progress-waiters.ts';
import { storageFaultCode, type StorageState } from './storage-state.ts';
import type { Point } from './time-series-store.ts';

/**
 * Group commit in front of the commit log. `write(points)` resolves once the points are durable. Writes
 * that arrive while the log is busy are committed together as soon as it is free (never on a fixed timer),
 * so each connection's throughput is not capped at one group per tick.
 *
 * Bounded: when the log (the spool) holds maxBytes because a store is behind or down, writes wait
 * instead of being dropped, which holds PUBACKs and so slows devices down.
 */
interface Pending {
  readonly points: readonly Point[];
  /** the commit-log record, as text: the log writes it into the group's buffer */
  readonly payload: string;
  resolve(): void;
  reject(err: Error): void;
}

export interface DurableWriterEvents {
  durable: [points: readonly Point[], end: number, records: readonly Buffer[]];
}

export interface DurableWriterOptions {
  log: CommitLog;
  maxBytes: number;
  clock: Clock;
  logger: Logger;
  /** the log's writability (disk full, I/O errors): refused writes and one log line per change */
  storage?: StorageState;
  /** checks that the disk takes writes again (store/storage-probe.ts); rejects while it does not */
  probe?: () => Promise<void>;
}

/** first and longest wait between probes while the disk cannot take writes */
const PROBE_FIRST_MS = 1000;
const PROBE_MAX_MS = 30_000;

export class DurableWriter extends EventEmitter<DurableWriterEvents> {
  private pending: Pending[] = [];
  private pendingBytes = 0;
  private flushing = false;
  private closed = false;
  private fullSince: number | undefined;
  private spaceWaiter: (() => void) | undefined;
  /** write() calls so far, and how many of them have finished (durable or failed), in order */
  private enqueued = 0;
  private finished = 0;
  private readonly settleWaiters: ProgressWaiters;
  private probeTimer: { cancel(): void } | undefined;
  readonly stats = { groups: 0, records: 0, points: 0, lastGroupMs: 0, totalGroupMs: 0, fullWaits: 0 };

  constructor(private readonly options: DurableWriterOptions) {
    super();
    this.settleWaiters = new ProgressWaiters(options.clock);
  }

  write(points: readonly Point[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the commit log is closed'));
    if (points.length === 0) return Promise.resolve();
    // refused at once while the disk cannot take writes: nothing waits in memory for it to come back
    const storage = this.options.storage;
    if (storage?.unavailableReason !== undefined) return Promise.reject(storage.refuse());
    const payload = encodeRecord(points);
    this.enqueued++;
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ points, payload, resolve, reject });
      this.pendingBytes += Buffer.byteLength(payload) + 8;
      if (!this.flushing) void this.flush();
    });
  }

  /** While the disk cannot take writes: the error a writer is refused with (and counted), else undefined. */
  refusal(): Error | undefined {
    const storage = this.options.storage;
    return storage?.unavailableReason !== undefined ? storage.refuse() : undefined;
  }

  /** True while writes are held because the log is full. */
  get isFull(): boolean {
    return this.fullSince !== undefined;
  }

  get queuedWrites(): number {
    return this.pending.length;
  }

  /**
   * Resolves true once every write made before this call has finished (is durable, or failed), false
   * after `timeoutMs`: a read that must see what was just accepted waits for this, then for the store.
   */
  settled(timeoutMs: number): Promise<boolean> {
    return this.settleWaiters.wait(this.finished, this.enqueued, timeoutMs);
  }

  /** Called when consumers released log space: a held group may go now. */
  notifySpace(): void {
    const waiter = this.spaceWaiter;
    this.spaceWaiter = undefined;
    waiter?.();
  }

  /** Waits for queued writes to become durable; later writes are refused. */
  async close(): Promise<void> {
    this.closed = true;
    this.probeTimer?.cancel();
    this.options.logger.debug(
      { flushing: this.flushing, pending: this.pending.length, full: this.isFull },
      'closing the commit log writer',
    );
    while (this.flushing || this.pending.length > 0) {
      await new Promise((r) => setImmediate(r));
      if (!this.flushing && this.pending.length > 0) void this.flush();
    }
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        if (this.options.log.sizeBytes + this.pendingBytes > this.options.maxBytes && this.options.log.sizeBytes > 0) {
          await this.waitForSpace();
          continue;
        }
        this.fullSince = undefined;
        const group = this.pending;
        this.pending = [];
        this.pendingBytes = 0;
        const started = this.options.clock.now();
        try {
          const { end, records } = await this.options.log.append(group.map((p) => p.payload));
          this.stats.groups++;
          this.stats.records += group.length;
          this.stats.lastGroupMs = this.options.clock.now() - started;
          this.stats.totalGroupMs += this.stats.lastGroupMs;
          const all: Point[] = [];
          for (const p of group) for (const point of p.points) all.push(point);
          this.stats.points += all.length;
          this.emit('durable', all, end, records);
          for (const p of group) p.resolve();
        } catch (err) {
          const storage = this.options.storage;
          const code = storageFaultCode(err);
          if (storage && code) {
            // a state, not an error per group: logged once by StorageState; what waited is refused too
            storage.fail(err, code);
            const refused = group.concat(this.pending);
            this.pending = [];
            this.pendingBytes = 0;
            for (const p of refused) p.reject(storage.refuse());
            this.finished += refused.length - group.length;
            this.scheduleProbe(PROBE_FIRST_MS);
          } else {
            this.options.logger.error({ err }, 'commit log append failed; the publishes are not acknowledged');
            for (const p of group) p.reject(err as Error);
          }
        }
        this.finished += group.length;
        this.settleWaiters.reached(this.finished);
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Retries on a backoff from the injected clock until the probe passes, then accepts writes again. */
  private scheduleProbe(delayMs: number): void {
    if (this.closed || this.probeTimer) return;
    this.probeTimer = this.options.clock.setTimeout(() => {
      this.probeTimer = undefined;
      const probe = this.options.probe ?? (() => Promise.resolve());
      probe().then(
        () => this.options.storage?.recover(),
        () => this.scheduleProbe(Math.min(delayMs * 2, PROBE_MAX_MS)),
      );
    }, delayMs);
  }

  private waitForSpace(): Promise<void> {
    if (this.fullSince === undefined) {
      this.fullSince = this.options.clock.now();
      this.stats.fullWaits++;
      this.options.logger.warn(
        { logBytes: this.options.log.sizeBytes, maxBytes: this.options.maxBytes },
        'commit log (spool) is full: holding acknowledgements until the store catches up',
      );
    }
    return new Promise<void>((resolve) => {
      // re-check periodically too, in case space was freed without a notification
      const timer = this.options.clock.setTimeout(() => this.notifySpace(), 500);
      this.spaceWaiter = () => {
        timer.cancel();
        resolve();
      };
    });
  }
}
