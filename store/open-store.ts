import { join } from 'node:path';
import type { Logger } from 'pino';
import type { PlatformConfig } from '../config/platform-config.ts';
import { samplesJson } from './range-json.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import type { TimeSeriesStore } from './time-series-store.ts';

/** Opens the configured store adapter. */
export async function openStore(config: PlatformConfig, logger: Logger): Promise<TimeSeriesStore> {
  if (config.store.engine === 'embedded') {
    const file = join(config.dataDir, 'ioc.sqlite');
    logger.debug({ file }, 'opening the embedded store');
    const { lifecycle } = config.store;
    return SqliteStore.open(file, {
      readers: lifecycle.readers,
      policy: {
        rawKeepMs: lifecycle.retention.raw,
        rollup1mKeepMs: lifecycle.retention.rollup1m,
        rollup1hKeepMs: lifecycle.retention.rollup1h,
        maxSpanMs: 6 * 3_600_000,
      },
    });
  }
  const { openInfluxStore } = await import('./influxdb/influxdb-store.ts');
  return openInfluxStore(config.store.influxdb!, logger);
}

/**
 * A store to hand out at once while the real one opens (the embedded store boots a worker thread; InfluxDB
 * may be a network away): calls wait for it. Lets the platform wire its API meanwhile.
 */
export function deferredStore(name: string, opening: Promise<TimeSeriesStore>): TimeSeriesStore {
  let real: TimeSeriesStore | undefined;
  void opening.then((s) => { real = s; }, () => undefined);
  return {
    name,
    write: async (points) => (await opening).write(points),
    queryRange: async (q) => (await opening).queryRange(q),
    queryRangeJson: async (q) => {
      const s = await opening;
      return s.queryRangeJson ? s.queryRangeJson(q) : samplesJson(await s.queryRange({ ...q, limit: q.limit + 1 }), q.limit);
    },
    aggregate: async (q) => (await opening).aggregate(q),
    latest: async (q) => (await opening).latest(q),
    queryPoints: async (q) => (await opening).queryPoints(q),
    runLifecycle: async (job, now) => (await opening).runLifecycle?.(job, now) ?? {},
    state: () => real?.state?.() ?? {},
    close: async () => (await opening).close(),
  };
}
