import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../config/config-error.ts';
import { loadPlatformConfig } from '../../config/platform-config.ts';

/** The store.influxdb keys as docs/influxdb.md lists them, from the file's defaults and IOC_INFLUX_* overrides. */
describe('InfluxDB configuration', () => {
  it('takes every documented IOC_INFLUX_* override', () => {
    const config = loadPlatformConfig({
      env: {
        IOC_STORE: 'influxdb',
        IOC_INFLUX_URL: 'http://influx.hue.gov.vn:8086',
        IOC_INFLUX_DATABASE: 'hue',
        IOC_INFLUX_USERNAME: 'ioc',
        IOC_INFLUX_PASSWORD: 's3cret',
        IOC_INFLUX_TOKEN: 'tok',
        IOC_INFLUX_ORG: 'hue',
        IOC_INFLUX_BUCKET: 'readings',
        IOC_INFLUX_BATCH_SIZE: '2000',
        IOC_INFLUX_FLUSH_INTERVAL_MS: '250',
        IOC_INFLUX_RETENTION_POLICY: 'raw',
      },
    });
    expect(config.store.engine).toBe('influxdb');
    expect(config.store.influxdb).toMatchObject({
      url: 'http://influx.hue.gov.vn:8086',
      database: 'hue',
      username: 'ioc',
      password: 's3cret',
      token: 'tok',
      org: 'hue',
      bucket: 'readings',
      batchSize: 2000,
      flushIntervalMs: 250,
      retentionPolicy: 'raw',
    });
  });

  it('fills the defaults when only the store engine is chosen', () => {
    const config = loadPlatformConfig({ env: { IOC_STORE: 'influxdb' } });
    expect(config.store.influxdb).toEqual({
      url: 'http://127.0.0.1:8086',
      database: 'ioc',
      batchSize: 5000,
      flushIntervalMs: 200,
      timeoutMs: 10_000,
      writeRetries: 2,
      gzip: false,
      createDatabase: true,
      retention: {},
    });
  });

  it('names the key of a wrong retention duration', () => {
    expect(() =>
      loadPlatformConfig({
        env: {},
        overrides: { store: { engine: 'influxdb', influxdb: { retention: { duration: '90 days' } } } },
      }),
    ).toThrow(ConfigError);
    expect(() =>
      loadPlatformConfig({
        env: {},
        overrides: { store: { engine: 'influxdb', influxdb: { retention: { duration: '90 days' } } } },
      }),
    ).toThrow(/store\.influxdb\.retention\.duration: expected an InfluxQL duration/);
  });
});
