import type { CommitLog, LogRecord } from './commit-log.ts';

type Range = { records: LogRecord[]; next: number };

/**
 * Reads the commit log one range ahead of its consumer: while the store writes one batch, the next is
 * read and checked (CRC) on this thread, so a replay keeps the store's worker busy instead of taking
 * turns with it. A read-ahead for an offset the consumer does not ask for (it retried a batch, or
 * skipped damage) is dropped; reading again reports the same damage once (log-damage-report dedups).
 */
export class LogReadAhead {
  private ahead: { from: number; range: Promise<Range | undefined> } | undefined;

  constructor(
    private readonly log: Pick<CommitLog, 'readRange' | 'head'>,
    private readonly maxBytes: number,
  ) {}

  /**
   * The records from `offset`; with `ahead`, starts reading the range after them (for a consumer that
   * takes whole ranges: one that stops part-way would ask for another offset).
   */
  async read(offset: number, ahead: boolean): Promise<Range> {
    const pending = this.ahead;
    this.ahead = undefined;
    const early = pending?.from === offset ? await pending.range : undefined;
    const range = early ?? (await this.log.readRange(offset, this.maxBytes));
    const after = range.records.length ? range.records[range.records.length - 1]!.next : range.next;
    if (ahead && after > offset && after < this.log.head) {
      // a failed read-ahead is not an error: the consumer reads that range itself and meets it there
      this.ahead = { from: after, range: this.log.readRange(after, this.maxBytes).catch(() => undefined) };
    }
    return range;
  }

  /** Forgets a read in flight (the consumer goes back to live records). */
  clear(): void {
    this.ahead = undefined;
  }
}
