import { z } from 'zod';
import { parseDuration } from '../core/duration.ts';

/**
 * How long the store keeps what (store.lifecycle in the platform config): raw readings per sensor kind,
 * the 1-minute and 1-hour roll-ups, and the cron schedules of the jobs that maintain them. The embedded
 * store applies it itself; on InfluxDB `ioc store setup-retention` creates the same policy
 * (docs/influxdb.md).
 */
const YEAR_MS = 365 * 86_400_000;

/** '90d', '2y', '36h' or 'forever'; kept as ms (0 = forever). */
const keep = z.string().transform((text, ctx) => {
  if (text === 'forever') return 0;
  const years = /^(\d+)y$/.exec(text);
  const ms = years ? Number(years[1]) * YEAR_MS : parseDuration(text);
  if (ms === undefined || ms < 3_600_000) {
    ctx.addIssue({ code: 'custom', message: `a retention such as 90d, 2y or forever (at least 1h), got "${text}"` });
    return z.NEVER;
  }
  return ms;
});

const DAY_MS = 86_400_000;
const DEFAULT_RAW_MS: Record<string, number> = {
  air: 90 * DAY_MS,
  water: 365 * DAY_MS,
  traffic: 90 * DAY_MS,
  camera: 90 * DAY_MS,
};

const cron = z.string().regex(/^\S+( \S+){4}$/, 'a five-field cron pattern such as "* * * * *"');

export const storeLifecycleSchema = z
  .object({
    // read-only SQLite connections beside the writer, each in a worker thread (embedded store)
    readers: z.number().int().min(0).max(16).default(2),
    retention: z
      .object({
        // per sensor kind; kinds listed here replace their default, the others keep it; a kind without one is kept
        raw: z
          .record(z.string(), keep)
          .prefault({})
          .transform((given) => ({ ...DEFAULT_RAW_MS, ...given })),
        rollup1m: keep.prefault('1y'),
        rollup1h: keep.prefault('forever'),
      })
      .strict()
      .prefault({}),
    schedule: z
      .object({ rollup: cron.default('* * * * *'), retention: cron.default('7 * * * *') })
      .strict()
      .prefault({}),
  })
  .strict();

export type StoreLifecycleConfig = z.output<typeof storeLifecycleSchema>;
export const STORE_LIFECYCLE_DEFAULTS: StoreLifecycleConfig = storeLifecycleSchema.parse({});

export { YEAR_MS };
