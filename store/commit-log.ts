import { closeSync, fdatasyncSync, mkdirSync, openSync, readdirSync, readSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

/**
 * An append-only log of records in numbered segment files: the point of durability. A group of records is
 * written with one write and one fdatasync; only then is it acknowledged. Offsets are global byte
 * positions, so a consumer's checkpoint is one number.
 *
 * Record frame: [u32 payload length > 0][u32 crc32(payload)][payload]. At open, the last segment is
 * checked frame by frame; a torn or corrupt tail (a crash mid-write: that group was never acknowledged)
 * is zeroed.
 *
 * Segments are preallocated (written with zeros and synced once), so each group's fdatasync overwrites
 * allocated blocks and needs no file-size change: on ext4 that avoids a journal commit per group, which
 * would also flush every other process's dirty data and make acknowledgements wait for it. A zero
 * length marks the end of the records.
 */
const HEADER = 8;
const SEGMENT_RE = /^(\d{20})\.log$/;

export interface LogRecord {
  readonly offset: number;
  readonly next: number;
  readonly payload: Buffer;
}

interface Segment {
  base: number;
  size: number;
  path: string;
}

export interface CommitLogOptions {
  dir: string;
  segmentBytes: number;
}

export class CommitLog {
  private readonly segments: Segment[];
  private handle: FileHandle | undefined;
  private appending = false;

  private constructor(private readonly options: CommitLogOptions, segments: Segment[]) {
    this.segments = segments;
  }

  static open(options: CommitLogOptions): CommitLog {
    mkdirSync(options.dir, { recursive: true });
    const segments = readdirSync(options.dir)
      .map((name) => SEGMENT_RE.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ base: Number(m[1]), path: join(options.dir, m[0]), size: 0 }))
      .sort((a, b) => a.base - b.base);
    for (const seg of segments) seg.size = statSync(seg.path).size;
    const last = segments[segments.length - 1];
    if (last) last.size = validLength(last.path, last.size);
    // A segment in the middle cannot be torn (later segments start after it was closed), but its recorded
    // size must match the next base for offsets to stay contiguous.
    for (let i = 0; i + 1 < segments.length; i++) {
      const seg = segments[i]!;
      seg.size = Math.min(seg.size, segments[i + 1]!.base - seg.base);
    }
    if (segments.length === 0) segments.push({ base: 0, size: 0, path: segmentPath(options.dir, 0) });
    return new CommitLog(options, segments);
  }

  /** Offset just past the last durable record. */
  get head(): number {
    const last = this.segments[this.segments.length - 1]!;
    return last.base + last.size;
  }

  /** Offset of the oldest record still kept. */
  get tail(): number {
    return this.segments[0]!.base;
  }

  get sizeBytes(): number {
    return this.head - this.tail;
  }

  /**
   * Appends the payloads as records, durably, and returns the records' bytes as written (views of one
   * buffer). A string payload is written as UTF-8 straight into the group's buffer. Not reentrant: the
   * caller serialises groups.
   */
  async append(payloads: ReadonlyArray<Buffer | string>): Promise<{ start: number; end: number; records: Buffer[] }> {
    if (this.appending) throw new Error('CommitLog.append is not reentrant');
    this.appending = true;
    try {
      let total = 0;
      for (const p of payloads) {
        const length = typeof p === 'string' ? Buffer.byteLength(p) : p.length;
        if (length === 0) throw new Error('CommitLog records cannot be empty');
        total += HEADER + length;
      }
      const frame = Buffer.allocUnsafe(total);
      const records: Buffer[] = [];
      let pos = 0;
      for (const p of payloads) {
        const length = typeof p === 'string' ? frame.write(p, pos + HEADER) : p.copy(frame, pos + HEADER);
        const record = frame.subarray(pos + HEADER, pos + HEADER + length);
        frame.writeUInt32LE(length, pos);
        frame.writeUInt32LE(crc32(record), pos + 4);
        records.push(record);
        pos += HEADER + length;
      }
      let seg = this.segments[this.segments.length - 1]!;
      if (seg.size > 0 && seg.size + total > this.options.segmentBytes) {
        await this.closeHandle();
        seg = { base: seg.base + seg.size, size: 0, path: segmentPath(this.options.dir, seg.base + seg.size) };
        this.segments.push(seg);
      }
      if (!this.handle) {
        const fresh = statSize(seg.path) === undefined;
        this.handle = await open(seg.path, fresh ? 'w+' : 'r+');
        if (fresh) {
          await preallocate(this.handle, this.options.segmentBytes);
          await this.syncDir();
        }
      }
      const start = seg.base + seg.size;
      await this.handle.write(frame, 0, frame.length, seg.size);
      await this.handle.datasync();
      seg.size += total;
      return { start, end: start + total, records };
    } finally {
      this.appending = false;
    }
  }

  /**
   * Reads whole records from `offset` (a record boundary) up to about `maxBytes`. Returns an empty list
   * at the head.
   */
  async read(offset: number, maxBytes: number): Promise<LogRecord[]> {
    const records: LogRecord[] = [];
    let pos = Math.max(offset, this.tail);
    let budget = maxBytes;
    while (pos < this.head && budget > 0) {
      const seg = this.segments.find((s) => pos >= s.base && pos < s.base + s.size);
      if (!seg) break;
      const file = await open(seg.path, 'r');
      try {
        const want = Math.min(seg.base + seg.size - pos, Math.max(budget, HEADER));
        const buf = Buffer.allocUnsafe(want);
        const { bytesRead } = await file.read(buf, 0, want, pos - seg.base);
        let at = 0;
        while (at + HEADER <= bytesRead) {
          const len = buf.readUInt32LE(at);
          if (at + HEADER + len > bytesRead) {
            if (at === 0) {
              // a single record larger than the budget: read it whole
              const big = Buffer.allocUnsafe(HEADER + len);
              await file.read(big, 0, big.length, pos - seg.base);
              records.push({ offset: pos, next: pos + big.length, payload: big.subarray(HEADER) });
              at = big.length;
            }
            break;
          }
          records.push({ offset: pos + at, next: pos + at + HEADER + len, payload: buf.subarray(at + HEADER, at + HEADER + len) });
          at += HEADER + len;
        }
        pos += at;
        budget -= at;
        if (at === 0) break;
      } finally {
        await file.close();
      }
    }
    return records;
  }

  /** True when `release(offset)` would delete a segment. */
  canRelease(offset: number): boolean {
    const first = this.segments[0]!;
    return this.segments.length > 1 && first.base + first.size <= offset;
  }

  /** Deletes whole segments that end at or before `offset` (every consumer is past them). */
  release(offset: number): void {
    while (this.segments.length > 1) {
      const seg = this.segments[0]!;
      if (seg.base + seg.size > offset) break;
      unlinkSync(seg.path);
      this.segments.shift();
    }
  }

  async close(): Promise<void> {
    await this.closeHandle();
  }

  private async closeHandle(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    if (h) await h.close();
  }

  private async syncDir(): Promise<void> {
    // a new segment's directory entry must be durable too, or a crash could lose the whole file
    const dir = await open(this.options.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}

function statSize(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

const ZEROS = Buffer.alloc(1024 * 1024);

async function preallocate(handle: FileHandle, bytes: number): Promise<void> {
  for (let pos = 0; pos < bytes; pos += ZEROS.length) {
    await handle.write(ZEROS, 0, Math.min(ZEROS.length, bytes - pos), pos);
  }
  await handle.sync();
}

function segmentPath(dir: string, base: number): string {
  return join(dir, `${String(base).padStart(20, '0')}.log`);
}

/** Length of the valid prefix of a segment; zeroes whatever follows it (a torn write). */
function validLength(path: string, size: number): number {
  const fd = openSync(path, 'r+');
  try {
    const header = Buffer.alloc(HEADER);
    let pos = 0;
    while (pos + HEADER <= size) {
      readSync(fd, header, 0, HEADER, pos);
      const len = header.readUInt32LE(0);
      if (len === 0 || pos + HEADER + len > size) break;
      const payload = Buffer.allocUnsafe(len);
      readSync(fd, payload, 0, len, pos + HEADER);
      if (crc32(payload) !== header.readUInt32LE(4)) break;
      pos += HEADER + len;
    }
    // Zero up to the first 64 KiB of zeros after the valid prefix: what a torn group left behind.
    let at = pos;
    const chunk = Buffer.alloc(64 * 1024);
    let dirty = false;
    while (at < size) {
      const n = readSync(fd, chunk, 0, Math.min(chunk.length, size - at), at);
      if (n <= 0 || chunk.subarray(0, n).every((b) => b === 0)) break;
      writeSync(fd, ZEROS, 0, n, at);
      dirty = true;
      at += n;
    }
    if (dirty) fdatasyncSync(fd);
    return pos;
  } finally {
    closeSync(fd);
  }
}
