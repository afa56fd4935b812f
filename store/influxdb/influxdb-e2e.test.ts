import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInfluxd, type InfluxServer } from '../../test-support/influxd.ts';
import { publishAcked, startTestPlatform, type TestPlatform } from '../../test-support/platform-harness.ts';
import { InfluxHttp } from './influx-http.ts';
import { freshDatabase, influxConfig } from './influx-test-helpers.ts';
import type { InfluxStore } from './influxdb-store.ts';

/** A real mqtt.js client -> the platform with store.engine influxdb -> a real influxd -> the HTTP API. */
describe('end to end through InfluxDB', () => {
  let influx: InfluxServer;
  let p: TestPlatform;
  let http: InfluxHttp;
  const database = freshDatabase('e2e');
  beforeAll(async () => {
    influx = await startInfluxd();
    p = await startTestPlatform({
      overrides: { store: { engine: 'influxdb', influxdb: { url: influx.url, database } } },
    });
    http = new InfluxHttp(influxConfig({ url: influx.url, database }));
  });
  afterAll(async () => {
    await p?.stop();
    await influx?.dispose();
  });

  const api = async (path: string) => {
    const res = await p.request('GET', path);
    expect(res.status, res.text).toBe(200);
    return res.json as Record<string, unknown>;
  };

  it('stores QoS 1 readings in InfluxDB with the documented schema and serves them through the API', async () => {
    expect(p.store.name).toBe('influxdb');
    const device = await p.connectDevice('water-kimlong');
    const base = Math.floor((Date.now() - 3 * 3_600_000) / 3_600_000) * 3_600_000;
    await publishAcked(
      device,
      'ioc/water/water-kimlong/readings',
      JSON.stringify([
        { ts: base + 60_000, waterLevel: 1.5, flow: 300 },
        { ts: base + 120_000, waterLevel: 2.5 },
        { ts: base + 3_600_000 + 60_000, waterLevel: 3.25 },
      ]),
    );

    const range = await api(
      `/api/sensors/water-kimlong/readings?metric=waterLevel&from=${base}&to=${base + 2 * 3_600_000}`,
    );
    expect(range.points).toEqual([
      { ts: base + 60_000, value: 1.5 },
      { ts: base + 120_000, value: 2.5 },
      { ts: base + 3_600_000 + 60_000, value: 3.25 },
    ]);
    // (a PUBACK means durable in the commit log; the API read above waited for the store)
    // in InfluxDB, as docs/influxdb.md says: measurement = kind, tags sensorId/kind/district, a field per metric
    const [raw] = await http.query([
      `SELECT * FROM "water" WHERE "sensorId" = 'water-kimlong' AND time >= ${base}ms GROUP BY *`,
    ]);
    expect(raw!.series).toEqual([
      {
        name: 'water',
        tags: { district: 'Kim Long', kind: 'water', sensorId: 'water-kimlong' },
        columns: ['time', 'flow', 'waterLevel'],
        values: [
          [base + 60_000, 300, 1.5],
          [base + 120_000, null, 2.5],
          [base + 3_600_000 + 60_000, null, 3.25],
        ],
      },
    ]);

    const hourly = await api(
      `/api/sensors/water-kimlong/readings?metric=waterLevel&from=${base}&to=${base + 2 * 3_600_000}&every=1h&fn=max`,
    );
    expect(hourly.points).toEqual([
      { ts: base, value: 2.5 },
      { ts: base + 3_600_000, value: 3.25 },
    ]);
    const latest = await api('/api/readings/latest?kind=water&district=Kim%20Long');
    expect(latest.readings).toEqual(
      expect.arrayContaining([
        {
          sensorId: 'water-kimlong',
          kind: 'water',
          district: 'Kim Long',
          metric: 'waterLevel',
          ts: base + 3_600_000 + 60_000,
          value: 3.25,
        },
        {
          sensorId: 'water-kimlong',
          kind: 'water',
          district: 'Kim Long',
          metric: 'flow',
          ts: base + 60_000,
          value: 300,
        },
      ]),
    );
  });

  it('keeps device status as its own measurement and lands a replayed publish once', async () => {
    const device = await p.connectDevice('air-ngomon');
    await publishAcked(device, 'ioc/air/air-ngomon/status', 'online');
    const ts = Date.now() - 30_000;
    const payload = JSON.stringify({ ts, pm25: 18.5, pm10: 30 });
    await publishAcked(device, 'ioc/air/air-ngomon/readings', payload);
    await publishAcked(device, 'ioc/air/air-ngomon/readings', payload); // a device re-sending after a lost PUBACK
    const range = await api(`/api/sensors/air-ngomon/readings?metric=pm25&from=${ts - 1}&to=${ts + 1}`);
    expect(range.points).toEqual([{ ts, value: 18.5 }]);
    const [count] = await http.query([
      `SELECT count("pm25") FROM "air" WHERE "sensorId" = 'air-ngomon' AND time >= ${ts}ms AND time <= ${ts}ms`,
    ]);
    expect(count!.series[0]!.values[0]![1]).toBe(1);
    const [status] = await http.query([`SELECT "status" FROM "device_status" WHERE "sensorId" = 'air-ngomon'`]);
    expect(status!.series[0]!.values.map((row) => row[1])).toContain('online');
    const sensor = await api('/api/sensors/air-ngomon');
    expect(sensor).toMatchObject({ status: 'online', latest: { pm25: { value: 18.5, ts } } });
  });

  it('reports the store in /api/health', async () => {
    const health = await api('/api/health');
    expect(health).toMatchObject({ status: 'ok', store: { engine: 'influxdb', ready: true } });
    expect((p.store as InfluxStore).state()).toMatchObject({ reachable: true, lastError: null, readsAvailable: true });
  });
});
