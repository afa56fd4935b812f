import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One writer per audit directory: two writers would fork the chain (both would take the same seq).
 * The platform holds `audit.lock` (its pid) while it runs; the command line, finding it held, leaves
 * its entries in pending/ for the platform to chain in (audit-pending.ts).
 */
const LOCK_FILE = 'audit.lock';
const heldHere = new Set<string>();

/**
 * When a process started, in clock ticks since boot (Linux's /proc/<pid>/stat field 22); undefined where
 * /proc is not there. With the pid it names one process for good: after a crash and a reboot, or in a
 * container where the platform is always pid 1, a new process may carry the dead writer's pid.
 */
function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // after the command name (which may hold spaces and parentheses): state is field 3, starttime field 22
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether the lock's writer still runs: its pid is alive and, where the lock says, started when it did. */
function holderAlive(pid: number, started: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (started === undefined) return true;
  const now = startTicks(pid);
  return now === undefined || now === started;
}

/** true when this process now holds the lock; false when a live writer holds it. */
export function acquireAuditLock(dir: string): boolean {
  const file = join(dir, LOCK_FILE);
  if (heldHere.has(file)) return false;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      const started = startTicks(process.pid);
      writeSync(fd, started === undefined ? String(process.pid) : `${process.pid} ${started}`);
      closeSync(fd);
      heldHere.add(file);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const [pidText, started] = readFileSync(file, 'utf8').trim().split(' ');
      const pid = Number(pidText);
      // a lock left by a process that died (or by an earlier run of this one, since released, or by a dead
      // process whose pid another one now has) is stale
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && holderAlive(pid, started)) return false;
      unlinkSync(file);
    }
  }
  return false;
}

export function releaseAuditLock(dir: string): void {
  const file = join(dir, LOCK_FILE);
  if (!heldHere.delete(file)) return;
  try {
    unlinkSync(file);
  } catch {
    // already gone: nothing to release
  }
}
