import { createTask, type ScheduledTask } from 'node-cron';
import type { Silence } from './silence-model.ts';

const MINUTE = 60_000;

/**
 * When a silence is in force, on the injected clock. node-cron parses and matches the expression (in the
 * city's time zone); its own timers are never started, since they run on the wall clock: a scheduled window
 * is open at `t` when the expression matched some minute in (t - duration, t]. The last window found is
 * remembered, so asking again inside it costs nothing.
 */
export class SilenceSchedule {
  private readonly task: ScheduledTask | undefined;
  private window: { from: number; to: number } | undefined;

  constructor(
    private readonly silence: Silence,
    timezone: string,
  ) {
    if (silence.cron) this.task = createTask(silence.cron, () => undefined, { timezone });
  }

  /** In force at `t`: the window (from, to) it is in, or undefined. */
  activeAt(t: number): { from: number; to: number } | undefined {
    const s = this.silence;
    if (s.endedAt !== undefined && t >= s.endedAt) return undefined;
    if (!this.task) {
      const from = s.startsAt ?? s.createdAt;
      const to = Math.min(s.endsAt ?? Infinity, s.endedAt ?? Infinity);
      return t >= from && t < to ? { from, to } : undefined;
    }
    if (s.until !== undefined && t >= s.until) return undefined;
    if (this.window && t >= this.window.from && t < this.window.to) return this.window;
    const length = (s.durationMinutes ?? 0) * MINUTE;
    // the latest matching minute at or before t opens the window t may be in
    const last = Math.floor(t / MINUTE) * MINUTE;
    for (let m = last; m > t - length; m -= MINUTE) {
      if (this.task.match(new Date(m))) {
        this.window = { from: m, to: Math.min(m + length, s.until ?? Infinity, s.endedAt ?? Infinity) };
        return t < this.window.to ? this.window : undefined;
      }
    }
    return undefined;
  }

  dispose(): void {
    void this.task?.destroy();
  }
}
