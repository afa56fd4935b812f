import { statfsSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mountSmallFilesystem } from '../test-support/small-filesystem.ts';
import { logPayloads, settle, writerOnDisk } from '../test-support/writer-on-disk.ts';
import { StorageUnavailableError } from './storage-state.ts';
import type { Point } from './time-series-store.ts';
import { decodeRecord } from './log-record.ts';

/**
 * The writer's side of a full disk, on a real 2 MiB tmpfs and in simulated time: the failed group and
 * everything after it are refused with the reason (never queued), one error line, probes on a backoff
 * from the injected clock, one info line when a probe passes, and the log takes writes again.
 */
const fs = mountSmallFilesystem(2 * 1024 * 1024);
afterAll(() => fs?.unmount());

const point = (i: number): Point => ({
  measurement: 'air',
  tags: { sensorId: 's', kind: 'air', district: 'd' },
  fields: { pm25: i, note: 'x'.repeat(400) },
  ts: 1_700_000_000_000 + i,
});
const free = (dir: string) => {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
};

describe.skipIf(!fs)('DurableWriter on a full disk (2 MiB tmpfs)', () => {
  it('refuses with the reason instead of queueing, says so once each way, and resumes by itself', async () => {
    const dir = join(fs!.dir, 'log');
    mkdirSync(dir);
    const segmentBytes = 64 * 1024;
    const damage: unknown[] = [];
    const { clock, logs, storage, log, writer } = writerOnDisk(dir, segmentBytes, 64 * 1024 * 1024, {
      report: (r) => damage.push(r),
    });
    const filler = join(fs!.dir, 'filler');
    writeFileSync(filler, Buffer.alloc(free(fs!.dir) - 200 * 1024, 1));

    let acked = 0;
    let refusal: unknown;
    for (let i = 0; i < 10_000 && refusal === undefined; i++) {
      await writer.write([point(i)]).then(
        () => acked++,
        (err: unknown) => {
          refusal = err;
        },
      );
    }
    expect(refusal).toBeInstanceOf(StorageUnavailableError);
    expect((refusal as Error).message).toBe('disk full on the platform: reading not accepted, retry later');
    expect(acked).toBeGreaterThan(100);
    expect(storage.unavailableReason).toMatch(/disk full/);

    // refused at once, nothing queued; one error line for all of it
    const many = await Promise.allSettled(Array.from({ length: 1000 }, (_, i) => writer.write([point(100_000 + i)])));
    expect(many.every((r) => r.status === 'rejected' && r.reason instanceof StorageUnavailableError)).toBe(true);
    expect(writer.queuedWrites).toBe(0);
    expect(logs.lines.filter((l) => l.level === 50)).toHaveLength(1);

    // probes on the clock keep failing while the disk is full: no new line, still refused
    clock.advance(1000);
    await settle();
    clock.advance(2000);
    await settle();
    expect(storage.unavailableReason).toBeDefined();
    expect(logs.lines.filter((l) => Number(l.level) >= 40)).toHaveLength(1);

    unlinkSync(filler);
    clock.advance(4000);
    await settle();
    expect(storage.unavailableReason).toBeUndefined();
    expect(logs.lines.filter((l) => l.level === 30 && /storage available/.test(String(l.msg)))).toHaveLength(1);
    await writer.write([point(200_000)]);
    expect(storage.snapshot().refused).toBe(1001 + 0);

    // the log holds exactly the acknowledged records, in order, and reads back clean
    const payloads = await logPayloads(log);
    expect(damage).toEqual([]);
    const stamps = payloads.flatMap((r) => decodeRecord(r).map((p) => p.ts - 1_700_000_000_000));
    expect(stamps).toEqual([...Array.from({ length: acked }, (_, i) => i), 200_000]);
    await writer.close();
    await log.close();
  });
});
