import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Change, RuleEngine } from './rule-engine.ts';

/**
 * The clock side of the rules: one timer per (rule, sensor) pair that may change without an event (a
 * `for` falling due, silence reached, a camera window emptying), at the time the rule type asks for. A
 * timer that finds nothing due re-arms itself, so a timer never needs moving later.
 */
export class AlertScheduler {
  private readonly timers = new Map<string, { at: number; handle: TimerHandle }>();

  constructor(
    private readonly engine: RuleEngine,
    private readonly clock: Clock,
    private readonly onChanges: (changes: readonly Change[]) => void,
  ) {}

  /** (Re)arms the pair's timer for its next check, or drops it when it has none. */
  schedule(key: string): void {
    const at = this.engine.nextCheckAt(key);
    const existing = this.timers.get(key);
    if (at === undefined) {
      existing?.handle.cancel();
      this.timers.delete(key);
      return;
    }
    if (existing && existing.at <= at) return;
    existing?.handle.cancel();
    const handle = this.clock.setTimeout(
      () => {
        this.timers.delete(key);
        this.onChanges(this.engine.onTimer(key, this.clock.now()));
        this.schedule(key);
      },
      Math.max(0, at - this.clock.now()),
    );
    this.timers.set(key, { at, handle });
  }

  /** After a rule set change: timers of pairs that are gone stop, every pair is scheduled. */
  rescheduleAll(): void {
    for (const key of [...this.timers.keys()]) {
      if (!this.engine.has(key)) {
        this.timers.get(key)!.handle.cancel();
        this.timers.delete(key);
      }
    }
    for (const key of this.engine.keys()) this.schedule(key);
  }

  stop(): void {
    for (const t of this.timers.values()) t.handle.cancel();
    this.timers.clear();
  }
}
