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
