import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `<dataDir>/platform.pid` says a platform runs on this data directory, so `ioc restore` refuses to
 * replace it under a running process. A file left by a process that died (SIGKILL, power loss) names a
 * pid that no longer runs and is ignored.
 */
const LOCK_FILE = 'platform.pid';

export function markDataDirInUse(dataDir: string): () => void {
  const file = join(dataDir, LOCK_FILE);
  writeFileSync(file, `${process.pid}\n`);
  return () => {
    // only our own mark: a second platform started on the same directory keeps its own
    if (runningPid(dataDir) === process.pid) rmSync(file, { force: true });
  };
}

/** The pid of the platform running on the directory, if one does. */
export function runningPid(dataDir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, LOCK_FILE), 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    // EPERM: it runs, under another user
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

export const DATA_DIR_LOCK_FILE = LOCK_FILE;
