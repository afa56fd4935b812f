import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { formatProcessMark, ownProcessMark, parseProcessMark, processRuns } from '../core/process-mark.ts';

/**
 * One writer per audit directory: two writers would fork the chain (both would take the same seq).
 * The platform holds `audit.lock` (its pid and start time) while it runs; the command line, finding it held,
 * leaves its entries in pending/ for the platform to chain in (audit-pending.ts).
 */
const LOCK_FILE = 'audit.lock';
const heldHere = new Set<string>();

/** true when this process now holds the lock; false when a live writer holds it. */
export function acquireAuditLock(dir: string): boolean {
  const file = join(dir, LOCK_FILE);
  if (heldHere.has(file)) return false;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, formatProcessMark(ownProcessMark()));
      closeSync(fd);
      heldHere.add(file);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = parseProcessMark(readFileSync(file, 'utf8'));
      // a lock left by a process that died (or by an earlier run of this one, since released, or by a dead
      // process whose pid another one now has) is stale
      if (holder && holder.pid !== process.pid && processRuns(holder)) return false;
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
