import { appendFileSync, closeSync, mkdirSync, openSync, readSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/**
 * The quarantine folder (<dataDir>/log/quarantine): bytes the platform could not use, kept for a person
 * to look at instead of being silently dropped. Damaged or torn commit-log ranges are copied as
 * `<segment>-<offset>.bin`; store batches refused for good are written as NDJSON lines. Every entry is also
 * a line in `index.ndjson` (what, where, why), so an operator reads one file to see everything set aside.
 *
 * Synchronous on purpose: a torn tail is reported at open, just before its bytes are zeroed, so the copy
 * must be on disk first. It is rare, and bounded (MAX_COPY_BYTES per range), so a damaged 16 MB segment
 * cannot fill the disk with copies.
 */
export const MAX_COPY_BYTES = 16 * 1024 * 1024;

export interface QuarantineEntry {
  readonly kind: 'log-damaged' | 'log-torn' | 'store-batch';
  readonly file: string;
  readonly reason: string;
  readonly segment?: string;
  readonly offset?: number;
  readonly length?: number;
  readonly records?: number;
  readonly at: string;
}

export class Quarantine {
  constructor(
    readonly dir: string,
    private readonly now: () => number,
  ) {}

  /** Copies `length` bytes at `fileOffset` of `segmentPath`; returns the index entry written. */
  copyRange(
    kind: 'log-damaged' | 'log-torn',
    segmentPath: string,
    fileOffset: number,
    length: number,
    reason: string,
  ): QuarantineEntry {
    this.ensureDir();
    const segment = basename(segmentPath, '.log');
    const file = `${segment}-${fileOffset}.bin`;
    const copy = Math.min(length, MAX_COPY_BYTES);
    const bytes = Buffer.alloc(copy);
    let got = 0;
    try {
      const fd = openSync(segmentPath, 'r');
      try {
        got = readSync(fd, bytes, 0, copy, fileOffset);
      } finally {
        closeSync(fd);
      }
    } catch {
      // the segment went away (released): the index line still says what was lost
    }
    writeFileSync(join(this.dir, file), bytes.subarray(0, got), { mode: 0o600 });
    return this.index({
      kind,
      file,
      reason,
      segment,
      offset: fileOffset,
      length,
      at: new Date(this.now()).toISOString(),
    });
  }

  /** Appends a refused store batch (one JSON value per line) to `store-<offset>.ndjson`. */
  writeBatch(offset: number, lines: readonly string[], reason: string): QuarantineEntry {
    this.ensureDir();
    const file = `store-${offset}.ndjson`;
    writeFileSync(join(this.dir, file), lines.map((l) => `${l}\n`).join(''), { mode: 0o600 });
    return this.index({
      kind: 'store-batch',
      file,
      reason,
      offset,
      records: lines.length,
      at: new Date(this.now()).toISOString(),
    });
  }

  private index(entry: QuarantineEntry): QuarantineEntry {
    appendFileSync(join(this.dir, 'index.ndjson'), `${JSON.stringify(entry)}\n`, { mode: 0o600 });
    return entry;
  }

  private ensureDir(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }
}
