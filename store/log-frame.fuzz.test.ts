import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { fuzzParameters } from '../test-support/fuzz.ts';
import {
  decodeFrameAt,
  detectFormat,
  findNextFrame,
  FRAME_HEADER_BYTES,
  scanFrames,
  SEGMENT_HEADER_BYTES,
  segmentHeader,
  writeFrameHeader,
} from './log-frame.ts';
import { readSegment } from './log-segment-reader.ts';

/**
 * The log decoder reads whatever a disk gives back: random bytes and damaged segments never make it throw,
 * never yield a record whose checksum does not match, and damage never hides an intact record after it.
 */
const params = fuzzParameters(300);
const dir = mkdtempSync(join(tmpdir(), 'ioc-frame-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Checks a record's checksum independently of decodeFrameAt. */
function checksumMatches(buf: Buffer, at: number, payload: Buffer): boolean {
  const length = buf.readUInt32LE(at + 4);
  return length === payload.length && crc32(payload, crc32(buf.subarray(at + 4, at + 8))) === buf.readUInt32LE(at + 8);
}

/** A valid format-2 segment of JSON payloads (as the log writes them), and where each record lies. */
function buildSegment(payloads: string[]): {
  bytes: Buffer;
  frames: Array<{ at: number; next: number; payload: string }>;
} {
  const parts: Buffer[] = [segmentHeader()];
  const frames: Array<{ at: number; next: number; payload: string }> = [];
  let pos = SEGMENT_HEADER_BYTES;
  for (const p of payloads) {
    const body = Buffer.from(p);
    const frame = Buffer.alloc(FRAME_HEADER_BYTES + body.length);
    body.copy(frame, FRAME_HEADER_BYTES);
    writeFrameHeader(frame, 0, body.length);
    parts.push(frame);
    frames.push({ at: pos, next: pos + frame.length, payload: p });
    pos += frame.length;
  }
  return { bytes: Buffer.concat(parts), frames };
}

const payloadArb = fc.json({ maxDepth: 2 }).filter((s) => s.length > 0);
/** byte damage: overwrite a run of bytes at a position (as a fraction of the length) */
const damageArb = fc.array(
  fc.record({
    where: fc.double({ min: 0, max: 1, noNaN: true }),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 24 }),
  }),
  { minLength: 1, maxLength: 4 },
);

function applyDamage(bytes: Buffer, damage: Array<{ where: number; bytes: Uint8Array }>): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const d of damage) {
    const at = Math.min(bytes.length - 1, Math.floor(d.where * bytes.length));
    const n = Math.min(d.bytes.length, bytes.length - at);
    Buffer.from(d.bytes.subarray(0, n)).copy(bytes, at);
    ranges.push([at, at + n]);
  }
  return ranges;
}

describe('commit-log frame decoder (fuzz)', () => {
  it('never throws on random bytes and only returns records whose checksum matches', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.nat(), fc.boolean(), (raw, pos, withHeader) => {
        const buf = withHeader ? Buffer.concat([segmentHeader(), Buffer.from(raw)]) : Buffer.from(raw);
        detectFormat(buf);
        decodeFrameAt(buf, buf.length ? pos % buf.length : 0, 1);
        const at = buf.length ? pos % buf.length : 0;
        const frame = decodeFrameAt(buf, at, 2);
        if (frame.tag === 'record') expect(checksumMatches(buf, at, frame.payload)).toBe(true);
        findNextFrame(buf, at);
        const { records, damaged } = scanFrames(buf, withHeader ? SEGMENT_HEADER_BYTES : 0);
        for (const r of records) expect(checksumMatches(buf, r.at, r.payload)).toBe(true);
        for (const d of damaged) expect(d.end).toBeGreaterThan(d.at);
      }),
      params,
    );
  });

  it('finds every intact record of a damaged segment, and nothing that fails its checksum', () => {
    fc.assert(
      fc.property(
        fc.array(payloadArb, { minLength: 1, maxLength: 30 }),
        damageArb,
        fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
        (payloads, damage, cut) => {
          const { bytes: whole, frames } = buildSegment(payloads);
          const bytes =
            cut === null
              ? Buffer.from(whole)
              : Buffer.from(
                  whole.subarray(0, SEGMENT_HEADER_BYTES + Math.floor(cut * (whole.length - SEGMENT_HEADER_BYTES))),
                );
          const ranges = applyDamage(bytes, damage);
          const { records } = scanFrames(bytes, SEGMENT_HEADER_BYTES);
          for (const r of records) expect(checksumMatches(bytes, r.at, r.payload)).toBe(true);
          const found = new Set(records.map((r) => r.at));
          for (const f of frames) {
            const intact = f.next <= bytes.length && ranges.every(([a, b]) => b <= f.at || a >= f.next);
            if (intact) expect(found.has(f.at), `record at ${f.at} is intact but was not found`).toBe(true);
          }
        },
      ),
      params,
    );
  });

  it('reads the same intact records from a damaged segment file as from memory', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(payloadArb, { minLength: 1, maxLength: 30 }), damageArb, async (payloads, damage) => {
        const { bytes, frames } = buildSegment(payloads);
        const ranges = applyDamage(bytes, damage);
        const path = join(dir, 'segment.log');
        writeFileSync(path, bytes);
        const file = await open(path, 'r');
        try {
          const damaged: Array<{ at: number; end: number }> = [];
          const got = await readSegment(file, 2, SEGMENT_HEADER_BYTES, bytes.length, Number.MAX_SAFE_INTEGER, (r) =>
            damaged.push(r),
          );
          for (const r of got.records) expect(checksumMatches(bytes, r.at, r.payload)).toBe(true);
          const found = new Set(got.records.map((r) => r.at));
          for (const f of frames) {
            if (ranges.every(([a, b]) => b <= f.at || a >= f.next)) expect(found.has(f.at)).toBe(true);
          }
          expect(got.next).toBe(bytes.length);
        } finally {
          await file.close();
        }
      }),
      { ...params, numRuns: Math.max(20, Math.floor(params.numRuns / 5)) },
    );
  });
});
