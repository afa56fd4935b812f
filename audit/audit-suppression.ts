import type { Clock, TimerHandle } from '../core/clock.ts';
import type { AuditInput } from './audit-entry.ts';
import type { AuditRecorder } from './audit-log.ts';

/**
 * A per-key, per-minute bound on entries of one kind (auth failures per client address), so that a
 * guessing loop cannot turn the audit log (an fsync per group) into its amplifier, without anything
 * vanishing silently: what was held back in a window becomes one `audit.suppressed` entry,
 * "N similar entries suppressed between t1 and t2", written when the window ends (checked every
 * `windowMs` on the clock, and at close).
 */
export interface AuditSuppression {
  /** true: record this one; false: counted into the window's summary */
  admit(key: string): boolean;
  /** writes the summaries of every window that held something back (ended or not); at close */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface AuditSuppressionOptions {
  audit: AuditRecorder;
  clock: Clock;
  /** the action of the entries held back, e.g. auth.failure */
  action: string;
  perWindow: number;
  windowMs?: number;
  maxKeys?: number;
}

interface Window {
  start: number;
  count: number;
  suppressed: number;
  first: number;
  last: number;
}

export const SUPPRESSED_ACTION = 'audit.suppressed';

export function createAuditSuppression(opts: AuditSuppressionOptions): AuditSuppression {
  const windowMs = opts.windowMs ?? 60_000;
  const maxKeys = opts.maxKeys ?? 10_000;
  const windows = new Map<string, Window>();
  // summaries of keys forgotten to keep the map bounded: still written, as one entry
  let overflow: { count: number; keys: number; first: number; last: number } | undefined;

  type Held = { suppressed: number; first: number; last: number };
  const summary = (key: string | undefined, w: Held, keys?: number): AuditInput => {
    const from = new Date(w.first).toISOString();
    const to = new Date(w.last).toISOString();
    return {
      actor: { name: 'platform', role: 'system' },
      ...(key !== undefined ? { address: key } : {}),
      action: SUPPRESSED_ACTION,
      outcome: 'failure',
      target: opts.action,
      details: {
        suppressed: w.suppressed,
        action: opts.action,
        from,
        to,
        ...(keys !== undefined ? { keys } : {}),
        summary: `${w.suppressed} similar ${opts.action} entries suppressed between ${from} and ${to}`,
      },
    };
  };

  const write = (ended: boolean): Promise<unknown> => {
    const now = opts.clock.now();
    const writes: Promise<unknown>[] = [];
    for (const [key, w] of windows) {
      if (ended && now - w.start < windowMs) continue;
      if (w.suppressed > 0) writes.push(opts.audit.record(summary(key, w)));
      windows.delete(key);
    }
    if (overflow) {
      const held = { suppressed: overflow.count, first: overflow.first, last: overflow.last };
      writes.push(opts.audit.record(summary(undefined, held, overflow.keys)));
      overflow = undefined;
    }
    return Promise.all(writes);
  };
  const timer: TimerHandle = opts.clock.setInterval(() => {
    void write(true);
  }, windowMs);

  return {
    admit(key) {
      const now = opts.clock.now();
      let w = windows.get(key);
      if (w && now - w.start >= windowMs) {
        if (w.suppressed > 0) void opts.audit.record(summary(key, w));
        windows.delete(key);
        w = undefined;
      }
      if (!w) {
        if (windows.size >= maxKeys) {
          // the oldest window goes; what it held back is folded into one summary, never dropped
          const [oldKey, old] = windows.entries().next().value!;
          windows.delete(oldKey);
          if (old.suppressed > 0) {
            overflow ??= { count: 0, keys: 0, first: old.first, last: old.last };
            overflow.count += old.suppressed;
            overflow.keys++;
            overflow.first = Math.min(overflow.first, old.first);
            overflow.last = Math.max(overflow.last, old.last);
          }
        }
        w = { start: now, count: 0, suppressed: 0, first: now, last: now };
        windows.set(key, w);
      }
      if (++w.count <= opts.perWindow) return true;
      if (w.suppressed === 0) w.first = now;
      w.suppressed++;
      w.last = now;
      return false;
    },
    async flush() {
      await write(false);
    },
    async close() {
      timer.cancel();
      await write(false);
    },
  };
}
