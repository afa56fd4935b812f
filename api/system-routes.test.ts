import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  publishAcked,
  startTestPlatform,
  subscribeCollect,
  type TestPlatform,
} from '../test-support/platform-harness.ts';

describe('API surface', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('serves the OpenAPI document and a docs page', async () => {
    const doc = await p.request('GET', '/api/openapi.json', { token: null });
    expect(doc.status).toBe(200);
    const paths = Object.keys((doc.json as { paths: Record<string, unknown> }).paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/api/health',
        '/api/sensors',
        '/api/sensors/{id}',
        '/api/sensors/{id}/readings',
        '/api/readings/latest',
      ]),
    );
    const docs = await p.request('GET', '/docs/', { token: null });
    expect(docs.status).toBe(200);
    expect(docs.text).toMatch(/swagger/i);
  });

  it('reports health with the store and broker state', async () => {
    const res = await p.request('GET', '/api/health', { token: null });
    expect(res.json).toMatchObject({
      status: 'ok',
      insecure: false,
      broker: { ready: true },
      store: { engine: 'embedded', ready: true, acknowledgementsHeld: false },
    });
  });

  it('still sends the deprecated store.kind, equal to store.engine, for old monitors (docs/names.md)', async () => {
    const { json } = await p.request('GET', '/api/health', { token: null });
    const { store } = json as { store: { engine: string; kind?: string } };
    expect(store.kind).toBe('embedded');
    expect(store.kind).toBe(store.engine);
  });

  it('answers errors as { code, message } with the right status', async () => {
    expect(await p.request('GET', '/api/sensors/nope')).toMatchObject({
      status: 404,
      json: { code: 'sensor_not_found', message: 'no sensor "nope"' },
    });
    expect(await p.request('GET', '/api/nothing-here')).toMatchObject({ status: 404, json: { code: 'not_found' } });
    expect(await p.request('GET', '/api/sensors/air-ngomon/readings')).toMatchObject({
      status: 400,
      json: { code: 'metric_required' },
    });
    expect(await p.request('GET', '/api/sensors/air-ngomon/readings?metric=waterLevel')).toMatchObject({
      status: 400,
      json: { code: 'unknown_metric' },
    });
    // a name every plain object has must not pass for a metric
    expect(await p.request('GET', '/api/sensors/air-ngomon/readings?metric=constructor')).toMatchObject({
      status: 400,
      json: { code: 'unknown_metric' },
    });
    expect(await p.request('GET', '/api/sensors/air-ngomon/readings?metric=pm25&from=yesterday')).toMatchObject({
      status: 400,
      json: { code: 'invalid_time' },
    });
    expect(await p.request('GET', '/api/sensors/air-ngomon/readings?metric=pm25&every=1s&from=0')).toMatchObject({
      status: 400,
      json: { code: 'too_many_buckets' },
    });
    expect(await p.request('GET', '/api/sensors/air-ngomon/readings?metric=pm25&fn=median&every=1h')).toMatchObject({
      status: 400,
      json: { code: 'invalid_request' },
    });
  });

  it('exposes Prometheus metrics for ingest and the store', async () => {
    const device = await p.connectDevice('air-benhvien');
    await publishAcked(device, 'ioc/air/air-benhvien/readings', JSON.stringify({ pm25: 12, pm10: 20 }));
    const text = (await p.request('GET', '/metrics')).text;
    expect(text).toMatch(/ioc_messages_received_total\{channel="readings"\} [1-9]/);
    expect(text).toMatch(/ioc_readings_stored_total [1-9]/);
    expect(text).toMatch(/ioc_values_stored_total [2-9]/);
    expect(text).toMatch(/ioc_commit_seconds_bucket/);
    expect(text).toMatch(/ioc_store_lag_bytes \d/);
    expect(text).toMatch(/ioc_spool_bytes \d/);
  });
});

