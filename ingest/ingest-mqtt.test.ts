import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishAcked, startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';

/** A real mqtt.js client publishes over a real socket; the readings come back through the HTTP API. */
describe('MQTT ingest to API', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  const readings = async (sensorId: string, metric: string, from: number, to: number) => {
    const res = await p.request('GET', `/api/sensors/${sensorId}/readings?metric=${metric}&from=${from}&to=${to}`);
    expect(res.status).toBe(200);
    return (res.json as { points: Array<{ ts: number; value: number }> }).points;
  };

  it('stores a JSON object reading acknowledged at QoS 1 and serves it back', async () => {
    const device = await p.connectDevice('air-ngomon');
    const ts = Date.now() - 60_000;
    await publishAcked(
      device,
      'ioc/air/air-ngomon/readings',
      JSON.stringify({
        ts: new Date(ts).toISOString(),
        pm25: 31.5,
        pm10: 48,
        temperature: 27.25,
        relativeHumidity: 81,
      }),
    );
    expect(await readings('air-ngomon', 'pm25', ts - 1, ts + 1)).toEqual([{ ts, value: 31.5 }]);
    const sensor = await p.request('GET', '/api/sensors/air-ngomon');
    expect(sensor.json).toMatchObject({
      id: 'air-ngomon',
      status: 'online',
      latest: { pm10: { value: 48, ts }, temperature: { value: 27.25, ts } },
    });
  });

  it('takes several readings in one publish, as an array and as a SenML pack', async () => {
    const device = await p.connectDevice('water-kimlong');
    const base = Date.now() - 10 * 60_000;
    await publishAcked(
      device,
      'ioc/water/water-kimlong/readings',
      JSON.stringify([
        { ts: base, waterLevel: 0.81 },
        { ts: base + 60_000, waterLevel: 0.84, flow: 310 },
      ]),
    );
    const bt = (base + 120_000) / 1000;
    await publishAcked(
      device,
      'ioc/water/water-kimlong/readings',
      JSON.stringify([
        { bn: 'urn:dev:ioc:water-kimlong:', bt, n: 'waterLevel', u: 'm', v: 0.9 },
        { n: 'precipitation', u: 'mm', v: 12.5 },
        { n: 'waterLevel', u: 'm', t: 60, v: 0.95 },
      ]),
    );
    expect(await readings('water-kimlong', 'waterLevel', base, base + 10 * 60_000)).toEqual([
      { ts: base, value: 0.81 },
      { ts: base + 60_000, value: 0.84 },
      { ts: base + 120_000, value: 0.9 },
      { ts: base + 180_000, value: 0.95 },
    ]);
    expect(await readings('water-kimlong', 'precipitation', base, base + 10 * 60_000)).toEqual([
      { ts: base + 120_000, value: 12.5 },
    ]);
  });

  it('stamps readings without ts with the server time', async () => {
    const device = await p.connectDevice('traffic-truongtien');
    const before = Date.now();
    await publishAcked(
      device,
      'ioc/traffic/traffic-truongtien/readings',
      JSON.stringify({ intensity: 120, averageVehicleSpeed: 31, occupancy: 0.42, congested: false }),
    );
    const points = await readings('traffic-truongtien', 'occupancy', before - 1, Date.now() + 1);
    expect(points).toHaveLength(1);
    expect(points[0]!.value).toBe(0.42);
    const congested = await readings('traffic-truongtien', 'congested', before - 1, Date.now() + 1);
    expect(congested[0]!.value).toBe(0);
  });

  it('accepts MQTT over WebSocket at /mqtt with the same contract', async () => {
    const device = await p.connectDevice('air-dongba', { ws: true });
    const ts = Date.now() - 5000;
    await publishAcked(device, 'ioc/air/air-dongba/readings', JSON.stringify({ ts, pm25: 12 }));
    expect(await readings('air-dongba', 'pm25', ts, ts + 1)).toEqual([{ ts, value: 12 }]);
  });

  it('aggregates per bucket and lists latest values by kind and district', async () => {
    const device = await p.connectDevice('air-gahue');
    const hour = 3_600_000;
    const start = Math.floor((Date.now() - 5 * hour) / hour) * hour;
    await publishAcked(
      device,
      'ioc/air/air-gahue/readings',
      JSON.stringify([
        { ts: start + 1000, pm25: 10 },
        { ts: start + 2000, pm25: 20 },
        { ts: start + hour + 1000, pm25: 40 },
      ]),
    );
    const res = await p.request(
      'GET',
      `/api/sensors/air-gahue/readings?metric=pm25&from=${start}&to=${start + 2 * hour}&every=1h&fn=mean`,
    );
    expect(res.json).toMatchObject({
      every: hour,
      fn: 'mean',
      points: [
        { ts: start, value: 15 },
        { ts: start + hour, value: 40 },
      ],
    });
    const latest = await p.request('GET', '/api/readings/latest?kind=air&district=Thu%E1%BA%ADn%20H%C3%B3a');
    const rows = (latest.json as { readings: Array<{ sensorId: string; district: string; kind: string }> }).readings;
    expect(rows.some((r) => r.sensorId === 'air-gahue')).toBe(true);
    expect(rows.every((r) => r.kind === 'air' && r.district === 'Thuận Hóa')).toBe(true);
  });

  it('records device status from the status topic and the last will', async () => {
    const device = await p.connectDevice('cam-ngomon', {
      will: { topic: 'ioc/camera/cam-ngomon/status', payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    await publishAcked(device, 'ioc/camera/cam-ngomon/status', 'online');
    expect((await p.request('GET', '/api/sensors/cam-ngomon')).json).toMatchObject({ status: 'online' });
    device.stream.destroy(); // a dropped connection, not a clean DISCONNECT: the will is published
    await expect
      .poll(async () => ((await p.request('GET', '/api/sensors/cam-ngomon')).json as { status: string }).status, {
        timeout: 5000,
      })
      .toBe('offline');
  });

  it('stores camera events', async () => {
    const device = await p.connectDevice('cam-dongba');
    const events: unknown[] = [];
    p.events.on('cameraEvent', (e) => events.push(e));
    await publishAcked(
      device,
      'ioc/camera/cam-dongba/events',
      JSON.stringify({ type: 'crowd', personCount: 420, snapshotUrl: 'https://cam.example/snap/1.jpg' }),
    );
    expect(events).toEqual([
      expect.objectContaining({
        sensorId: 'cam-dongba',
        type: 'crowd',
        data: { personCount: 420 },
        snapshotUrl: 'https://cam.example/snap/1.jpg',
      }),
    ]);
    // acknowledged means durable in the commit log; the store is fed from it a moment later
    const storedEvents = () =>
      p.store.queryPoints({
        measurement: 'camera_events',
        tags: { sensorId: 'cam-dongba' },
        from: Date.now() - 60_000,
        to: Date.now() + 1,
      });
    await expect.poll(async () => (await storedEvents()).length).toBe(1);
    const stored = await storedEvents();
    expect(stored[0]!.fields).toMatchObject({ type: 'crowd' });
  });

  it('takes HTTP ingestion through the same path with the device credentials', async () => {
    const auth = `Basic ${Buffer.from(`air-phubai:${p.devicePassword('air-phubai')}`).toString('base64')}`;
    const ts = Date.now() - 1000;
    const res = await p.request('POST', '/api/ingest/air/air-phubai/readings', {
      token: null,
      headers: { authorization: auth },
      body: { ts, pm25: 22, pm10: -5 },
    });
    expect(res.status).toBe(207);
    expect(res.json).toMatchObject({ accepted: 1, rejected: [{ code: 'out_of_range', metric: 'pm10' }] });
    expect(await readings('air-phubai', 'pm25', ts, ts + 1)).toEqual([{ ts, value: 22 }]);
    const other = await p.request('POST', '/api/ingest/air/air-ngomon/readings', {
      token: null,
      headers: { authorization: auth },
      body: { pm25: 1 },
    });
    expect(other.status).toBe(403);
  });
});
