import { createManualClock, type ManualClock } from '../core/clock.ts';
import { CommitLog, type LogDamageSink } from '../store/commit-log.ts';
import { DurableWriter } from '../store/durable-writer.ts';
import { probeWritable } from '../store/storage-probe.ts';
import { StorageState } from '../store/storage-state.ts';
import { captureLogs } from './log-capture.ts';

/**
 * The platform's write path to the commit log as it runs, in simulated time, for tests of a disk that fails
 * (full, I/O errors): a log in `dir`, its writer with the storage state and the real probe, and the lines logged.
 */
export function writerOnDisk(dir: string, segmentBytes: number, maxBytes: number, damage?: LogDamageSink) {
  const clock: ManualClock = createManualClock();
  const logs = captureLogs('info');
  const storage = new StorageState(logs.logger, () => clock.now());
  const log = CommitLog.open({ dir, segmentBytes, damage });
  const writer = new DurableWriter({
    log,
    maxBytes,
    clock,
    logger: logs.logger,
    storage,
    probe: () => probeWritable(dir, segmentBytes),
  });
  return { clock, logs, storage, log, writer };
}

/** Every record the log holds, oldest first, as text: what a restart would replay. */
export async function logPayloads(log: CommitLog): Promise<string[]> {
  const out: string[] = [];
  for (let at = log.tail; ; ) {
    const records = await log.read(at, 1024 * 1024);
    if (records.length === 0) return out;
    for (const r of records) out.push(r.payload.toString());
    at = records[records.length - 1]!.next;
  }
}

/** Lets the writer's promise chains (real file I/O) run without moving simulated time. */
export const settle = (ms = 50) => new Promise((r) => setTimeout(r, ms));
