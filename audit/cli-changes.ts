import { userInfo } from 'node:os';
import type { AuditInput } from './audit-entry.ts';
import { auditDirOf } from './audit-files.ts';
import { writePendingEntry } from './audit-pending.ts';

/**
 * A change made on the command line (`ioc accounts ...`, `ioc credentials ...`): the CLI cannot write the
 * log a running platform holds, so it leaves a pending entry that the platform chains in (at once if it is
 * running, at its next start otherwise). Who: the operating-system user that ran the command, role `cli`.
 */
export function recordCliChange(
  dataDir: string,
  change: Pick<AuditInput, 'action' | 'target' | 'details'>,
  now = Date.now(),
): void {
  let user = 'unknown';
  try {
    user = userInfo().username || user;
  } catch {
    // no passwd entry (some containers): the entry still says it came from the command line
  }
  writePendingEntry(
    auditDirOf(dataDir),
    { actor: { name: `cli:${user}`, role: 'cli' }, address: 'local', ...change },
    now,
  );
}
