import { readFileSync } from 'node:fs';

/**
 * A process named for good: its pid and when it started. A pid alone is not enough to tell whether the process
 * that wrote a lock or pid file still runs: after a crash and a reboot, or in a container where the platform is
 * always pid 1, another process may carry the dead one's pid. The start time is field 22 of /proc/<pid>/stat
 * (clock ticks since boot); where /proc is missing, the pid alone is all there is.
 */
export interface ProcessMark {
  pid: number;
  started?: string;
}

function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // after the command name (which may hold spaces and parentheses): state is field 3, starttime field 22
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export function ownProcessMark(): ProcessMark {
  return { pid: process.pid, started: startTicks(process.pid) };
}

/** `pid` or `pid started`, as written into lock and pid files. */
export function formatProcessMark(mark: ProcessMark): string {
  return mark.started === undefined ? String(mark.pid) : `${mark.pid} ${mark.started}`;
}

/** Reads what formatProcessMark wrote (older files hold a pid alone); undefined for anything else. */
export function parseProcessMark(text: string): ProcessMark | undefined {
  const [pidText, started, ...rest] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0 || rest.length > 0) return undefined;
  if (started !== undefined && !/^\d+$/.test(started)) return undefined;
  return { pid, started };
}

/** Whether the marked process still runs: its pid is alive and, where the mark says, started when it did. */
export function processRuns(mark: ProcessMark): boolean {
  try {
    process.kill(mark.pid, 0);
  } catch (err) {
    // EPERM: it runs, under another user
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (mark.started === undefined) return true;
  const now = startTicks(mark.pid);
  return now === undefined || now === mark.started;
}
