import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One writer per audit directory: two writers would fork the chain (both would take the same seq).
 * The platform holds `audit.lock` (its pid) while it runs; the command line, finding it held, leaves
 * its entries in pending/ for the platform to chain in (audit-pending.ts).
 */
const LOCK_FILE = 'audit.lock';
const heldHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** true when this process now holds the lock; false when a live writer holds it. */
export function acquireAuditLock(dir: string): boolean {
  const file = join(dir, LOCK_FILE);
  if (heldHere.has(file)) return false;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      heldHere.add(file);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8').trim());
      // a lock left by a process that died (or by an earlier run of this one, since released) is stale
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) return false;
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
