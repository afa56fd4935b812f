import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatProcessMark, ownProcessMark, parseProcessMark, processRuns } from '../core/process-mark.ts';

/**
 * `<dataDir>/platform.pid` says a platform runs on this data directory, so `ioc restore` refuses to
 * replace it under a running process. It names the process by pid and start time: a file left by a process
 * that died (SIGKILL, power loss) names a process that no longer runs and is ignored, even when another
 * process has since been given the same pid.
 */
const LOCK_FILE = 'platform.pid';

export function markDataDirInUse(dataDir: string): () => void {
  const file = join(dataDir, LOCK_FILE);
  writeFileSync(file, `${formatProcessMark(ownProcessMark())}\n`);
  return () => {
    // only our own mark: a second platform started on the same directory keeps its own
    if (runningPid(dataDir) === process.pid) rmSync(file, { force: true });
  };
}

/** The pid of the platform running on the directory, if one does. */
export function runningPid(dataDir: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(join(dataDir, LOCK_FILE), 'utf8');
  } catch {
    return undefined;
  }
  const mark = parseProcessMark(text);
  return mark && processRuns(mark) ? mark.pid : undefined;
}

export const DATA_DIR_LOCK_FILE = LOCK_FILE;
