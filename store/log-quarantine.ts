import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  writeFileSync,
} from 'node:fs';
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

/** why bytes were set aside: a damaged or torn commit-log range, or a store batch refused for good */
export type QuarantineCause = 'log-damaged' | 'log-torn' | 'store-batch';
const CAUSES: ReadonlySet<string> = new Set<QuarantineCause>(['log-damaged', 'log-torn', 'store-batch']);

export interface QuarantineEntry {
  readonly cause: QuarantineCause;
  readonly file: string;
  readonly reason: string;
  readonly segment?: string;
  readonly offset?: number;
  readonly length?: number;
  readonly records?: number;
  readonly at: string;
}

/**
 * The entries of `<dir>/index.ndjson`, oldest first. Lines written before the field was renamed name the
 * cause `kind` (docs/names.md) and are read the same. A line that is not an entry (cut by a crash in the
 * middle of an append, or edited by hand) is skipped: the index is a list for people, never a reason to stop.
 */
export function readQuarantineIndex(dir: string): QuarantineEntry[] {
  const file = join(dir, 'index.ndjson');
  if (!existsSync(file)) return [];
  const entries: QuarantineEntry[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const entry = parseEntry(line);
    if (entry) entries.push(entry);
  }
  return entries;
}

function parseEntry(line: string): QuarantineEntry | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { kind, cause = kind, ...rest } = value as Record<string, unknown>;
  const { file, reason, at } = rest;
  if (typeof cause !== 'string' || !CAUSES.has(cause)) return undefined;
  if (typeof file !== 'string' || typeof reason !== 'string' || typeof at !== 'string') return undefined;
  return { ...rest, cause: cause as QuarantineCause, file, reason, at } as QuarantineEntry;
}

export class Quarantine {
  constructor(
    readonly dir: string,
    private readonly now: () => number,
  ) {}

  /**
   * Copies `length` bytes at `fileOffset` of `segmentPath`; returns the index entry written. A damaged range
   * stays in its segment until the segment is released, so every start meets it again: when its copy is
   * already there with the same bytes and the index lists it, that entry is returned and nothing is added,
   * so the index keeps one line per range set aside.
   */
  copyRange(
    cause: 'log-damaged' | 'log-torn',
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
    const known = this.alreadySetAside(cause, file, length, bytes.subarray(0, got));
    if (known) return known;
    writeFileSync(join(this.dir, file), bytes.subarray(0, got), { mode: 0o600 });
    return this.index({
      cause,
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
      cause: 'store-batch',
      file,
      reason,
      offset,
      records: lines.length,
      at: new Date(this.now()).toISOString(),
    });
  }

  private alreadySetAside(cause: QuarantineCause, file: string, length: number, bytes: Buffer) {
    const copy = join(this.dir, file);
    if (!existsSync(copy) || !readFileSync(copy).equals(bytes)) return undefined;
    return readQuarantineIndex(this.dir).find((e) => e.cause === cause && e.file === file && e.length === length);
  }

  private index(entry: QuarantineEntry): QuarantineEntry {
    appendFileSync(join(this.dir, 'index.ndjson'), `${JSON.stringify(entry)}\n`, { mode: 0o600 });
    return entry;
  }

  private ensureDir(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }
}
