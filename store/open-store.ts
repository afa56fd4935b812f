import type { Logger } from 'pino';
import type { PlatformConfig } from '../config/platform-config.ts';
import { samplesJson } from './range-json.ts';
import { STORE_ADAPTERS, type StoreAdapter } from './store-adapters.ts';
import type { TimeSeriesStore } from './time-series-store.ts';

/** Opens the adapter `store.engine` names (store/store-adapters.ts); an unknown name is refused with the list. */
export async function openStore(
  config: Pick<PlatformConfig, 'dataDir' | 'store'>,
  logger: Logger,
  adapters: readonly StoreAdapter[] = STORE_ADAPTERS,
): Promise<TimeSeriesStore> {
  const adapter = adapters.find((a) => a.engine === config.store.engine);
  if (!adapter) {
    const known = adapters.map((a) => a.engine).join(', ');
    throw new Error(`store.engine "${config.store.engine}" names no store adapter (known: ${known})`);
  }
  return adapter.open(config, logger);
}

/**
 * A store to hand out at once while the real one opens (the embedded store boots a worker thread; InfluxDB
 * may be a network away): calls wait for it. Lets the platform wire its API meanwhile.
 */
export function deferredStore(name: string, opening: Promise<TimeSeriesStore>): TimeSeriesStore {
  let real: TimeSeriesStore | undefined;
  void opening.then(
    (s) => {
      real = s;
    },
    () => undefined,
  );
  return {
    name,
    write: async (points) => (await opening).write(points),
    queryRange: async (q) => (await opening).queryRange(q),
    queryRangeJson: async (q) => {
      const s = await opening;
      return s.queryRangeJson
        ? s.queryRangeJson(q)
        : samplesJson(await s.queryRange({ ...q, limit: q.limit + 1 }), q.limit);
    },
    aggregate: async (q) => (await opening).aggregate(q),
    latest: async (q) => (await opening).latest(q),
    queryPoints: async (q) => (await opening).queryPoints(q),
    runLifecycle: async (job, now) => (await opening).runLifecycle?.(job, now) ?? {},
    state: () => real?.state?.() ?? {},
    threadHeaps: async () => (real?.threadHeaps ? real.threadHeaps() : []),
    close: async () => (await opening).close(),
  };
}
