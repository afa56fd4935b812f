import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import type { CommitLog } from './commit-log.ts';
import type { Quarantine } from './log-quarantine.ts';
import { decodeRecord } from './log-record.ts';
import { probeRecords } from './poison-batch.ts';
import { LogReadAhead } from './log-read-ahead.ts';
import { ProgressWaiters } from './progress-waiters.ts';
import type { Point, TimeSeriesStore } from './time-series-store.ts';

/**
 * Feeds one store from the commit log, in order, and remembers how far it got (a checkpoint file).
 * Live groups are handed over in memory; after a restart, an outage or when the in-memory queue grows
 * past its bound, it reads from the log on disk instead and goes back to memory once caught up.
 * A failed write is retried with backoff and never skipped: points written twice land once.
 */
export interface StoreFeederOptions {
  name: string;
  log: CommitLog;
  store: TimeSeriesStore;
  checkpointFile: string;
  clock: Clock;
  logger: Logger;
  batchPoints?: number;
  /**
   * With fewer than batchPoints waiting, wait up to this long after the oldest arrived for more before
   * writing (InfluxDB's flush interval: fewer, larger requests when readings trickle in). A read waiting
   * for the store (waitFor) and stop cut it short. 0 writes at once.
   */
  lingerMs?: number;
  maxQueuedPoints?: number;
  onProgress?: (applied: number) => void;
  /**
   * Checkpoint (sync the store, save the offset) after this many log records or this long since the
   * last one, whichever comes first, so a restart replays a bounded tail (store.log in the config).
   */
  checkpointEveryRecords?: number;
  checkpointEveryMs?: number;
  /** Where a batch the store refuses for good is set aside (poison-batch.ts); without it, retried for ever. */
  quarantine?: Pick<Quarantine, 'writeBatch'>;
  /** Failures in a row on the same batch before its records are tried one by one (default 3). */
  poisonAfterFailures?: number;
}

export interface FeederState {
  name: string;
  applied: number;
  lagBytes: number;
  healthy: boolean;
  lastError?: string;
  lastErrorAt?: number;
  written: number;
  /** store writes that succeeded (written / writes: points per write, what batching achieved) */
  writes: number;
  failures: number;
  lastWriteMs: number;
  /** log records set aside because the store refused them for good */
  quarantinedRecords: number;
  lastQuarantine?: string;
}

/** Log bytes per batch read from disk (a replay, an outage's spool). */
const READ_BYTES = 4 * 1024 * 1024;

interface Queued {
  /** empty for a store that takes the log's bytes (writeEncoded): it never needs the objects */
  points: readonly Point[];
  count: number;
  records: KeptRecords;
  end: number;
  at: number;
}

/**
 * A group's records while they wait for the store: the bytes they lie in and where each one starts and ends. A
 * buffer view per record, kept for up to the flush interval (1 s), outlived the young generation and was copied and
 * promoted by the GC; the views are made when a batch is taken, just before the store gets them. The commit log's
 * records are views of its group's buffer, which is kept as it is: a copy would be one more buffer per group
 * outside the heap, and those are counted towards V8's full collections.
 */
export interface KeptRecords {
  readonly bytes: Buffer;
  /** start and end of record i in `bytes`, at 2i and 2i + 1 */
  readonly spans: Uint32Array;
}

export function keepRecords(records: readonly Buffer[]): KeptRecords {
  const spans = new Uint32Array(records.length * 2);
  const shared = records[0]?.buffer;
  if (shared !== undefined && records.every((r) => r.buffer === shared)) {
    let from = Number.POSITIVE_INFINITY;
    let to = 0;
    for (const r of records) {
      from = Math.min(from, r.byteOffset);
      to = Math.max(to, r.byteOffset + r.length);
    }
    records.forEach((r, i) => {
      spans[2 * i] = r.byteOffset - from;
      spans[2 * i + 1] = r.byteOffset - from + r.length;
    });
    return { bytes: Buffer.from(shared, from, to - from), spans };
  }
  // records of different buffers (not the log's own): one copy of their bytes
  let total = 0;
  for (const r of records) total += r.length;
  const bytes = Buffer.allocUnsafe(total);
  let at = 0;
  records.forEach((r, i) => {
    spans[2 * i] = at;
    at += r.copy(bytes, at);
    spans[2 * i + 1] = at;
  });
  return { bytes, spans };
}

export function pushViews(kept: KeptRecords, into: Buffer[]): void {
  for (let i = 0; i < kept.spans.length; i += 2) into.push(kept.bytes.subarray(kept.spans[i], kept.spans[i + 1]));
}

const NO_POINTS: readonly Point[] = Object.freeze([]);
interface Batch {
  points: Point[];
  records: Buffer[];
  count: number;
  end: number;
  fromQueue: number;
}

