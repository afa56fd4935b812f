import { afterAll } from 'vitest';
import pino from 'pino';
import { influxSchema } from '../../config/platform-config.ts';
import { startInfluxd, type InfluxServer } from '../../test-support/influxd.ts';
import { describeStoreConformance } from '../store-conformance.ts';
import { openInfluxStore } from './influxdb-store.ts';

// The conformance suite against a real InfluxDB (Debian's influxd, or IOC_TEST_INFLUX_URL).
let server: InfluxServer | undefined;
afterAll(async () => {
  await server?.dispose();
});

describeStoreConformance('influxdb', async () => {
  server = await startInfluxd();
  const config = influxSchema.parse({ url: server.url, database: `ioc_conformance_${process.pid}` });
  const store = await openInfluxStore(config, pino({ level: 'silent' }));
  return { store, cleanup: () => store.close() };
});
