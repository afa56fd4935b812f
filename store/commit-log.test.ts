import {
  closeSync,
  constants,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  rmSync,
  writeSync,
} from 'node:fs';
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

/** The open-file flags the kernel holds for each of this process's descriptors on files under `dir`. */
function openFlagsUnder(dir: string): number[] {
  const flags: number[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed since the listing
    }
    if (!target.startsWith(`${dir}/`)) continue;
    const line = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    if (line) flags.push(Number.parseInt(line[1]!, 8));
  }
  return flags;
}

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

  it.skipIf(process.platform !== 'linux')(
    'appends through a descriptor the kernel holds as O_DSYNC, in every segment',
    async () => {
      // an append resolves when its write returns: only a synchronous descriptor makes that the point of durability
      const dir = tempDir();
      const log = CommitLog.open({ dir, segmentBytes: 4096 });
      for (let segment = 0; segment < 3; segment++) {
        await log.append([Buffer.alloc(3000, 'x')]);
        const flags = openFlagsUnder(dir);
        expect(flags).toHaveLength(1);
        expect(flags[0]! & constants.O_DSYNC).toBe(constants.O_DSYNC);
        expect(flags[0]! & 0o3).toBe(constants.O_RDWR); // O_ACCMODE (not in node's constants)
      }
      expect(readdirSync(dir).filter((f) => f.endsWith('.log'))).toHaveLength(3);
      await log.close();
      expect(openFlagsUnder(dir)).toEqual([]);
    },
  );

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
