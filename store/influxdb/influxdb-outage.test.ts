import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startInfluxd, type InfluxServer } from '../../test-support/influxd.ts';
import { publishAcked, startTestPlatform, type TestPlatform } from '../../test-support/platform-harness.ts';
import { InfluxHttp } from './influx-http.ts';
import { freshDatabase, influxConfig } from './influx-test-helpers.ts';
import type { InfluxStore } from './influxdb-store.ts';

/**
 * InfluxDB goes away while devices publish: every reading the platform acknowledged (QoS 1 PUBACK) is in
 * InfluxDB exactly once after it comes back, and while the spool is full the platform holds PUBACKs.
 */
interface Acked {
  sensorId: string;
  ts: number;
  value: number;
}

let influx: InfluxServer | undefined;
let p: TestPlatform | undefined;
afterEach(async () => {
  await p?.stop();
  await influx?.dispose();
  p = undefined;
  influx = undefined;
});

async function setUp(overrides: { maxBytes?: number } = {}) {
  influx = await startInfluxd({ own: true });
  const database = freshDatabase('outage');
  p = await startTestPlatform({
    overrides: {
      store: {
        engine: 'influxdb',
        influxdb: { url: influx.url, database, timeoutMs: 2000, writeRetries: 1 },
        ...(overrides.maxBytes ? { log: { maxBytes: overrides.maxBytes, segmentBytes: 64 * 1024 } } : {}),
      },
      // one device stands in for a fleet filling the spool: far above a device's own publish and byte budget,
      // which would otherwise hold its PUBACKs first (broker/publish-rate-limiter.ts)
      limits: {
        devicePublishesPerSecond: 1_000_000,
        devicePublishBurst: 1_000_000,
        deviceBytesPerSecond: 1_000_000_000,
        deviceByteBurst: 1_000_000_000,
        connectionBytesPerSecond: 1_000_000_000,
      },
    },
  });
  return { server: influx, platform: p, http: new InfluxHttp(influxConfig({ url: influx.url, database })) };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Everything InfluxDB holds for these sensors, as (sensor, ts, value). */
async function stored(http: InfluxHttp, sensorIds: string[], from: number): Promise<Acked[]> {
  const where = sensorIds.map((id) => `"sensorId" = '${id}'`).join(' OR ');
  const [result] = await http.query([
    `SELECT "pm25" FROM "air" WHERE (${where}) AND time >= ${from}ms GROUP BY "sensorId"`,
  ]);
  return (result?.series ?? []).flatMap((s) =>
    s.values.map((row) => ({ sensorId: s.tags.sensorId!, ts: Number(row[0]), value: Number(row[1]) })),
  );
}

const byKey = (list: Acked[]) => [...list].sort((a, b) => a.sensorId.localeCompare(b.sensorId) || a.ts - b.ts);

describe('InfluxDB outage during ingest', () => {
  it('finds every acknowledged reading exactly once after influxd is stopped mid-stream and restarted', {
    timeout: 120_000,
  }, async () => {
    const { server, platform, http } = await setUp();
    const sensors = ['air-ngomon', 'air-dongba', 'air-gahue'];
    const devices: MqttClient[] = await Promise.all(sensors.map((id) => platform.connectDevice(id)));
    const base = Date.now() - 25 * 60_000;
    const acked: Acked[] = [];
    const publishes = 200;

    const publishAll = async (device: MqttClient, sensorId: string) => {
      for (let i = 0; i < publishes; i++) {
        const readings = [0, 1].map((k) => ({ ts: base + (2 * i + k) * 1000, pm25: i + k / 10 }));
        await publishAcked(device, `ioc/air/${sensorId}/readings`, JSON.stringify(readings));
        for (const r of readings) acked.push({ sensorId, ts: r.ts, value: r.pm25 });
      }
    };
    const outage = (async () => {
      await until('some readings before the outage', () => acked.length >= 200);
      await server.stop();
      const ackedWhenDown = acked.length;
      // PUBACKs go on while InfluxDB is down: the commit log is the spool
      await until('readings acknowledged during the outage', () => acked.length >= ackedWhenDown + 300);
      await until('the store to notice', () => !platform.feeder.state().healthy);
      const health = await platform.request('GET', '/api/health');
      expect(health.json).toMatchObject({ status: 'degraded', store: { engine: 'influxdb', ready: false } });
      expect((health.json as { store: { lagBytes: number } }).store.lagBytes).toBeGreaterThan(0);
      expect((platform.store as InfluxStore).state()).toMatchObject({ reachable: false });
      expect((platform.store as InfluxStore).state().lastError).toContain(server.url);
      await server.start();
    })();
    await Promise.all([...devices.map((d, i) => publishAll(d, sensors[i]!)), outage]);

    expect(acked).toHaveLength(sensors.length * publishes * 2);
    await until('the spool to drain into InfluxDB', () => platform.feeder.state().lagBytes === 0);
    const inInflux = await stored(http, sensors, base);
    expect(inInflux.length).toBe(acked.length);
    expect(byKey(inInflux)).toEqual(byKey(acked));
    const health = await platform.request('GET', '/api/health');
    expect(health.json).toMatchObject({ status: 'ok', store: { ready: true } });
  });

  it('stops acknowledging when the spool is full while InfluxDB is down, and loses nothing', {
    timeout: 120_000,
  }, async () => {
    const { server, platform, http } = await setUp({ maxBytes: 1024 * 1024 });
    const device = await platform.connectDevice('air-kimlong');
    await server.stop();
    const base = Date.now() - 40 * 60_000;
    const acked: Acked[] = [];
    let held: Promise<void> | undefined;
    let heldReadings: Acked[] = [];
    for (let i = 0; i < 400 && !held; i++) {
      const readings = Array.from({ length: 100 }, (_, k) => ({
        ts: base + (100 * i + k) * 50,
        pm25: (100 * i + k) % 2000,
      }));
      const publish = publishAcked(device, 'ioc/air/air-kimlong/readings', JSON.stringify(readings));
      const answered = await Promise.race([
        publish.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 3000)),
      ]);
      const these = readings.map((r) => ({ sensorId: 'air-kimlong', ts: r.ts, value: r.pm25 }));
      if (answered) acked.push(...these);
      else {
        held = publish;
        heldReadings = these;
      }
    }
    expect(held, 'a PUBACK held back once the spool was full').toBeDefined();
    expect(acked.length).toBeGreaterThan(1000);
    const health = await platform.request('GET', '/api/health');
    expect(health.json).toMatchObject({ status: 'degraded', store: { acknowledgementsHeld: true } });

    await server.start();
    await held; // acknowledged once the spool drains
    acked.push(...heldReadings);
    await until('the spool to drain into InfluxDB', () => platform.feeder.state().lagBytes === 0);
    expect(byKey(await stored(http, ['air-kimlong'], base))).toEqual(byKey(acked));
  });
});
