import { createTask, type ScheduledTask } from 'node-cron';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { LifecycleJob, TimeSeriesStore } from './time-series-store.ts';

/**
 * The store's scheduled jobs: roll-ups and retention, on cron schedules (node-cron parses and matches
 * the patterns) evaluated on the injected clock, so tests run a year of jobs in simulated time. A job
 * never overlaps itself; a roll-up that reports it is `behind` (a long backlog, a migrated store) runs
 * again on the next tick of the clock rather than waiting for its next scheduled minute.
 */
export interface LifecycleSchedule {
  /** five-field cron patterns, e.g. '* * * * *' (every minute) and '7 * * * *' (hourly) */
  readonly rollup: string;
  readonly retention: string;
}

interface JobsLogger {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface LifecycleJobs {
  /** runs one job now (and waits for it); what the scheduler would run */
  run(job: LifecycleJob): Promise<void>;
  stop(): void;
}

const TICK_MS = 60_000;
const CATCH_UP_MS = 1000;

export function startLifecycleJobs(deps: {
  store: TimeSeriesStore;
  clock: Clock;
  schedule: LifecycleSchedule;
  logger: JobsLogger;
}): LifecycleJobs {
  const { store, clock, logger } = deps;
  const patterns: Record<LifecycleJob, ScheduledTask> = {
    // never started: node-cron's own timers run on the wall clock; only its matcher is used
    rollup: createTask(deps.schedule.rollup, () => undefined, { timezone: 'UTC' }),
    retention: createTask(deps.schedule.retention, () => undefined, { timezone: 'UTC' }),
  };
  const running = new Map<LifecycleJob, Promise<void>>();
  let lastMinute = -1;
  let catchUp: TimerHandle | undefined;
  let failing: Record<LifecycleJob, string | null> = { rollup: null, retention: null };

  const run = (job: LifecycleJob): Promise<void> => {
    const current = running.get(job);
    if (current) return current;
    if (!store.runLifecycle) return Promise.resolve();
    const started = clock.now();
    const done = store
      .runLifecycle(job, started)
      .then(
        (report) => {
          if (failing[job]) logger.info({ job }, 'the store lifecycle job works again');
          failing = { ...failing, [job]: null };
          if (job === 'retention') logger.info({ job, ...report }, 'store retention applied');
          if (report.behind) {
            // more backlog to roll up: again soon, on the injected clock, without waiting for the next minute
            catchUp?.cancel();
            catchUp = clock.setTimeout(() => {
              void run('rollup');
            }, CATCH_UP_MS);
          }
        },
        (err: unknown) => {
          const message = (err as Error).message;
          // once per change: a job failing every minute does not flood the log
          if (failing[job] !== message)
            logger.error({ job, err: message }, 'a store lifecycle job failed; it runs again on schedule');
          failing = { ...failing, [job]: message };
        },
      )
      .finally(() => running.delete(job));
    running.set(job, done);
    return done;
  };

  const tick = (): void => {
    const minute = Math.floor(clock.now() / TICK_MS) * TICK_MS;
    if (minute === lastMinute) return;
    lastMinute = minute;
    const at = new Date(minute);
    for (const job of ['rollup', 'retention'] as const) if (patterns[job].match(at)) void run(job);
  };
  const timer = clock.setInterval(tick, TICK_MS);

  return {
    run,
    stop() {
      timer.cancel();
      catchUp?.cancel();
      for (const task of Object.values(patterns)) void task.destroy();
    },
  };
}
