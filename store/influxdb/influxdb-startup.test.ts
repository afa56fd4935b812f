import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../config/config-error.ts';
import { freePort } from '../../test-support/free-port.ts';
import { startInfluxd, type InfluxServer } from '../../test-support/influxd.ts';
import { InfluxHttp, InfluxRequestError } from './influx-http.ts';
import { capturingLogger, freshDatabase, influxConfig } from './influx-test-helpers.ts';
import { openInfluxStore } from './influxdb-store.ts';

const T = Date.UTC(2026, 9, 1);
const reading = (sensorId: string, ts: number, pm25: number) => ({
  measurement: 'air',
  tags: { sensorId, kind: 'air', district: 'Kim Long' },
  fields: { pm25 },
  ts,
});

describe('InfluxDB store start-up with authentication on', () => {
  let server: InfluxServer;
  beforeAll(async () => {
    server = await startInfluxd({ auth: { username: 'ioc_admin', password: 'right-secret' } });
  });
  afterAll(() => server?.dispose());

  it('stops with a message naming the user when the password is wrong', async () => {
    const { logger } = capturingLogger();
    const opening = openInfluxStore(
      influxConfig({ url: server.url, username: 'ioc_admin', password: 'wrong' }),
      logger,
    );
    await expect(opening).rejects.toBeInstanceOf(ConfigError);
    await expect(opening).rejects.toThrow(
      /refused the platform's credentials \(401: authorization failed\): check the password of user "ioc_admin"/,
    );
  });

  it('stops with a message saying which settings to give when there are no credentials', async () => {
    const { logger } = capturingLogger();
    await expect(openInfluxStore(influxConfig({ url: server.url }), logger)).rejects.toThrow(
      new RegExp(
        String.raw`requires authentication and the platform has no credentials .*: set store\.influxdb\.username ` +
          String.raw`and password \(IOC_INFLUX_USERNAME, IOC_INFLUX_PASSWORD\)`,
      ),
    );
  });

  it('writes and reads with the right credentials', async () => {
    const { logger } = capturingLogger();
    const store = await openInfluxStore(
      influxConfig({ url: server.url, database: freshDatabase(), username: 'ioc_admin', password: 'right-secret' }),
      logger,
    );
    await store.write([reading('auth-a', T, 4.5)]);
    expect(
      await store.queryRange({ measurement: 'air', sensorId: 'auth-a', field: 'pm25', from: T, to: T + 1 }),
    ).toEqual([{ ts: T, value: 4.5 }]);
    expect(store.state()).toMatchObject({ reachable: true, lastError: null, writePath: 'v1', readsAvailable: true });
  });
});

describe('InfluxDB store start-up', () => {
  let server: InfluxServer;
  beforeAll(async () => {
    server = await startInfluxd({ own: true });
  });
  afterAll(() => server?.dispose());

  it('stops with a clear message when the database is missing and may not be created', async () => {
    const { logger } = capturingLogger();
    const database = freshDatabase('missing');
    await expect(
      openInfluxStore(influxConfig({ url: server.url, database, createDatabase: false }), logger),
    ).rejects.toThrow(new RegExp(`has no database "${database}": create it .*createDatabase: true`));
  });

  it('creates the database when it is missing', async () => {
    const { logger, lines } = capturingLogger();
    const database = freshDatabase('created');
    await openInfluxStore(influxConfig({ url: server.url, database }), logger);
    const { series } = await new InfluxHttp(influxConfig({ url: server.url })).run('SHOW DATABASES', { db: '' });
    expect(series[0]!.values.flat()).toContain(database);
    expect(lines.map((l) => l.msg)).toContain('created the InfluxDB database');
  });

  it('starts when InfluxDB is down, names the URL, and sets up the database once it answers', async () => {
    const { logger, lines } = capturingLogger();
    const database = freshDatabase('late');
    await server.stop();
    const store = await openInfluxStore(influxConfig({ url: server.url, database }), logger);
    expect(store.state()).toMatchObject({ reachable: false, url: server.url });
    expect(store.state().lastError).toContain(`InfluxDB at ${server.url} is not reachable`);
    expect(lines.some((l) => l.level === 40 && l.msg.includes(`InfluxDB at ${server.url} is not reachable`))).toBe(
      true,
    );
    expect(lines.some((l) => l.level === 40 && l.msg.includes('commit log'))).toBe(true);
    const write = store.write([reading('late-a', T, 1)]);
    await expect(write).rejects.toBeInstanceOf(InfluxRequestError);
    await expect(write).rejects.toMatchObject({ failure: 'unreachable' });
    await expect(
      store.queryRange({ measurement: 'air', sensorId: 'late-a', field: 'pm25', from: T, to: T + 1 }),
    ).rejects.toMatchObject({ category: 'unavailable', code: 'store_unavailable' });

    await server.start();
    await store.write([reading('late-a', T, 1)]);
    expect(
      await store.queryRange({ measurement: 'air', sensorId: 'late-a', field: 'pm25', from: T, to: T + 1 }),
    ).toEqual([{ ts: T, value: 1 }]);
    expect(store.state()).toMatchObject({ reachable: true, lastError: null });
    expect(store.state().lastWriteAt).toBeGreaterThan(0);
  });

  it('starts against a URL where nothing listens', async () => {
    const { logger } = capturingLogger();
    const url = `http://127.0.0.1:${await freePort()}`;
    const store = await openInfluxStore(influxConfig({ url, timeoutMs: 1000 }), logger);
    expect(store.state()).toMatchObject({ reachable: false, url });
    expect(store.state().lastError).toMatch(new RegExp(`InfluxDB at ${url} is not reachable \\(ECONNREFUSED\\)`));
  });

  it('counts points InfluxDB refuses for good (a field type conflict) instead of retrying them forever', async () => {
    const { logger, lines } = capturingLogger();
    const store = await openInfluxStore(influxConfig({ url: server.url, database: freshDatabase() }), logger);
    await store.write([reading('conflict-a', T, 1)]);
    await store.write([
      { measurement: 'air', tags: { sensorId: 'conflict-a' }, fields: { pm25: 'high' }, ts: T + 1000 },
      reading('conflict-a', T + 2000, 3),
    ]);
    expect(store.state()).toMatchObject({ pointsRejected: 1, pointsWritten: 2 });
    expect(lines.some((l) => l.level === 50 && l.msg.includes('refused points for good'))).toBe(true);
    const values = await store.queryRange({
      measurement: 'air',
      sensorId: 'conflict-a',
      field: 'pm25',
      from: T,
      to: T + 10_000,
    });
    expect(values).toEqual([
      { ts: T, value: 1 },
      { ts: T + 2000, value: 3 },
    ]);
  });
});