export class StoreFeeder {
  private applied: number;
  private queue: Queued[] = [];
  private queuedPoints = 0;
  private fromDisk = true;
  private running = false;
  private wake: (() => void) | undefined;
  private readonly waiters: ProgressWaiters;
  private readonly readAhead: LogReadAhead;
  private loopDone: Promise<void> = Promise.resolve();
  private lastError: string | undefined;
  private lastErrorAt: number | undefined;
  private written = 0;
  private writes = 0;
  private failures = 0;
  private lastWriteMs = 0;
  private lingering = false;
  private quarantinedRecords = 0;
  private lastQuarantine: string | undefined;
  private recordsSinceCheckpoint = 0;
  private lastCheckpointAt: number;
  private checkpointing: Promise<number> | undefined;
  private sameBatchFailures = 0;

  constructor(private readonly options: StoreFeederOptions) {
    // A checkpoint past the log's real end (damage, a crash at the wrong moment) cannot be trusted: it must
    // not wedge the store, nor skip what was never applied. Replay from the oldest record kept: replays are
    // harmless (a point written twice lands once).
    const saved = readCheckpoint(options.checkpointFile);
    if (saved > options.log.head) {
      options.logger.warn(
        { checkpoint: saved, head: options.log.head },
        'store checkpoint points past the commit log: replaying the whole log',
      );
    }
    this.applied = options.log.clamp(saved > options.log.head ? 0 : saved);
    this.waiters = new ProgressWaiters(options.clock);
    this.readAhead = new LogReadAhead(options.log, READ_BYTES);
    this.lastCheckpointAt = options.clock.now();
  }

  get appliedOffset(): number {
    return this.applied;
  }

  start(): void {
    this.running = true;
    this.loopDone = this.loop();
  }

  /** Hands over a group that just became durable in the log, ending at `end`. */
  push(points: readonly Point[], end: number, records: readonly Buffer[]): void {
    if (this.fromDisk) return; // the disk reader will reach it
    // A store fed the log's bytes gets none of these objects: kept for up to the flush interval (1 s), a point
    // and its fields per reading outlived the young generation and were copied and promoted by the GC.
    const keep = this.options.store.writeEncoded === undefined || records.length === 0 ? points : NO_POINTS;
    const kept = keepRecords(records);
    this.queue.push({ points: keep, count: points.length, records: kept, end, at: this.options.clock.now() });
    this.queuedPoints += points.length;
    if (this.queuedPoints > (this.options.maxQueuedPoints ?? 200_000)) {
      // too far behind to keep in memory: drop the copies and read them back from the log
      this.queue = [];
      this.queuedPoints = 0;
      this.fromDisk = true;
    }
    this.signal();
  }

  /** Resolves once everything up to `offset` is in the store, or after `timeoutMs`. */
  waitFor(offset: number, timeoutMs: number): Promise<boolean> {
    if (this.applied >= offset) return Promise.resolve(true);
    const reached = this.waiters.wait(this.applied, offset, timeoutMs);
    this.signal(); // a reader is waiting: no lingering for more
    return reached;
  }

  state(): FeederState {
    return {
      name: this.options.name,
      applied: this.applied,
      lagBytes: this.options.log.head - this.applied,
      healthy: this.lastErrorAt === undefined,
      lastError: this.lastError,
      lastErrorAt: this.lastErrorAt,
      written: this.written,
      writes: this.writes,
      failures: this.failures,
      lastWriteMs: this.lastWriteMs,
      quarantinedRecords: this.quarantinedRecords,
      ...(this.lastQuarantine ? { lastQuarantine: this.lastQuarantine } : {}),
    };
  }

  /** Makes what the store applied durable and records it; returns the offset now safe to release. */
  async checkpoint(): Promise<number> {
    // one at a time: a regular checkpoint and a segment release may ask together
    while (this.checkpointing) await this.checkpointing.catch(() => undefined);
    const run = (async () => {
      const applied = this.applied;
      this.recordsSinceCheckpoint = 0;
      this.lastCheckpointAt = this.options.clock.now();
      await this.options.store.sync?.();
      await this.saveCheckpoint(applied);
      return applied;
    })();
    this.checkpointing = run;
    try {
      return await run;
    } finally {
      if (this.checkpointing === run) this.checkpointing = undefined;
    }
  }

  /** Finishes the batch in hand and stops; what is not yet applied stays in the log for next time. */
  async stop(): Promise<void> {
    this.running = false;
    this.signal();
    await this.loopDone;
    await this.checkpoint().catch((err: Error) =>
      this.options.logger.warn({ err: err.message }, 'could not checkpoint the store at stop'),
    );
  }

