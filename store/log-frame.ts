import { crc32 } from 'node:zlib';

/**
 * The commit log's on-disk framing, as pure functions over buffers (the part fuzzed in log-frame.fuzz).
 *
 * Format 2 (every segment written since the verified log): a 16-byte segment header
 *   [8 bytes "IOCLOG\0\2"][u32 version = 2][u32 crc32 of the 12 bytes before]
 * then records, each
 *   [u32 marker 0x6cc010fe][u32 payload length][u32 crc32(length bytes + payload)][payload]
 * The marker starts with byte 0xfe, which never occurs in UTF-8 (payloads are JSON text), so after damage
 * the reader finds the next record by looking for the marker and checking that record's checksum; the
 * checksum covers the length, so a damaged length is caught too.
 *
 * Format 1 (data dirs from before): no segment header, records [u32 length][u32 crc32(payload)][payload],
 * a zero length ends the records. It has no marker, so damage in a format-1 segment hides the rest of
 * that segment (reported as damaged to the segment's end); new appends always go to a format-2 segment.
 */
export const SEGMENT_HEADER_BYTES = 16;
export const FRAME_HEADER_BYTES = 12;
export const V1_HEADER_BYTES = 8;
const MAGIC = Buffer.from('IOCLOG\x00\x02', 'latin1');
const MARKER = 0x6cc010fe;
const MARKER_FIRST_BYTE = MARKER & 0xff;
/** No record is larger: a length above it is damage, not a reason to read gigabytes. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

export type SegmentFormat = 1 | 2;

export function segmentHeader(): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt32LE(2, 8);
  header.writeUInt32LE(crc32(header.subarray(0, 12)), 12);
  return header;
}

/**
 * The format of a segment from its first bytes. A damaged format-2 header still reads as format 2 when the
 * bytes cannot be a format-1 record (the records after it are found by their markers).
 */
export function detectFormat(start: Buffer): SegmentFormat {
  if (start.length >= 8 && start.subarray(0, 8).equals(MAGIC)) return 2;
  if (start.length < V1_HEADER_BYTES) return start.every((b) => b === 0) ? 1 : 2;
  const len = start.readUInt32LE(0);
  if (len === 0) return start.every((b) => b === 0) ? 1 : 2;
  if (len <= MAX_RECORD_BYTES && start.length >= V1_HEADER_BYTES + len) {
    return crc32(start.subarray(V1_HEADER_BYTES, V1_HEADER_BYTES + len)) === start.readUInt32LE(4) ? 1 : 2;
  }
  // a first record longer than what we were shown: format 1 only if it is plausibly a length
  return start[0] !== MARKER_FIRST_BYTE && len <= MAX_RECORD_BYTES ? 1 : 2;
}

/** The length's 4 bytes for its checksum: one buffer for all (no view per record made for 4 bytes). */
const LENGTH_BYTES = Buffer.alloc(4);

/**
 * Writes a format-2 frame header for the payload already at `pos + FRAME_HEADER_BYTES`; `payload`, when the
 * caller has it, is that view (the log hands it on), so none is made here.
 */
export function writeFrameHeader(
  buf: Buffer,
  pos: number,
  length: number,
  payload = buf.subarray(pos + FRAME_HEADER_BYTES, pos + FRAME_HEADER_BYTES + length),
): void {
  buf.writeUInt32LE(MARKER, pos);
  buf.writeUInt32LE(length, pos + 4);
  LENGTH_BYTES.writeUInt32LE(length, 0);
  buf.writeUInt32LE(crc32(payload, crc32(LENGTH_BYTES)), pos + 8);
}

export function frameBytes(format: SegmentFormat, payloadLength: number): number {
  return (format === 2 ? FRAME_HEADER_BYTES : V1_HEADER_BYTES) + payloadLength;
}

/**
 * What lies at `at`: a verified record; `short` when the frame may be whole but the buffer ends first
 * (`need` bytes from `at` would tell); `end` (format 1's zero length); or `damaged`. Never throws.
 */
export type FrameAt =
  | { tag: 'record'; payload: Buffer; next: number }
  | { tag: 'short'; need: number }
  | { tag: 'end' }
  | { tag: 'damaged' };

