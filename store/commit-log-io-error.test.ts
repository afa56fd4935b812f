import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultyFilesystem, mountFaultyFilesystem } from '../test-support/faulty-filesystem.ts';
import { logPayloads, settle, writerOnDisk } from '../test-support/writer-on-disk.ts';
import { CommitLog, type LogDamageRange } from './commit-log.ts';
import { decodeRecord } from './log-record.ts';
import { StorageUnavailableError } from './storage-state.ts';
import type { Point } from './time-series-store.ts';

/**
 * The commit log on a disk that gives I/O errors (a real FUSE file system, test-support/faulty-filesystem.ts):
 * a group whose write failed was never acknowledged, so none of its records may come back, not at run time and
 * not after a restart, even when its bytes reached the disk and the disk then refused the write that should
 * have cleared them.
 */
const fs: FaultyFilesystem | undefined = await mountFaultyFilesystem();
const SEGMENT_BYTES = 64 * 1024;

describe.skipIf(!fs)('CommitLog on a disk that gives I/O errors (FUSE)', () => {
  beforeAll(() => {
    expect(fs?.fault).toBe('off');
  });
  afterAll(async () => {
    await fs?.unmount();
  });

  it('never reads back a failed group whose bytes reached the disk, after the next group or a restart', async () => {
    const dir = join(fs!.dir, 'phantom');
    mkdirSync(dir);
    const log = CommitLog.open({ dir, segmentBytes: SEGMENT_BYTES });
    await log.append(['acked-1', 'acked-2']);

    // the group lands on the disk but its write fails, and so does every write after it (the zeroing one too)
    fs!.setFault('land-then-eio');
    const failed = ['never-1', 'never-2', 'never-3', 'never-4', 'never-5'].map((s) => `${s}-${'x'.repeat(40)}`);
    await expect(log.append(failed)).rejects.toMatchObject({ code: 'EIO' });
    expect(fs!.fault).toBe('eio');
    fs!.setFault('off');

    // a shorter group written next is acknowledged; what the failed one left on the disk must not follow it
    await log.append(['acked-3']);
    expect(await logPayloads(log)).toEqual(['acked-1', 'acked-2', 'acked-3']);
    await log.append(['acked-4']);
    await log.close();

    // a restart reads what the disk holds
    const damage: LogDamageRange[] = [];
    const reopened = CommitLog.open({
      dir: join(fs!.backing, 'phantom'),
      segmentBytes: SEGMENT_BYTES,
      damage: { report: (r) => damage.push(r) },
    });
    expect(await logPayloads(reopened)).toEqual(['acked-1', 'acked-2', 'acked-3', 'acked-4']);
    expect(damage).toEqual([]);
    await reopened.append(['acked-5']);
    expect((await logPayloads(reopened)).at(-1)).toBe('acked-5');
    await reopened.close();
  });

  it('refuses appends while writes fail, takes them again when the disk recovers, loses nothing acked', async () => {
    const dir = join(fs!.dir, 'outage');
    mkdirSync(dir);
    const log = CommitLog.open({ dir, segmentBytes: SEGMENT_BYTES });
    const acked: string[] = [];
    for (let i = 0; i < 20; i++) {
      const group = [`before-${i}`];
      await log.append(group);
      acked.push(...group);
    }
    fs!.setFault('eio');
    for (let i = 0; i < 5; i++) await expect(log.append([`during-${i}`])).rejects.toMatchObject({ code: 'EIO' });
    fs!.setFault('off');
    // enough after the outage to fill the segment and roll to new ones
    for (let i = 0; i < 400; i++) {
      const group = [`after-${i}-${'y'.repeat(200)}`];
      await log.append(group);
      acked.push(...group);
    }
    await log.close();
    expect(readdirSync(join(fs!.backing, 'outage')).length).toBeGreaterThan(1);
    const reopened = CommitLog.open({ dir: join(fs!.backing, 'outage'), segmentBytes: SEGMENT_BYTES });
    expect(await logPayloads(reopened)).toEqual(acked);
    await reopened.close();
  });

  it('is a state for the writer: refused with the reason, one line each way, probes until it recovers', async () => {
    const dir = join(fs!.dir, 'writer');
    mkdirSync(dir);
    const { clock, logs, storage, log, writer } = writerOnDisk(dir, SEGMENT_BYTES, 16 * 1024 * 1024);
    const point = (i: number): Point => ({
      measurement: 'air',
      tags: { sensorId: 's', kind: 'air', district: 'd' },
      fields: { pm25: i },
      ts: 1_700_000_000_000 + i,
    });
    for (let i = 0; i < 10; i++) await writer.write([point(i)]);

    fs!.setFault('land-then-eio');
    const failed = await writer.write([point(10), point(11), point(12)]).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(StorageUnavailableError);
    expect((failed as Error).message).toBe('disk error on the platform (EIO): reading not accepted, retry later');
    const refused = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => writer.write([point(100 + i)])));
    expect(refused.every((r) => r.status === 'rejected' && r.reason instanceof StorageUnavailableError)).toBe(true);
    expect(writer.queuedWrites).toBe(0);

    // probes on the clock fail while the disk does: no new line
    clock.advance(1000);
    await settle(100);
    clock.advance(2000);
    await settle(100);
    expect(storage.unavailableReason).toMatch(/EIO/);
    expect(logs.lines.filter((l) => Number(l.level) >= 40)).toHaveLength(1);

    fs!.setFault('off');
    clock.advance(4000);
    await settle(100);
    expect(storage.unavailableReason).toBeUndefined();
    expect(logs.lines.filter((l) => l.level === 30 && /storage available/.test(String(l.msg)))).toHaveLength(1);
    await writer.write([point(13)]);
    await writer.close();
    await log.close();

    const reopened = CommitLog.open({ dir: join(fs!.backing, 'writer'), segmentBytes: SEGMENT_BYTES });
    const stamps = (await logPayloads(reopened)).flatMap((r) => decodeRecord(r).map((p) => p.ts - 1_700_000_000_000));
    expect(stamps).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 13]);
    await reopened.close();
  });
});
