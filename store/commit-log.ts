import {
  closeSync,
  constants,
  fdatasyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import {
  detectFormat,
  FRAME_HEADER_BYTES,
  frameBytes,
  scanFrames,
  SEGMENT_HEADER_BYTES,
  segmentHeader,
  writeFrameHeader,
  type SegmentFormat,
} from './log-frame.ts';
import { readSegment } from './log-segment-reader.ts';

/**
 * An append-only log of records in numbered segment files: the point of durability. A group of records is
 * written with one write to a file opened O_DSYNC (durable when the write returns, as write + fdatasync,
 * but in one trip to libuv's pool instead of two: a busy main thread is waited for once per group, not
 * twice); only then is it acknowledged. Offsets are global byte positions, so a consumer's checkpoint is
 * one number. The framing (log-frame.ts) carries a checksum per record, checked on every read; damage is
 * reported to `damage` and skipped, never returned, and never hides the good records after it.
 *
 * At open, the last segment is scanned: whatever follows its last good record (a crash mid-write: that
 * group was never acknowledged) is reported as torn and zeroed. Segments of the old format (1) are read
 * as they are; appends always go to a format-2 segment.
 *
 * Segments are preallocated (written with zeros and synced once), so each group's synchronous write overwrites
 * allocated blocks and needs no file-size change: on ext4 that avoids a journal commit per group, which
 * would also flush every other process's dirty data and make acknowledgements wait for it.
 *
 * A group whose write failed (an I/O error) was never acknowledged: what reached the file is zeroed, and where
 * the disk refuses that too, the segment ends before it and the next group starts a new one, so none of its
 * records is read back, at run time or after a restart (store/commit-log-io-error.test.ts, on a FUSE file
 * system that fails writes). Only a crash before that next group leaves them at the log's end, where open()
 * keeps them; both stores key a point by series and time, so a device's resend lands on the same point.
 */
const SEGMENT_RE = /^(\d{20})\.log$/;
/** O_DSYNC where the system has it (Linux, macOS): each append's write is durable when it returns */
const DSYNC = constants.O_DSYNC as number | undefined;
/** how appends open the newest segment */
const APPEND_FLAGS = constants.O_RDWR | (DSYNC ?? 0);

export interface LogRecord {
  readonly offset: number;
  readonly next: number;
  readonly payload: Buffer;
}

/** A damaged or torn range of one segment, as global offsets and as positions in the segment's file. */
export interface LogDamageRange {
  /** torn: a final record cut by a crash; damaged: bytes failing their checksum; missing: a file cut short */
  readonly cause: 'damaged' | 'torn' | 'missing';
  readonly offset: number;
  readonly end: number;
  readonly segment: string;
  readonly fileOffset: number;
}

export interface LogDamageSink {
  report(range: LogDamageRange): void;
}

interface Segment {
  base: number;
  /** bytes in use, segment header included */
  size: number;
  path: string;
  format: SegmentFormat;
  /** false until the file exists (a fresh segment is created by the first append to it) */
  created: boolean;
  /**
   * Set when a failed group's bytes may be in the file past `size` and could not be cleared (the disk
   * refused that write too): the next append starts a new segment at `base + size`, which bounds this one
   * for every reader and for open(), so those never-acknowledged records are never read back.
   */
  sealed?: boolean;
}

export interface CommitLogOptions {
  dir: string;
  segmentBytes: number;
  damage?: LogDamageSink;
}

export class CommitLog {
  private readonly segments: Segment[];
  private handle: FileHandle | undefined;
  private appending = false;

  private constructor(
    private readonly options: CommitLogOptions,
    segments: Segment[],
  ) {
    this.segments = segments;
  }

  static open(options: CommitLogOptions): CommitLog {
    mkdirSync(options.dir, { recursive: true });
    const segments: Segment[] = readdirSync(options.dir)
      .map((name) => SEGMENT_RE.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({
        base: Number(m[1]),
        path: join(options.dir, m[0]),
        size: 0,
        format: 2 as SegmentFormat,
        created: true,
      }))
      .sort((a, b) => a.base - b.base);
    for (const seg of segments) {
      seg.size = statSync(seg.path).size;
      seg.format = detectFormat(readStart(seg.path));
    }
    // A segment before the last cannot be torn (later segments start after it was closed), but its size
    // must not pass the next base for offsets to stay contiguous (a truncated one just ends early).
    for (let i = 0; i + 1 < segments.length; i++) {
      const seg = segments[i]!;
      const full = segments[i + 1]!.base - seg.base;
      if (seg.size < full) {
        // cut short (a truncated file): the records that were there are gone from the last intact one on;
        // say so once, at open (rare, so reading the segment here is fine)
        const end = seg.format === 2 ? lastRecordEnd(readFileSync(seg.path)) : seg.size;
        options.damage?.report({
          cause: 'missing',
          offset: seg.base + end,
          end: seg.base + full,
          segment: seg.path,
          fileOffset: end,
        });
        seg.size = end;
      }
      seg.size = Math.min(seg.size, full);
    }
    const last = segments[segments.length - 1];
    if (last) last.size = validEnd(last, options.damage);
    if (last && last.size === 0) {
      // an empty old-format (or headerless) segment: start it again in the current format
      unlinkSync(last.path);
      segments.pop();
      segments.push(freshSegment(options.dir, last.base));
    }
    if (segments.length === 0) segments.push(freshSegment(options.dir, 0));
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

  /** Bytes of records kept (segment headers not counted). */
  get sizeBytes(): number {
    let headers = 0;
    for (const s of this.segments) if (s.format === 2) headers += SEGMENT_HEADER_BYTES;
    return this.head - this.tail - headers;
  }

  /**
   * Appends the payloads as records, durably, and returns the records' bytes as written (views of one
   * buffer). A string payload is written as UTF-8 straight into the group's buffer. Not reentrant: the
   * caller serialises groups. On failure nothing is counted as written: a retry writes the same place.
   */
  async append(payloads: ReadonlyArray<Buffer | string>): Promise<{ start: number; end: number; records: Buffer[] }> {
    if (this.appending) throw new Error('CommitLog.append is not reentrant');
    this.appending = true;
    try {
      let total = 0;
      for (const p of payloads) {
        const length = typeof p === 'string' ? Buffer.byteLength(p) : p.length;
        if (length === 0) throw new Error('CommitLog records cannot be empty');
        total += frameBytes(2, length);
      }
      const frame = Buffer.allocUnsafe(total);
      const records: Buffer[] = [];
      let pos = 0;
      for (const p of payloads) {
        const length =
          typeof p === 'string' ? frame.write(p, pos + FRAME_HEADER_BYTES) : p.copy(frame, pos + FRAME_HEADER_BYTES);
        const record = frame.subarray(pos + FRAME_HEADER_BYTES, pos + FRAME_HEADER_BYTES + length);
        records.push(record);
        writeFrameHeader(frame, pos, length, record);
        pos += FRAME_HEADER_BYTES + length;
      }
      let seg = this.segments[this.segments.length - 1]!;
      const hasRecords = seg.size > (seg.format === 2 ? SEGMENT_HEADER_BYTES : 0);
      if (seg.format !== 2 || seg.sealed || (hasRecords && seg.size + total > this.options.segmentBytes)) {
        await this.closeHandle();
        seg = freshSegment(this.options.dir, seg.base + seg.size);
        this.segments.push(seg);
      }
      if (!seg.created) await this.create(seg);
      this.handle ??= await open(seg.path, APPEND_FLAGS);
      const start = seg.base + seg.size;
      try {
        // a full disk can end a write short without an error: that group is not durable
        // O_DSYNC: the write returns once the bytes are durable, or fails (EIO) if they could not be made so
        const { bytesWritten } = await this.handle.write(frame, 0, frame.length, seg.size);
        if (bytesWritten !== frame.length) throw shortWrite(seg.path, bytesWritten, frame.length);
        if (DSYNC === undefined) await this.handle.datasync();
      } catch (err) {
        // never acknowledged: zero what reached the file (preallocated space, so zeros need no new blocks),
        // or a shorter group written here later could leave intact records of this one to be read back;
        // where the disk refuses that too, no later group is written after them: this segment ends here
        const cleared = await this.handle.write(Buffer.alloc(frame.length), 0, frame.length, seg.size).then(
          ({ bytesWritten }) => bytesWritten === frame.length,
          () => false,
        );
        if (!cleared) {
          seg.sealed = true;
          await this.closeHandle().catch(() => undefined);
        }
        throw err;
      }
      seg.size += total;
      return { start, end: start + total, records };
    } finally {
      this.appending = false;
    }
  }

  /**
   * Reads whole, verified records from `offset` up to about `maxBytes` (a record larger than that is read
   * whole). Returns an empty list at the head. Damaged ranges met on the way are reported and skipped, so
   * the last record's `next` may be past a gap.
   */
  async read(offset: number, maxBytes: number): Promise<LogRecord[]> {
    return (await this.readRange(offset, maxBytes)).records;
  }

  /**
   * read(), and the offset reading got to: past a damaged range that no intact record follows (the end of a
   * segment), so a consumer can move past damage even when no record after it has been read yet.
   */
  async readRange(offset: number, maxBytes: number): Promise<{ records: LogRecord[]; next: number }> {
    const records: LogRecord[] = [];
    let pos = Math.max(offset, this.tail);
    let budget = maxBytes;
    while (pos < this.head && budget > 0) {
      const seg = this.segments.find((s) => pos < s.base + s.size);
      if (!seg?.created) break;
      const dataStart = seg.base + (seg.format === 2 ? SEGMENT_HEADER_BYTES : 0);
      if (pos < dataStart) pos = dataStart;
      if (pos >= seg.base + seg.size) continue;
      const file = await open(seg.path, 'r');
      try {
        const got = await readSegment(file, seg.format, pos - seg.base, seg.size, budget, (range) =>
          this.options.damage?.report({
            cause: 'damaged',
            offset: seg.base + range.at,
            end: seg.base + range.end,
            segment: seg.path,
            fileOffset: range.at,
          }),
        );
        for (const r of got.records) {
          records.push({ offset: seg.base + r.at, next: seg.base + r.next, payload: r.payload });
          budget -= r.next - r.at;
        }
        pos = seg.base + got.next;
      } finally {
        await file.close();
      }
    }
    return { records, next: Math.min(Math.max(pos, offset), this.head) };
  }

  /**
   * Reads every record from `offset` to the head, checking each checksum, so damage is reported at start
   * rather than when the store gets there (which, with the store down, may be hours later). Bounded by
   * the checkpoint: regular checkpoints keep this tail short. Returns the intact records seen.
   */
  async verify(offset: number): Promise<number> {
    let pos = this.clamp(offset);
    let count = 0;
    while (pos < this.head) {
      const { records, next } = await this.readRange(pos, 8 * 1024 * 1024);
      if (next <= pos) break;
      count += records.length;
      pos = next;
    }
    return count;
  }

  /** The offset reading would go on from after `offset`: past the head is the head. */
  clamp(offset: number): number {
    const first = this.segments[0]!;
    const dataStart = first.base + (first.format === 2 ? SEGMENT_HEADER_BYTES : 0);
    return Math.min(Math.max(offset, dataStart), this.head);
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

  private async create(seg: Segment): Promise<void> {
    const handle = await open(seg.path, 'w+');
    try {
      await preallocate(handle, Math.max(this.options.segmentBytes, SEGMENT_HEADER_BYTES));
      await handle.write(segmentHeader(), 0, SEGMENT_HEADER_BYTES, 0);
      await handle.sync();
      await this.syncDir();
      await handle.close();
    } catch (err) {
      // e.g. ENOSPC while preallocating: leave no half-made segment behind; the next append tries again
      await handle.close().catch(() => undefined);
      try {
        unlinkSync(seg.path);
      } catch {
        /* already gone */
      }
      throw err;
    }
    seg.created = true;
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

function freshSegment(dir: string, base: number): Segment {
  return {
    base,
    size: SEGMENT_HEADER_BYTES,
    path: join(dir, `${String(base).padStart(20, '0')}.log`),
    format: 2,
    created: false,
  };
}

function lastRecordEnd(bytes: Buffer): number {
  if (bytes.length < SEGMENT_HEADER_BYTES) return Math.min(bytes.length, SEGMENT_HEADER_BYTES);
  const { records } = scanFrames(bytes, SEGMENT_HEADER_BYTES);
  return records.length ? records[records.length - 1]!.next : SEGMENT_HEADER_BYTES;
}

function readStart(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    return buf.subarray(0, readSync(fd, buf, 0, buf.length, 0));
  } finally {
    closeSync(fd);
  }
}

const ZEROS = Buffer.alloc(1024 * 1024);

async function preallocate(handle: FileHandle, bytes: number): Promise<void> {
  for (let pos = 0; pos < bytes; pos += ZEROS.length) {
    const length = Math.min(ZEROS.length, bytes - pos);
    const { bytesWritten } = await handle.write(ZEROS, 0, length, pos);
    if (bytesWritten !== length) throw shortWrite('a new segment', bytesWritten, length);
  }
}

/** A write the disk ended short (no room left): reported as ENOSPC, what it is in practice. */
function shortWrite(what: string, written: number, wanted: number): Error {
  return Object.assign(new Error(`ENOSPC: short write to ${what}: ${written} of ${wanted} bytes`), { code: 'ENOSPC' });
}

/**
 * Where the last segment's good records end. Whatever non-zero bytes follow (up to the first 64 KiB of
 * zeros: the preallocated space) are what a torn group left behind: reported, then zeroed. Damage before
 * the last good record is left in place for the reader to skip and report.
 */
function validEnd(seg: Segment, damage: LogDamageSink | undefined): number {
  const bytes = readFileSync(seg.path);
  let end: number;
  if (seg.format === 2) {
    if (bytes.length < SEGMENT_HEADER_BYTES) return 0;
    const { records } = scanFrames(bytes, SEGMENT_HEADER_BYTES);
    end = records.length ? records[records.length - 1]!.next : SEGMENT_HEADER_BYTES;
  } else {
    end = v1End(bytes);
  }
  let tornEnd = end;
  while (tornEnd < bytes.length) {
    const chunk = bytes.subarray(tornEnd, Math.min(bytes.length, tornEnd + 64 * 1024));
    if (chunk.every((b) => b === 0)) break;
    tornEnd += chunk.length;
  }
  // trim trailing zeros of the last non-zero chunk from the reported range
  let reportEnd = tornEnd;
  while (reportEnd > end && bytes[reportEnd - 1] === 0) reportEnd--;
  if (reportEnd > end) {
    damage?.report({
      cause: 'torn',
      offset: seg.base + end,
      end: seg.base + reportEnd,
      segment: seg.path,
      fileOffset: end,
    });
    const fd = openSync(seg.path, 'r+');
    try {
      for (let at = end; at < tornEnd; at += ZEROS.length)
        writeSync(fd, ZEROS, 0, Math.min(ZEROS.length, tornEnd - at), at);
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  return end;
}

/** End of the good format-1 records (the old format stops at the first bad one: it has no marker). */
function v1End(bytes: Buffer): number {
  let at = 0;
  for (;;) {
    if (at + 8 > bytes.length) return at;
    const len = bytes.readUInt32LE(at);
    if (len === 0 || at + 8 + len > bytes.length) return at;
    if (crc32(bytes.subarray(at + 8, at + 8 + len)) !== bytes.readUInt32LE(at + 4)) return at;
    at += 8 + len;
  }
}
