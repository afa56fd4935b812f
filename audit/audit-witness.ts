import type { Clock, TimerHandle } from '../core/clock.ts';

/**
 * The chain's head, written to the platform log every `everyEntries` durable entries or `everyMs` (if
 * anything was written since): one info line `audit: chain head` with seq and hash. A log collector
 * off the host then holds witnesses that a rewrite of the audit files (even by someone holding the key),
 * or a cut of their end, cannot match: compare a witnessed seq and hash with `ioc audit verify` or
 * `GET /api/audit/verify`.
 */
export interface AuditWitness {
  /** the last entry of a group just made durable */
  written(head: { seq: number; hash: string }): void;
  close(): void;
}

export interface AuditWitnessOptions {
  clock: Clock;
  logger: { info(obj: object, msg: string): void };
  everyEntries: number;
  everyMs: number;
}

export function createAuditWitness(opts: AuditWitnessOptions): AuditWitness {
  let head: { seq: number; hash: string } | undefined;
  let witnessedSeq = 0;
  const say = () => {
    if (!head || head.seq === witnessedSeq) return;
    witnessedSeq = head.seq;
    opts.logger.info({ auditHead: { seq: head.seq, hash: head.hash } }, 'audit: chain head');
  };
  const timer: TimerHandle = opts.clock.setInterval(say, opts.everyMs);
  return {
    written(last) {
      if (witnessedSeq === 0 && !head) witnessedSeq = Math.max(0, last.seq - 1); // counts from the first group
      head = last;
      if (last.seq - witnessedSeq >= opts.everyEntries) say();
    },
    close() {
      timer.cancel();
      say(); // the head at shutdown
    },
  };
}