  /** Applies everything in the log, then stops (a clean shutdown with the store still up). */
  async drain(timeoutMs: number): Promise<boolean> {
    const ok = await this.waitFor(this.options.log.head, timeoutMs);
    await this.stop();
    return ok;
  }

  private async loop(): Promise<void> {
    let backoff = 100;
    while (this.running) {
      this.signalled = false; // a push or stop from here on wakes the wait below
      const linger = this.lingerLeft();
      if (linger > 0) {
        this.lingering = true;
        await this.sleep(linger);
        this.lingering = false;
        continue;
      }
      const batch = await this.nextBatch();
      if (!batch) {
        await this.sleep(undefined);
        continue;
      }
      const started = this.options.clock.now();
      try {
        const store = this.options.store;
        // an adapter that decodes in its own thread gets the log's bytes, not objects to clone
        let count = batch.count;
        if (store.writeEncoded && batch.records.length) count = await store.writeEncoded(batch.records);
        else await store.write(batch.points);
        this.lastWriteMs = this.options.clock.now() - started;
        this.written += count;
        this.writes++;
        if (this.lastErrorAt !== undefined)
          this.options.logger.info({ store: this.options.name }, 'store is back: replaying the spool');
        this.lastError = undefined;
        this.lastErrorAt = undefined;
        backoff = 100;
        this.sameBatchFailures = 0;
        this.advance(batch.end, batch.fromQueue, batch.records.length);
      } catch (err) {
        this.failures++;
        // the same batch again and again: maybe one record the store will never take (not an outage)
        if (
          ++this.sameBatchFailures >= (this.options.poisonAfterFailures ?? 3) &&
          (await this.setAsideRefused(batch))
        ) {
          backoff = 100;
          continue;
        }
        const message = (err as Error).message;
        if (this.lastError !== message) {
          this.options.logger.warn(
            { store: this.options.name, err: message },
            'store write failed; readings stay in the commit log and are retried',
          );
        }
        this.lastError = message;
        this.lastErrorAt ??= this.options.clock.now();
        this.backingOff = true;
        await this.sleep(backoff);
        this.backingOff = false;
        backoff = Math.min(backoff * 2, 10_000);
      }
    }
  }

  private signalled = false;
  private backingOff = false;

  /**
   * Wakes the loop; remembered if the loop is not waiting yet, so no wake-up is lost. New data does not
   * cut a retry backoff short (a down store would be retried at the rate readings arrive); stop does.
   */
  private signal(): void {
    this.signalled = true;
    if (this.backingOff && this.running) return;
    if (this.lingering && this.running && this.lingerLeft() > 0) return;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Waits for a signal (new data, stop) or, with `ms`, at most that long. */
  private sleep(ms: number | undefined): Promise<void> {
    if (!this.running || (this.signalled && ms === undefined)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer =
        ms === undefined
          ? undefined
          : this.options.clock.setTimeout(() => {
              this.wake = undefined;
              resolve();
            }, ms);
      this.wake = () => {
        timer?.cancel();
        resolve();
      };
    });
  }

  /**
   * How long to wait yet for a fuller batch: 0 once enough is queued, the oldest waited long enough, or someone waits.
   */
  private lingerLeft(): number {
    const linger = this.options.lingerMs ?? 0;
    if (linger <= 0 || this.fromDisk || this.queue.length === 0 || this.waiters.size > 0 || !this.running) return 0;
    if (this.queuedPoints >= (this.options.batchPoints ?? 20_000)) return 0;
    return Math.max(0, this.queue[0]!.at + linger - this.options.clock.now());
  }

  private async nextBatch(): Promise<Batch | undefined> {
    const limit = this.options.batchPoints ?? 20_000;
    const encoded = this.options.store.writeEncoded !== undefined;
    if (this.fromDisk) {
      if (this.applied >= this.options.log.head) {
        this.fromDisk = false;
        this.readAhead.clear();
        return undefined;
      }
      const { records: read, next } = await this.readAhead.read(this.applied, encoded);
      const points: Point[] = [];
      const records: Buffer[] = [];
      // nothing intact between here and `next` (damage, already reported): move past it
      let end = read.length ? this.applied : next;
      for (const record of read) {
        if (!encoded) {
          if (points.length >= limit) break;
          const decoded = this.decode(record.payload, record.offset);
          if (decoded) for (const p of decoded) points.push(p);
        }
        records.push(record.payload);
        end = record.next;
      }
      if (end > this.applied && records.length === 0) {
        this.advance(end, 0, 0);
        return this.nextBatch();
      }
      return end > this.applied ? { points, records, count: points.length, end, fromQueue: 0 } : undefined;
    }
    if (this.queue.length === 0) return undefined;
    const points: Point[] = [];
    const records: Buffer[] = [];
    let count = 0;
    let end = this.applied;
    let taken = 0;
    for (const entry of this.queue) {
      if (count >= limit && taken > 0) break;
      pushViews(entry.records, records);
      if (!encoded) for (const p of entry.points) points.push(p);
      count += entry.count;
      end = entry.end;
      taken++;
    }
    return { points, records, count, end, fromQueue: taken };
  }