describe('insecure development mode', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform({ overrides: { security: { insecure: true } } });
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('says so in health, and still refuses unknown sensors and topic tricks with reasons', async () => {
    expect((await p.request('GET', '/api/health', { token: null })).json).toMatchObject({ insecure: true });
    const anon = await p.connectOperator({ username: undefined, password: undefined });
    const errors = await subscribeCollect(anon, 'ioc/+/+/errors');
    await publishAcked(anon, 'ioc/air/ghost-station/readings', '{"pm25": 3}');
    expect(JSON.parse((await errors.next()).payload).errors[0]).toMatchObject({ code: 'unknown_sensor' });
    await publishAcked(anon, 'ioc/water/air-ngomon/readings', '{"waterLevel": 3}');
    expect(JSON.parse((await errors.next()).payload).errors[0]).toMatchObject({ code: 'kind_mismatch' });
    await publishAcked(anon, 'ioc/radar/r1/readings', '{"x": 3}');
    expect(JSON.parse((await errors.next()).payload).errors[0]).toMatchObject({ code: 'unknown_kind' });
    for (const topic of ['ioc/air/air-ngomon/readings/extra', 'ioc//air-ngomon/readings', 'ioc/air/ air/readings']) {
      await publishAcked(anon, topic, '{"pm25": 3}');
    }
    const res = await p.request('GET', `/api/sensors/air-ngomon/readings?metric=pm25&from=0&to=${Date.now() + 1000}`, {
      token: null,
    });
    expect((res.json as { points: unknown[] }).points).toEqual([]);
    expect(anon.connected).toBe(true);
  });
});

describe('city map configuration', () => {
  it('passes a configured tile server to the console, and serves the boundary and the rivers', async () => {
    const p = await startTestPlatform({
      overrides: { map: { tileUrl: 'https://tiles.hue.example/{z}/{x}/{y}.png', tileAttribution: '© OSM' } },
    });
    try {
      const city = (await p.request('GET', '/api/city')).json;
      expect(city).toMatchObject({
        id: 'hue',
        tileUrl: 'https://tiles.hue.example/{z}/{x}/{y}.png',
        tileAttribution: '© OSM',
      });
      const boundary = await p.request('GET', '/api/city/boundary');
      expect(boundary.status).toBe(200);
      expect((boundary.json as { type: string }).type).toBe('FeatureCollection');
      const rivers = await p.request('GET', '/api/city/rivers');
      expect(rivers.status).toBe(200);
      expect(rivers.json).toMatchObject({
        type: 'FeatureCollection',
        note: expect.stringMatching(/approximate hand trace/i),
      });
      expect(
        (rivers.json as { features: { properties: { name: string } }[] }).features.map((f) => f.properties.name),
      ).toContain('Sông Hương');
      expect((await p.request('GET', '/api/city/rivers', { token: null })).status).toBe(401);
      const doc = (await p.request('GET', '/api/openapi.json', { token: null })).json as {
        paths: Record<string, unknown>;
      };
      expect(doc.paths).toHaveProperty(['/api/city/rivers']);
    } finally {
      await p.stop();
    }
  });
});

describe('sensor latest values', () => {
  it("shows a sensor's readings, not the numeric fields of its alert events", async () => {
    const p = await startTestPlatform();
    try {
      const now = Date.now();
      await p.writer.write([
        {
          measurement: 'water',
          tags: { sensorId: 'water-kimlong', kind: 'water', district: 'Kim Long' },
          fields: { waterLevel: 1.2 },
          ts: now - 1000,
        },
        {
          measurement: 'alert_events',
          tags: { sensorId: 'water-kimlong', kind: 'water', district: 'Kim Long', ruleId: 'r' },
          fields: { seq: 7, value: 9.9 },
          ts: now,
        },
      ]);
      const sensor = (await p.request('GET', '/api/sensors/water-kimlong')).json as { latest: Record<string, unknown> };
      expect(Object.keys(sensor.latest)).toEqual(['waterLevel']);
      const list = (await p.request('GET', '/api/sensors?kind=water')).json as {
        sensors: Array<{ id: string; latest: Record<string, unknown> }>;
      };
      expect(Object.keys(list.sensors.find((s) => s.id === 'water-kimlong')!.latest)).toEqual(['waterLevel']);
    } finally {
      await p.stop();
    }
  });
});
