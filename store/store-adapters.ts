import { join } from 'node:path';
import type { Logger } from 'pino';
import type { PlatformConfig } from '../config/platform-config.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import type { TimeSeriesStore } from './time-series-store.ts';

/**
 * The store adapters the platform can open, chosen by `store.engine` in the config. A new adapter is one
 * file that implements TimeSeriesStore (passing store-conformance.ts) and exports a StoreAdapter, plus
 * one line in STORE_ADAPTERS; nothing else switches on the adapter's name. docs/ARCHITECTURE.md, "Add a
 * store".
 */
export interface StoreAdapter {
  /** the value of `store.engine` (IOC_STORE) that selects it */
  readonly engine: string;
  open(config: Pick<PlatformConfig, 'dataDir' | 'store'>, logger: Logger): Promise<TimeSeriesStore>;
}

export const embeddedStoreAdapter: StoreAdapter = {
  engine: 'embedded',
  open(config, logger) {
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
  },
};

export const influxdbStoreAdapter: StoreAdapter = {
  engine: 'influxdb',
  async open(config, logger) {
    // loaded only when chosen: the embedded default never pulls in the InfluxDB client
    const { openInfluxStore } = await import('./influxdb/influxdb-store.ts');
    if (!config.store.influxdb) throw new Error('store.engine is influxdb but store.influxdb is not configured');
    return openInfluxStore(config.store.influxdb, logger);
  },
};

export const STORE_ADAPTERS: readonly StoreAdapter[] = [embeddedStoreAdapter, influxdbStoreAdapter];
