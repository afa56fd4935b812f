import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInfluxd, type InfluxServer } from '../../test-support/influxd.ts';
import { InfluxHttp } from './influx-http.ts';
import { downsampleQuery } from './influx-retention.ts';
import { capturingLogger, freshDatabase, influxConfig } from './influx-test-helpers.ts';
import { openInfluxStore } from './influxdb-store.ts';

const HOUR = 3_600_000;
const T = Date.UTC(2026, 9, 1);

describe('InfluxDB 1.x retention and downsampling', () => {
  let server: InfluxServer;
  let http: InfluxHttp;
  beforeAll(async () => {
    server = await startInfluxd();
    http = new InfluxHttp(influxConfig({ url: server.url }));
  });
  afterAll(() => server?.dispose());

  const policies = async (db: string) => {
    const { series } = await http.run(`SHOW RETENTION POLICIES ON "${db}"`, { db });
    return Object.fromEntries(series[0]!.values.map((row) => [row[0], { duration: row[1], isDefault: row[4] }]));
  };

  it('creates the configured retention policy and the downsampling policy with its continuous query', async () => {
    const database = freshDatabase('retention');
    const { logger } = capturingLogger();
    const config = influxConfig({
      url: server.url,
      database,
      retentionPolicy: 'raw',
      retention: { duration: '30d', downsample: { every: '1h', keep: '400d' } },
    });
    const store = await openInfluxStore(config, logger);
    expect(await policies(database)).toMatchObject({
      raw: { duration: '720h0m0s' },
      downsampled_1h: { duration: '9600h0m0s' },
    });
    const { series } = await http.run('SHOW CONTINUOUS QUERIES', { db: database });
    const mine = series.find((s) => s.name === database)!;
    expect(mine.values).toEqual([['ioc_downsample_1h', downsampleQuery(database, 'raw', '1h').replace(/"/g, '')]]);
    // opening again with the same configuration changes nothing
    const again = capturingLogger();
    await openInfluxStore(config, again.logger);
    expect(again.lines.map((l) => l.msg).filter((m) => /created|changed|replaced/.test(m))).toEqual([]);

    // the store writes to and reads from the configured policy
    // (inside its 30 days; an older point is refused by InfluxDB and counted as rejected)
    const recent = Math.floor(Date.now() / 1000) * 1000 - HOUR;
    await store.write([
      {
        measurement: 'air',
        tags: { sensorId: 'rp-a', kind: 'air', district: 'An Cựu' },
        fields: { pm25: 7 },
        ts: recent,
      },
      {
        measurement: 'air',
        tags: { sensorId: 'rp-a', kind: 'air', district: 'An Cựu' },
        fields: { pm25: 8 },
        ts: recent - 40 * 24 * HOUR,
      },
    ]);
    expect(
      await store.queryRange({
        measurement: 'air',
        sensorId: 'rp-a',
        field: 'pm25',
        from: recent - 50 * 24 * HOUR,
        to: recent + 1,
      }),
    ).toEqual([{ ts: recent, value: 7 }]);
    expect(store.state().pointsRejected).toBe(1);
    const [counted] = await http.query([`SELECT count("pm25") FROM "raw"."air"`], { db: database });
    expect(counted!.series[0]!.values[0]![1]).toBe(1);
  });

  it('alters the duration when the configuration changes, and replaces a changed continuous query', async () => {
    const database = freshDatabase('retention');
    const { logger } = capturingLogger();
    await openInfluxStore(
      influxConfig({
        url: server.url,
        database,
        retention: { duration: '30d', downsample: { every: '1h', keep: '400d' } },
      }),
      logger,
    );
    const changed = capturingLogger();
    await openInfluxStore(
      influxConfig({
        url: server.url,
        database,
        retention: { duration: '90d', downsample: { every: '1h', keep: '800d' } },
      }),
      changed.logger,
    );
    expect(changed.lines.map((l) => l.msg)).toContain('changed the duration of the InfluxDB retention policy');
    // without retentionPolicy the database's default policy (autogen) is the one managed
    expect(await policies(database)).toMatchObject({
      autogen: { duration: '2160h0m0s', isDefault: true },
      downsampled_1h: { duration: '19200h0m0s' },
    });
    await openInfluxStore(
      influxConfig({ url: server.url, database, retention: { downsample: { every: '1h', keep: '800d' } } }),
      logger,
    );
    expect((await policies(database)).autogen).toMatchObject({ duration: '2160h0m0s' });
  });

  it('downsamples readings with the continuous query it sets up (mean, min and max per field, tags kept)', async () => {
    const database = freshDatabase('downsample');
    const { logger } = capturingLogger();
    const store = await openInfluxStore(
      influxConfig({ url: server.url, database, retention: { downsample: { every: '1h', keep: '400d' } } }),
      logger,
    );
    const tags = { sensorId: 'ds-a', kind: 'air', district: 'Thuận Hóa' };
    await store.write([
      { measurement: 'air', tags, fields: { pm25: 10, pm10: 20 }, ts: T + 60_000 },
      { measurement: 'air', tags, fields: { pm25: 30, pm10: 40 }, ts: T + 30 * 60_000 },
      {
        measurement: 'alert_events',
        tags: { ruleId: 'r1', sensorId: 'ds-a' },
        fields: { state: 'firing', value: 3 },
        ts: T + 60_000,
      },
    ]);
    // A continuous query only runs on wall-clock time; run its own SELECT ... INTO over the past hour.
    const cq = downsampleQuery(database, 'autogen', '1h');
    const select =
      cq.slice(cq.indexOf('BEGIN ') + 6, cq.lastIndexOf(' GROUP BY')) +
      ` WHERE time >= ${T}ms AND time < ${T + HOUR}ms GROUP BY time(1h), *`;
    await http.run(select, { db: database });
    const [result] = await http.query([`SELECT * FROM "downsampled_1h"."air" GROUP BY *`], { db: database });
    const series = result!.series[0]!;
    expect(series.tags).toEqual(tags);
    const row = Object.fromEntries(series.columns.map((c, i) => [c, series.values[0]![i]]));
    expect(row).toMatchObject({
      time: T,
      mean_pm25: 20,
      min_pm25: 10,
      max_pm25: 30,
      mean_pm10: 30,
      min_pm10: 20,
      max_pm10: 40,
    });
  });
});
