import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { LogDamageRange, LogDamageSink } from './commit-log.ts';
import type { Quarantine } from './log-quarantine.ts';

/**
 * Makes commit-log damage loud: each damaged or torn range is copied to the quarantine folder, logged once
 * (one line per range, however often readers meet it again: a store retry re-reads the same bytes),
 * counted in /metrics, and kept for /api/health.
 *
 * A torn tail (a group cut by a crash mid-write: never acknowledged) is expected after a power cut, so it
 * is counted and logged as a warning but does not degrade health; damage inside the log may have taken
 * acknowledged readings with it, so it degrades health until the next start (where a scan from the
 * checkpoint finds it again if the store has not yet moved past it).
 */
export interface LogDamageState {
  readonly damagedRegions: number;
  readonly damagedBytes: number;
  readonly tornTails: number;
  readonly lastReason?: string;
  readonly quarantineDir: string;
}

export interface LogDamageReporterOptions {
  quarantine: Quarantine;
  logger: Logger;
  registry?: Registry;
}

const REASONS: Record<LogDamageRange['cause'], string> = {
  torn: 'torn final record (crash mid-write, never acknowledged): cut off',
  damaged: 'checksum or framing mismatch: skipped to the next intact record',
  missing: 'segment file shorter than its records: the bytes are gone',
};

export class LogDamageReporter implements LogDamageSink {
  private readonly seen = new Set<string>();
  private damagedRegions = 0;
  private damagedBytes = 0;
  private tornTails = 0;
  private lastReason: string | undefined;
  private readonly damagedCounter: Counter | undefined;
  private readonly tornCounter: Counter | undefined;

  constructor(private readonly options: LogDamageReporterOptions) {
    const registers = options.registry ? [options.registry] : [];
    if (options.registry) {
      this.damagedCounter = new Counter({
        name: 'ioc_log_damaged_records_total',
        help: 'Damaged commit-log regions found (each a run of bytes failing its checksum, skipped and quarantined)',
        registers,
      });
      this.tornCounter = new Counter({
        name: 'ioc_log_torn_tails_total',
        help: 'Torn final records cut off at start (a crash mid-write: never acknowledged)',
        registers,
      });
    }
  }

  report(range: LogDamageRange): void {
    const key = `${range.segment}:${range.fileOffset}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const length = range.end - range.offset;
    const reason = REASONS[range.cause];
    let file: string | undefined;
    try {
      file = this.options.quarantine.copyRange(
        range.cause === 'torn' ? 'log-torn' : 'log-damaged',
        range.segment,
        range.fileOffset,
        length,
        reason,
      ).file;
    } catch (err) {
      // a full disk must not turn damage into a crash: the log line below still says where it was
      this.options.logger.warn(
        { err: (err as Error).message },
        'could not copy a damaged commit-log range to quarantine',
      );
    }
    const fields = {
      segment: range.segment,
      fileOffset: range.fileOffset,
      offset: range.offset,
      bytes: length,
      quarantine: file,
    };
    if (range.cause === 'torn') {
      this.tornTails++;
      this.tornCounter?.inc();
      this.options.logger.warn(fields, `commit log: ${reason}`);
      return;
    }
    this.damagedRegions++;
    this.damagedBytes += length;
    this.damagedCounter?.inc();
    this.lastReason = `commit log damaged: ${length} bytes at offset ${range.offset} of ${range.segment} (${reason})`;
    this.options.logger.error(fields, `commit log damaged: ${reason}`);
  }

  get degraded(): boolean {
    return this.damagedRegions > 0;
  }

  state(): LogDamageState {
    return {
      damagedRegions: this.damagedRegions,
      damagedBytes: this.damagedBytes,
      tornTails: this.tornTails,
      ...(this.lastReason ? { lastReason: this.lastReason } : {}),
      quarantineDir: this.options.quarantine.dir,
    };
  }
}
