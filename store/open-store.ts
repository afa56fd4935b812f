import { join } from 'node:path';
import type { Logger } from 'pino';
import type { PlatformConfig } from '../config/platform-config.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import type { TimeSeriesStore } from './time-series-store.ts';

/** Opens the configured store adapter. */
export async function openStore(config: PlatformConfig, logger: Logger): Promise<TimeSeriesStore> {
  if (config.store.kind === 'embedded') {
    const file = join(config.dataDir, 'ioc.sqlite');
    logger.debug({ file }, 'opening the embedded store');
    return SqliteStore.open(file);
  }
  const { openInfluxStore } = await import('./influxdb/influxdb-store.ts');
  return openInfluxStore(config.store.influxdb!, logger);
}
