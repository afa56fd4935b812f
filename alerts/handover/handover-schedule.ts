import { createTask, type ScheduledTask } from 'node-cron';
import type { Clock, TimerHandle } from '../../core/clock.ts';

/**
 * Shift changes on the injected clock: node-cron parses and matches the expression in the city's time
 * zone (its own wall-clock timers are never started, as in silence-schedule.ts); one clock timer waits
 * for the next matching minute. Each run gets the shift that just ended: from the previous shift change
 * (the last match before this one) to now.
 */
const MIN = 60_000;
/** shift changes are at most this far apart (an expression matching less often is refused) */
const HORIZON_MIN = 8 * 24 * 60;

export interface ShiftSchedule {
  stop(): void;
  nextAt(): number | undefined;
}

export function nextMatch(task: ScheduledTask, after: number): number | undefined {
  const first = Math.floor(after / MIN) * MIN + MIN;
  for (let m = first, i = 0; i < HORIZON_MIN; m += MIN, i++) if (task.match(new Date(m))) return m;
  return undefined;
}

export function previousMatch(task: ScheduledTask, before: number): number | undefined {
  const last = Math.ceil(before / MIN) * MIN - MIN;
  for (let m = last, i = 0; i < HORIZON_MIN; m -= MIN, i++) if (task.match(new Date(m))) return m;
  return undefined;
}

/** `cron` is validated by config (platform-config.ts) before it gets here */
export function scheduleShiftChanges(
  cron: string,
  timezone: string,
  clock: Clock,
  run: (shift: { from: number; to: number }) => void,
): ShiftSchedule {
  const task = createTask(cron, () => undefined, { timezone });
  let timer: TimerHandle | undefined;
  let at: number | undefined;
  const arm = (after: number): void => {
    at = nextMatch(task, after);
    if (at === undefined) return;
    const due = at;
    timer = clock.setTimeout(
      () => {
        const from = previousMatch(task, due) ?? due - 8 * 60 * MIN;
        arm(due);
        run({ from, to: due });
      },
      Math.max(0, due - clock.now()),
    );
  };
  arm(clock.now());
  return {
    stop() {
      timer?.cancel();
      void task.destroy();
    },
    nextAt: () => at,
  };
}
