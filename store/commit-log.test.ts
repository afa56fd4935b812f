import { closeSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CommitLog } from './commit-log.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-log-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const buf = (s: string) => Buffer.from(s);

describe('CommitLog', () => {
  it('reads back appended records in order across reopen', async () => {
    const dir = tempDir();
    const log = CommitLog.open({ dir, segmentBytes: 1024 * 1024 });
    const first = await log.append([buf('a'), buf('bb')]);
    const second = await log.append([buf('ccc')]);
    expect(first.start).toBe(16); // after the segment header
    expect(second.start).toBe(first.end);
    await log.close();
    const reopened = CommitLog.open({ dir, segmentBytes: 1024 * 1024 });
    expect(reopened.head).toBe(second.end);
    const records = await reopened.read(0, 1024);
    expect(records.map((r) => r.payload.toString())).toEqual(['a', 'bb', 'ccc']);
    expect(records[2]!.next).toBe(second.end);
    const fromMiddle = await reopened.read(records[1]!.offset, 1024);
    expect(fromMiddle.map((r) => r.payload.toString())).toEqual(['bb', 'ccc']);
  });

  it('cuts a torn or corrupt tail left by a crash mid-write', async () => {
    const dir = tempDir();
    const log = CommitLog.open({ dir, segmentBytes: 1024 * 1024 });
    const { end } = await log.append([buf('kept')]);
    await log.close();
    const [file] = readdirSync(dir);
    // a header promising 100 bytes followed by 3: the write that never completed, in place after the last record
    const fd = openSync(join(dir, file!), 'r+');
    writeSync(fd, Buffer.from([100, 0, 0, 0, 1, 2, 3, 4, 9, 9, 9]), 0, 11, end);
    closeSync(fd);
    const reopened = CommitLog.open({ dir, segmentBytes: 1024 * 1024 });
    expect(reopened.head).toBe(end);
    const after = Buffer.alloc(11);
    const check = openSync(join(dir, file!), 'r');
    readSync(check, after, 0, 11, end);
    closeSync(check);
    expect(after.every((b) => b === 0)).toBe(true); // the torn bytes are gone
    expect((await reopened.read(0, 1024)).map((r) => r.payload.toString())).toEqual(['kept']);
    const next = await reopened.append([buf('after')]);
    expect(next.start).toBe(end);
  });

  it('rolls segments and releases only those every consumer has passed', async () => {
    const dir = tempDir();
    const log = CommitLog.open({ dir, segmentBytes: 100 });
    const ends: number[] = [];
    for (let i = 0; i < 10; i++) ends.push((await log.append([Buffer.alloc(40, i)])).end);
    expect(readdirSync(dir).length).toBeGreaterThan(3);
    const before = log.sizeBytes;
    log.release(ends[4]!);
    expect(log.sizeBytes).toBeLessThan(before);
    expect(log.tail).toBeLessThanOrEqual(ends[4]!);
    const rest = await log.read(log.tail, 10_000);
    expect(rest[rest.length - 1]!.next).toBe(log.head);
    expect(rest.some((r) => r.next === ends[5]!)).toBe(true);
    log.release(log.head);
    expect(readdirSync(dir).length).toBe(1); // the active segment stays
  });

  it('reads a record larger than the read budget whole', async () => {
    const log = CommitLog.open({ dir: tempDir(), segmentBytes: 1024 * 1024 });
    await log.append([Buffer.alloc(5000, 7), buf('x')]);
    const records = await log.read(0, 100);
    expect(records[0]!.payload.length).toBe(5000);
  });
});