export function decodeFrameAt(buf: Buffer, at: number, format: SegmentFormat): FrameAt {
  if (!Number.isSafeInteger(at) || at < 0) return { tag: 'damaged' };
  const headerBytes = format === 2 ? FRAME_HEADER_BYTES : V1_HEADER_BYTES;
  if (at + headerBytes > buf.length) {
    // too few bytes to tell; for format 2 a wrong first byte is already damage
    if (format === 2 && at < buf.length && buf[at] !== MARKER_FIRST_BYTE) return { tag: 'damaged' };
    return { tag: 'short', need: headerBytes };
  }
  if (format === 2) {
    if (buf.readUInt32LE(at) !== MARKER) return { tag: 'damaged' };
    const len = buf.readUInt32LE(at + 4);
    if (len === 0 || len > MAX_RECORD_BYTES) return { tag: 'damaged' };
    if (at + FRAME_HEADER_BYTES + len > buf.length) return { tag: 'short', need: FRAME_HEADER_BYTES + len };
    const payload = buf.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + len);
    if (crc32(payload, lengthCrc(buf, at + 4)) !== buf.readUInt32LE(at + 8)) return { tag: 'damaged' };
    return { tag: 'record', payload, next: at + FRAME_HEADER_BYTES + len };
  }
  const len = buf.readUInt32LE(at);
  if (len === 0) return { tag: 'end' };
  if (len > MAX_RECORD_BYTES) return { tag: 'damaged' };
  if (at + V1_HEADER_BYTES + len > buf.length) return { tag: 'short', need: V1_HEADER_BYTES + len };
  const payload = buf.subarray(at + V1_HEADER_BYTES, at + V1_HEADER_BYTES + len);
  if (crc32(payload) !== buf.readUInt32LE(at + 4)) return { tag: 'damaged' };
  return { tag: 'record', payload, next: at + V1_HEADER_BYTES + len };
}

const CRC_TABLE = Int32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

/**
 * crc32 of the 4 length bytes at `at`, as zlib's crc32 gives it, computed here: a native call and a
 * subarray per record cost more than 4 table steps when a replay checks a million records.
 */
function lengthCrc(buf: Buffer, at: number): number {
  let c = -1;
  for (let i = at; i < at + 4; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/**
 * The next position at or after `from` where a format-2 frame may start: a verified record, or a marker
 * whose frame runs past the buffer (`short`: the caller reads on to decide). -1 when there is none; then
 * the caller may resume at `buf.length - FRAME_HEADER_BYTES + 1` with more bytes.
 */
export function findNextFrame(buf: Buffer, from: number): number {
  let at = Math.max(0, from);
  while (at < buf.length) {
    const idx = buf.indexOf(MARKER_FIRST_BYTE, at);
    if (idx < 0) return -1;
    const frame = decodeFrameAt(buf, idx, 2);
    if (frame.tag === 'record' || frame.tag === 'short') return idx;
    at = idx + 1;
  }
  return -1;
}

export interface ScannedRecord {
  readonly at: number;
  readonly next: number;
  readonly payload: Buffer;
}

export interface ScannedDamage {
  readonly at: number;
  readonly end: number;
}

/**
 * Every verified record of a whole format-2 region held in memory, and the damaged ranges between them
 * (a frame cut by the end of the buffer is damage too). Used on segments at open and by the fuzz tests.
 */
export function scanFrames(buf: Buffer, start = 0): { records: ScannedRecord[]; damaged: ScannedDamage[] } {
  const records: ScannedRecord[] = [];
  const damaged: ScannedDamage[] = [];
  let at = start;
  while (at < buf.length) {
    const frame = decodeFrameAt(buf, at, 2);
    if (frame.tag === 'record') {
      records.push({ at, next: frame.next, payload: frame.payload });
      at = frame.next;
      continue;
    }
    let next = findNextFrame(buf, at + 1);
    // a marker whose frame runs past the end is not a record: keep looking after it
    while (next >= 0 && decodeFrameAt(buf, next, 2).tag !== 'record') next = findNextFrame(buf, next + 1);
    const end = next < 0 ? buf.length : next;
    damaged.push({ at, end });
    at = end;
  }
  return { records, damaged };
}
