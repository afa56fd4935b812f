import type { Clock } from '../core/clock.ts';

/**
 * Callers waiting for a counter that only grows (a log offset, a count of finished writes) to reach
 * their target, each with a timeout on the clock. The owner calls `reached` as the counter moves.
 */
export class ProgressWaiters {
  private waiters: Array<{ target: number; resolve: (reached: boolean) => void }> = [];

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.waiters.length;
  }

  /**
   * Resolves true once `reached` reports `target` or more, false after `timeoutMs`; without one, waits as
   * long as it takes (for an owner whose counter always moves on, e.g. past a failed write).
   */
  wait(current: number, target: number, timeoutMs?: number): Promise<boolean> {
    if (current >= target) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : this.clock.setTimeout(() => {
              this.waiters = this.waiters.filter((w) => w !== entry);
              resolve(false);
            }, timeoutMs);
      const entry = {
        target,
        resolve: (ok: boolean) => {
          timer?.cancel();
          resolve(ok);
        },
      };
      this.waiters.push(entry);
    });
  }

  reached(value: number): void {
    if (this.waiters.length === 0) return;
    const due = this.waiters.filter((w) => w.target <= value);
    this.waiters = this.waiters.filter((w) => w.target > value);
    for (const w of due) w.resolve(true);
  }
}
