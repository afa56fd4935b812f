import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import {
  publishAcked,
  startTestPlatform,
  subscribeCollect,
  type TestPlatform,
} from '../test-support/platform-harness.ts';

/**
 * Bad input over a real MQTT connection: each refused reading gets a specific reason on the device's
 * errors topic and a metrics counter; nothing of it is stored; the valid part of the same publish is
 * kept; the connection and the platform carry on.
 */
describe('bad device input', () => {
  let p: TestPlatform;
  let device: MqttClient;
  let errors: Awaited<ReturnType<typeof subscribeCollect>>;
  const topic = 'ioc/air/air-ancuu/readings';

  beforeAll(async () => {
    p = await startTestPlatform({ overrides: { mqtt: { port: 0, host: '127.0.0.1', maxPayloadBytes: 2048 } } });
    device = await p.connectDevice('air-ancuu');
    errors = await subscribeCollect(device, 'ioc/air/air-ancuu/errors');
  });
  afterAll(async () => {
    await p?.stop();
  });

  async function refusal(payload: string | Buffer, t = topic) {
    await publishAcked(device, t, payload);
    const message = await errors.next();
    return JSON.parse(message.payload) as {
      accepted: number;
      errors: Array<{ code: string; message: string; metric?: string; index?: number }>;
    };
  }

  async function storedPm25(): Promise<number> {
    const res = await p.request(
      'GET',
      `/api/sensors/air-ancuu/readings?metric=pm25&from=0&to=${Date.now() + 3_600_000}`,
    );
    return (res.json as { points: unknown[] }).points.length;
  }

  it.each([
    ['malformed JSON', '{"pm25": 12,', 'malformed_payload', /not valid JSON/],
    ['a string value', '{"pm25": "12"}', 'wrong_type', /pm25 must be a number, got string/],
    ['null', '{"pm25": null}', 'wrong_type', /got null/],
    [
      'an out-of-range value',
      '{"pm25": -3}',
      'out_of_range',
      /pm25 = -3 ug\/m3 is outside the plausible range 0\.\.2000/,
    ],
    ['an overflowing number', '{"pm25": 1e999}', 'not_finite', /not a finite number/],
    ['an unknown metric', '{"radiation": 3}', 'unknown_metric', /"radiation" is not a metric of kind air/],
    [
      'a metric named after an Object method',
      '{"constructor": 3}',
      'unknown_metric',
      /"constructor" is not a metric of kind air/,
    ],
    ['a metric named __proto__', '{"__proto__": 3}', 'unknown_metric', /"__proto__" is not a metric of kind air/],
    [
      'a timestamp far in the future',
      JSON.stringify({ ts: Date.now() + 86_400_000, pm25: 10 }),
      'timestamp_in_future',
      /ahead of server time/,
    ],
    [
      'epoch seconds',
      JSON.stringify({ ts: Math.floor(Date.now() / 1000), pm25: 10 }),
      'invalid_timestamp',
      /looks like epoch seconds/,
    ],
    ['a timestamp without zone', '{"ts": "2026-11-27T08:00:00", "pm25": 10}', 'invalid_timestamp', /time zone/],
    [
      'a very old timestamp',
      JSON.stringify({ ts: '2001-01-01T00:00:00Z', pm25: 10 }),
      'timestamp_too_old',
      /older than the 30-day limit/,
    ],
    ['an empty object', '{}', 'no_metrics', /no metric values/],
    ['a bare number', '42', 'malformed_payload', /expected a JSON object/],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 'malformed_payload', /UTF-8/],
    [
      'SenML with a wrong unit',
      JSON.stringify([{ bn: 'air-ancuu:', n: 'pm25', u: 'Cel', v: 3 }]),
      'unit_mismatch',
      /pm25 is in ug\/m3, got "Cel"/,
    ],
  ])('refuses %s with a specific reason and stores nothing', async (_label, payload, code, message) => {
    const before = await storedPm25();
    const result = await refusal(payload);
    expect(result.accepted).toBe(0);
    expect(result.errors[0]).toMatchObject({ code });
    expect(result.errors[0]!.message).toMatch(message);
    expect(await storedPm25()).toBe(before);
  });

  it('refuses an oversized payload against the configured limit', async () => {
    const result = await refusal(JSON.stringify({ pm25: 1, pad: 'x'.repeat(5000) }));
    expect(result.errors[0]).toMatchObject({ code: 'payload_too_large' });
    expect(result.errors[0]!.message).toMatch(/exceeds the 2048-byte limit/);
  });

  it('keeps the valid readings and metrics of a publish that also has bad ones', async () => {
    const ts = Date.now() - 30_000;
    const result = await refusal(
      JSON.stringify([
        { ts, pm25: 17, pm10: 99999 },
        { ts: ts + 1000, pm25: 'high' },
        { ts: ts + 2000, pm25: 18 },
      ]),
    );
    expect(result.accepted).toBe(2);
    expect(result.errors.map((e) => [e.code, e.index, e.metric])).toEqual([
      ['out_of_range', 0, 'pm10'],
      ['wrong_type', 1, 'pm25'],
    ]);
    const res = await p.request('GET', `/api/sensors/air-ancuu/readings?metric=pm25&from=${ts}&to=${ts + 3000}`);
    expect((res.json as { points: unknown[] }).points).toEqual([
      { ts, value: 17 },
      { ts: ts + 2000, value: 18 },
    ]);
  });

  it('refuses too many readings in one publish', async () => {
    const many = Array.from({ length: 1001 }, (_, i) => ({ ts: Date.now() - i * 1000, pm25: 1 }));
    // over the 2048-byte limit too; raise nothing: the size check comes first and is the reason given
    const result = await refusal(JSON.stringify(many));
    expect(result.errors[0]!.code).toMatch(/payload_too_large|too_many_readings/);
  });

  it('counts refusals by reason in /metrics and keeps the connection open', async () => {
    const metrics = await p.request('GET', '/metrics');
    expect(metrics.text).toMatch(/ioc_readings_rejected_total\{reason="out_of_range"\} [1-9]/);
    expect(metrics.text).toMatch(/ioc_readings_rejected_total\{reason="malformed_payload"\} [1-9]/);
    expect(device.connected).toBe(true);
    await publishAcked(device, topic, JSON.stringify({ pm25: 5 }));
    expect((await p.request('GET', '/api/health')).json).toMatchObject({ status: 'ok' });
  });

  it("refuses a publish from a device to another sensor's topic by closing its connection", async () => {
    const intruder = await p.connectDevice('air-kimlong');
    const closed = new Promise<void>((resolve) => intruder.once('close', () => resolve()));
    intruder.publish('ioc/air/air-ancuu/readings', JSON.stringify({ pm25: 999 }), { qos: 1 });
    await closed;
    const metrics = await p.request('GET', '/metrics');
    expect(metrics.text).toMatch(/ioc_mqtt_denied_total\{action="publish"\} [1-9]/);
  });

  it('tells a device that publishes under an unknown channel or malformed topic why', async () => {
    const result = await refusal('{"pm25":1}', 'ioc/air/air-ancuu/telemetry');
    expect(result.errors[0]).toMatchObject({ code: 'topic_invalid' });
  });
});
