import type { Clock } from '../core/clock.ts';
import type { AuditInput } from './audit-entry.ts';
import type { AuditRecorder } from './audit-log.ts';
import { createAuditSuppression } from './audit-suppression.ts';

/**
 * Refusals an outsider can repeat at will (sign-ins over their limit, provisioning claims over theirs, MQTT
 * CONNECTs refused) are audited, but through the per-key bound of audit-suppression.ts: `perWindow` entries
 * per key (the client's address) and minute, the rest summed into one `audit.suppressed` entry, so a
 * guessing loop cannot make the audit log (an fsync per group) its amplifier and nothing vanishes silently.
 */
export interface BoundedAudit {
  /** records `input` unless `key` spent its window; true when written, false when only counted */
  record(key: string, input: AuditInput): boolean;
  /** writes what is held back and stops the window timer (at shutdown, before the audit log closes) */
  close(): Promise<void>;
}

export function createBoundedAudit(opts: {
  audit: AuditRecorder | undefined;
  clock: Clock;
  /** the action of the entries bounded: each kind its own windows and summaries */
  action: string;
  perWindow: number;
}): BoundedAudit {
  const { audit } = opts;
  if (!audit) return { record: () => false, close: async () => undefined };
  const bound = createAuditSuppression({
    audit,
    clock: opts.clock,
    action: opts.action,
    perWindow: opts.perWindow,
  });
  return {
    record(key, input) {
      if (!bound.admit(key)) return false;
      void audit.record({ ...input, action: opts.action });
      return true;
    },
    close: () => bound.close(),
  };
}
