import type { FileHandle } from 'node:fs/promises';
import { decodeFrameAt, findNextFrame, FRAME_HEADER_BYTES, type SegmentFormat } from './log-frame.ts';

/**
 * Reads verified records out of one segment file, from a file position up to about `budget` bytes.
 * A record whose checksum does not match is never returned: the bytes up to the next good record (found
 * by its marker) are reported as one damaged range, and reading goes on after them. Format-1 segments
 * have no marker, so their damage runs to the segment's end.
 */
export interface SegmentRecord {
  readonly at: number;
  readonly next: number;
  readonly payload: Buffer;
}

export interface SegmentRange {
  readonly at: number;
  readonly end: number;
}

const WINDOW = 1024 * 1024;

export async function readSegment(
  file: FileHandle,
  format: SegmentFormat,
  from: number,
  end: number,
  budget: number,
  onDamage: (range: SegmentRange) => void,
): Promise<{ records: SegmentRecord[]; next: number }> {
  const records: SegmentRecord[] = [];
  let at = from;
  let consumed = 0;
  let need = 0;
  let damageStart: number | undefined;
  while (at < end && (consumed < budget || damageStart !== undefined)) {
    const want = Math.min(end - at, Math.max(WINDOW, budget - consumed, need));
    const buf = Buffer.allocUnsafe(want);
    const { bytesRead } = await file.read(buf, 0, want, at);
    const view = buf.subarray(0, bytesRead);
    const last = at + bytesRead >= end || bytesRead < want; // nothing more to read after this window
    need = 0;
    let local = 0;
    while (local < view.length) {
      if (damageStart !== undefined) {
        if (format === 1) {
          local = view.length; // no marker to resync on: the rest of this segment is lost
          if (last) break;
          continue;
        }
        const idx = findNextFrame(view, local);
        if (idx < 0) {
          // keep the last bytes: a marker may straddle the window
          local = last ? view.length : Math.max(local, view.length - FRAME_HEADER_BYTES + 1);
          break;
        }
        const frame = decodeFrameAt(view, idx, format);
        if (frame.tag === 'short') {
          if (last) {
            local = idx + 1;
            continue;
          } // cut by the segment's end: not a record
          local = idx;
          need = frame.need;
          break;
        }
        onDamage({ at: damageStart, end: at + idx });
        damageStart = undefined;
        local = idx;
        continue;
      }
      if (consumed >= budget) break;
      const frame = decodeFrameAt(view, local, format);
      if (frame.tag === 'record') {
        records.push({ at: at + local, next: at + frame.next, payload: frame.payload });
        consumed += frame.next - local;
        local = frame.next;
        continue;
      }
      if (frame.tag === 'short' && !last) {
        need = frame.need;
        break;
      }
      damageStart = at + local;
      local += 1;
    }
    if (local === 0 && need === 0 && !last) need = view.length * 2; // no progress: read a larger window
    at += local;
    if (bytesRead === 0) break;
  }
  if (damageStart !== undefined) {
    onDamage({ at: damageStart, end });
    at = end;
  }
  return { records, next: at };
}