  private advance(end: number, fromQueue: number, records: number): void {
    if (fromQueue > 0) {
      const done = this.queue.splice(0, fromQueue);
      for (const d of done) this.queuedPoints -= d.count;
    }
    this.applied = end;
    // a store whose writes are durable on return (InfluxDB) is checkpointed at once; one that needs a
    // sync (SQLite) only in checkpoint(), after the sync, so a crash never skips what it had not synced
    if (!this.options.store.sync) void this.saveCheckpoint(end);
    else this.checkpointWhenDue(records);
    this.options.onProgress?.(end);
    this.waiters.reached(end);
  }

  /** A regular checkpoint, by records or by time, so a restart replays a bounded tail. */
  private checkpointWhenDue(records: number): void {
    this.recordsSinceCheckpoint += records;
    const byRecords = this.recordsSinceCheckpoint >= (this.options.checkpointEveryRecords ?? Infinity);
    const byTime = this.options.clock.now() - this.lastCheckpointAt >= (this.options.checkpointEveryMs ?? Infinity);
    if ((!byRecords && !byTime) || this.checkpointing) return;
    this.checkpoint().catch((err: Error) =>
      this.options.logger.warn(
        { err: err.message },
        'regular store checkpoint failed; the log keeps everything after the last one',
      ),
    );
  }

  /** A record whose checksum is good but whose content does not decode: set aside, never retried. */
  private decode(payload: Buffer, offset: number): Point[] | undefined {
    try {
      return decodeRecord(payload.toString('utf8'));
    } catch (err) {
      if (!this.decodeRefused.has(offset)) {
        this.decodeRefused.add(offset);
        this.quarantineRecords(offset, [payload], `record does not decode: ${(err as Error).message}`);
      }
      return undefined;
    }
  }
  private readonly decodeRefused = new Set<number>();

  /** Tries the failing batch record by record; sets aside what the store refuses for good. */
  private async setAsideRefused(batch: Batch): Promise<boolean> {
    if (!this.options.quarantine || batch.records.length === 0) return false;
    const store = this.options.store;
    const probe = await probeRecords(batch.records.length, (i) => {
      const record = batch.records[i]!;
      return store.writeEncoded ? store.writeEncoded([record]) : store.write(decodeRecord(record.toString('utf8')));
    });
    if (probe.refused.length === 0) return false; // every write fails alike: an outage, keep waiting
    this.quarantineRecords(
      this.applied,
      probe.refused.map((i) => batch.records[i]!),
      probe.lastError ?? 'refused by the store',
    );
    this.written += probe.accepted;
    this.lastError = undefined;
    this.lastErrorAt = undefined;
    this.sameBatchFailures = 0;
    this.advance(batch.end, batch.fromQueue, batch.records.length);
    return true;
  }

  private quarantineRecords(offset: number, records: readonly Buffer[], reason: string): void {
    const entry = this.options.quarantine?.writeBatch(
      offset,
      records.map((r) => r.toString('utf8')),
      reason,
    );
    this.quarantinedRecords += records.length;
    this.lastQuarantine =
      `${records.length} record(s) at log offset ${offset} refused by the store ` + `and set aside: ${reason}`;
    this.options.logger.error(
      { store: this.options.name, offset, records: records.length, reason, quarantine: entry?.file },
      'store refused records for good: set aside in quarantine instead of retrying',
    );
  }

  private checkpointWrite: Promise<void> = Promise.resolve();
  private saveCheckpoint(offset: number): Promise<void> {
    // Serialised; a lost or stale checkpoint only means a harmless replay of points already stored.
    this.checkpointWrite = this.checkpointWrite
      .then(async () => {
        const tmp = `${this.options.checkpointFile}.tmp`;
        await writeFile(tmp, String(offset));
        await rename(tmp, this.options.checkpointFile);
      })
      .catch((err: Error) => this.options.logger.warn({ err: err.message }, 'could not save the store checkpoint'));
    return this.checkpointWrite;
  }
}

function readCheckpoint(file: string): number {
  try {
    const value = Number(readFileSync(file, 'utf8').trim());
    return Number.isSafeInteger(value) && value >= 0 ? value : 0;
  } catch {
    return 0;
  }
}
