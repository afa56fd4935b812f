import type { Clock } from '../core/clock.ts';

/**
 * After an abusive disconnect the account (and, if configured, its source address) is refused at CONNECT
 * for a while, so that an abusive device cannot reconnect at once and start over: `baseMs` the first time,
 * doubled at each new abuse up to `maxMs`. The record is forgotten once the key has stayed out of trouble
 * for `maxMs` after its last penalty ended, so a device that misbehaved once long ago starts afresh.
 * Refusals during a penalty never lengthen it: only an abuse by a logged-in client does, so someone who
 * merely knows a device's name cannot keep it out.
 */
export interface PenaltyBounds {
  readonly baseMs: number;
  readonly maxMs: number;
}

export interface Penalty {
  /** when the penalty ends (epoch ms) */
  readonly until: number;
  readonly ms: number;
  /** refusals during this period so far (0 for the first: the caller logs that one) */
  refused: number;
}

const MAX_KEYS = 100_000;

export class AbusePenalties {
  private readonly byKey = new Map<string, Penalty>();

  constructor(
    private readonly bounds: PenaltyBounds,
    private readonly clock: Clock,
  ) {}

  /** Starts (or lengthens) the penalty of `key`; returns it. */
  punish(key: string): Penalty {
    const now = this.clock.now();
    const last = this.byKey.get(key);
    const fresh = !last || now - last.until > this.bounds.maxMs;
    const ms = fresh ? this.bounds.baseMs : Math.min(this.bounds.maxMs, last.ms * 2);
    if (this.byKey.size >= MAX_KEYS) this.forgetOld(now);
    const penalty: Penalty = { until: now + ms, ms, refused: 0 };
    this.byKey.delete(key);
    this.byKey.set(key, penalty);
    return penalty;
  }

  /**
   * Takes a penalty another node started (cluster/shared-broker-limits.ts): running `remainingMs` from now,
   * `ms` long (so a new abuse here doubles it). A longer one already running here is kept.
   */
  adopt(key: string, remainingMs: number, ms: number): void {
    const now = this.clock.now();
    const current = this.byKey.get(key);
    if (current && current.until >= now + remainingMs) return;
    if (this.byKey.size >= MAX_KEYS) this.forgetOld(now);
    this.byKey.delete(key);
    // the longer length stays: a short one from elsewhere must not reset the doubling
    this.byKey.set(key, { until: now + remainingMs, ms: Math.max(current?.ms ?? 0, ms), refused: 0 });
  }

  /** The running penalty of `key`, if any. */
  active(key: string): Penalty | undefined {
    const p = this.byKey.get(key);
    return p && this.clock.now() < p.until ? p : undefined;
  }

  private forgetOld(now: number): void {
    for (const [key, p] of this.byKey) if (now - p.until > this.bounds.maxMs) this.byKey.delete(key);
    // still full: the oldest go first (Map keeps insertion order, and punish re-inserts)
    for (const key of this.byKey.keys()) {
      if (this.byKey.size < MAX_KEYS) break;
      this.byKey.delete(key);
    }
  }
}
