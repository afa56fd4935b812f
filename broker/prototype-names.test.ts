import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  publishAcked,
  startTestPlatform,
  subscribeCollect,
  type TestPlatform,
} from '../test-support/platform-harness.ts';

/**
 * Issue 12, item 1: every own property name of Object.prototype (and "__proto__") fed into every entry
 * point keyed by outside data, through real sockets. Each is a specific refusal; nothing crashes, and
 * the platform still serves afterwards.
 */
const NAMES = [...new Set([...Object.getOwnPropertyNames(Object.prototype), '__proto__'])];

describe('Object.prototype names at every entry point', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  const tryConnect = (options: mqtt.IClientOptions) =>
    new Promise<{ ok: boolean; code?: number }>((resolve) => {
      const client = mqtt.connect(p.mqttUrl, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
      client.once('connect', () => {
        client.end(true);
        resolve({ ok: true });
      });
      client.once('error', (err: Error & { code?: number }) => {
        client.end(true);
        resolve({ ok: false, code: err.code });
      });
    });
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  it("MQTT CONNECT: as username an unknown account (CONNACK 4); as clientId not the device's (CONNACK 2)", async () => {
    for (const name of NAMES) {
      expect(await tryConnect({ username: name, password: 'x', clientId: name }), name).toEqual({ ok: false, code: 4 });
      expect(
        await tryConnect({ username: 'air-ngomon', password: p.devicePassword('air-ngomon'), clientId: name }),
        name,
      ).toEqual({ ok: false, code: 2 });
    }
  });

  it("topic level: as kind under the device's id it is explained; as sensor id it closes the connection", async () => {
    const device = await p.connectDevice('air-ngomon');
    const errors = await subscribeCollect(device, 'ioc/air/air-ngomon/errors');
    for (const name of NAMES) {
      await publishAcked(device, `ioc/${name}/air-ngomon/readings`, '{"pm25":1}');
      expect(JSON.parse((await errors.next()).payload).errors[0], name).toMatchObject({ code: 'kind_mismatch' });
      await publishAcked(device, `ioc/air/air-ngomon/${name}`, '{"pm25":1}');
      expect(JSON.parse((await errors.next()).payload).errors[0], name).toMatchObject({ code: 'topic_invalid' });
    }
    for (const name of NAMES.slice(0, 3)) {
      const other = await p.connectDevice('air-kimlong');
      await new Promise<void>((resolve) => {
        other.once('close', () => resolve());
        other.publish(`ioc/air/${name}/readings`, '{"pm25":1}', { qos: 1 });
      });
    }
  });

  it('payloads: as a JSON metric, a SenML name or a camera event type it is refused with a reason', async () => {
    const device = await p.connectDevice('air-dongba');
    const errors = await subscribeCollect(device, 'ioc/air/air-dongba/errors');
    for (const name of NAMES) {
      await publishAcked(device, 'ioc/air/air-dongba/readings', `{"pm25":3,${JSON.stringify(name)}:1}`);
      expect(JSON.parse((await errors.next()).payload).errors[0], name).toMatchObject({ code: 'unknown_metric' });
      await publishAcked(
        device,
        'ioc/air/air-dongba/readings',
        JSON.stringify([{ bn: 'urn:dev:air-dongba:', n: name, v: 1 }]),
      );
      expect(JSON.parse((await errors.next()).payload).errors[0], name).toMatchObject({
        code: expect.stringMatching(/unknown_metric|malformed_payload/),
      });
    }
    const camera = await p.connectDevice('cam-ngomon');
    const camErrors = await subscribeCollect(camera, 'ioc/camera/cam-ngomon/errors');
    for (const name of NAMES) {
      await publishAcked(camera, 'ioc/camera/cam-ngomon/events', JSON.stringify({ type: name, [name]: 1 }));
      expect(JSON.parse((await camErrors.next()).payload).errors[0], name).toMatchObject({ code: 'invalid_event' });
    }
  });

  it('HTTP: route params, query keys and the Basic username get a specific 4xx, never a 500', async () => {
    for (const name of NAMES) {
      const e = encodeURIComponent(name);
      expect((await p.request('GET', `/api/sensors/${e}`)).status, name).toBe(404);
      expect((await p.request('GET', `/api/sensors/${e}/readings?metric=pm25`)).status, name).toBe(404);
      expect((await p.request('GET', `/api/sensors/air-ngomon/readings?metric=${e}`)).status, name).toBe(400);
      expect((await p.request('GET', `/api/sensors/air-ngomon/readings?metric=pm25&${e}=1`)).status, name).toBeLessThan(
        500,
      );
      expect((await p.request('GET', `/api/alerts/${e}`)).status, name).toBe(404);
      expect((await p.request('GET', `/api/alerts?${e}=1`)).status, name).toBeLessThan(500);
      expect((await p.request('GET', `/api/rules/${e}`)).status, name).toBe(404);
      const ingest = await p.request('POST', '/api/ingest/air/air-ngomon/readings', {
        token: null,
        body: '{"pm25":1}',
        headers: { authorization: basic(name, 'x') },
      });
      expect(ingest.status, name).toBe(401);
      const kind = await p.request('POST', `/api/ingest/${e}/air-ngomon/readings`, {
        token: null,
        body: '{"pm25":1}',
        headers: { authorization: basic('air-ngomon', p.devicePassword('air-ngomon')) },
      });
      expect([400, 422], name).toContain(kind.status);
      expect((kind.json as { rejected: Array<{ code: string }> }).rejected[0]!.code, name).toMatch(
        /unknown_kind|kind_mismatch|topic_invalid/,
      );
    }
    const device = await p.connectDevice('air-ngomon');
    await publishAcked(device, 'ioc/air/air-ngomon/readings', '{"pm25":2}');
    expect((await p.request('GET', '/api/health', { token: null })).json).toMatchObject({ status: 'ok' });
  });
});
