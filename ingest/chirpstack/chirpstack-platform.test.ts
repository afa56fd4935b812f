import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogs } from '../../test-support/log-capture.ts';
import { publishAcked, startTestPlatform, tryConnect, type TestPlatform } from '../../test-support/platform-harness.ts';
import { shiftedClock } from '../../test-support/shifted-clock.ts';

/**
 * ChirpStack v4 end to end with its documented payloads, byte for byte (fixtures/README.md): over MQTT
 * from a real client logged in as the integration account, and over HTTP as its HTTP integration posts.
 */
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const APP = '17c82e96-be03-4f38-aef3-f83d48582d97';
const DEV_EUI = '0101010101010101';
const HTTP_DEV_EUI = '0303030303030303';
const topic = (event: string, devEui = DEV_EUI) => `application/${APP}/device/${devEui}/event/${event}`;
// the documented events are from 2022-07-18 around 09:35 UTC: the platform lives then
const UPLINK_TS = Date.parse('2022-07-18T09:34:15.775Z');

describe('LoRaWAN through ChirpStack v4', () => {
  let p: TestPlatform;
  let token: string;
  const logs = captureLogs('info');
  /** the uplink's reading as stored, once the store holds what was accepted (the barrier an API read waits at) */
  const storedAt = async (sensorId: string) => {
    await p.readBarrier();
    return p.store.queryPoints({ measurement: 'water', tags: { sensorId }, from: UPLINK_TS, to: UPLINK_TS + 1 });
  };
  beforeAll(async () => {
    p = await startTestPlatform({
      clock: shiftedClock(Date.parse('2022-07-18T09:36:00Z')),
      logger: logs.logger,
      overrides: {
        integrations: {
          chirpstack: {
            enabled: true,
            account: 'chirpstack',
            applications: [APP],
            fields: { rain_mm: 'precipitation' },
            devices: [
              {
                devEui: DEV_EUI.toUpperCase(),
                sensorId: 'water-kimlong',
                fields: { level_cm: { metric: 'waterLevel', scale: 0.01 } },
              },
              // the HTTP integration's uplink: the documented event, re-addressed to this second device
              {
                devEui: HTTP_DEV_EUI,
                sensorId: 'water-phuoc',
                fields: { level_cm: { metric: 'waterLevel', scale: 0.01 } },
              },
            ],
          },
        },
      },
    });
    const created = await p.request('POST', '/api/accounts', {
      token: p.adminToken,
      body: { name: 'chirpstack', role: 'integration' },
    });
    expect(created.status).toBe(201);
    const issued = await p.request('POST', '/api/accounts/chirpstack/tokens', {
      token: p.adminToken,
      body: { name: 'mqtt' },
    });
    token = (issued.json as { token: string }).token;
  });
  afterAll(async () => {
    await p?.stop();
  });

  const connectChirpstack = () =>
    mqtt.connectAsync(p.mqttUrl, {
      username: 'chirpstack',
      password: token,
      clientId: `chirpstack-${Math.random().toString(16).slice(2, 8)}`,
      reconnectPeriod: 0,
    });
  const postEvent = (event: string, body: Buffer | string, bearer = token) =>
    p.request('POST', `/api/integrations/chirpstack?event=${event}`, {
      token: bearer,
      body: body.toString(),
      headers: { 'content-type': 'application/json' },
    });

  it('turns an MQTT uplink into a durable reading at uplink time, acked once stored; flood rule fires', async () => {
    const client = await connectChirpstack();
    await publishAcked(client, topic('up'), fixture('up-decoded.json'));
    // PUBACK means durable: the reading is there, scaled (380 cm x 0.01 = 3.8 m), with the shared field mapping too
    await expect.poll(async () => (await storedAt('water-kimlong')).length).toBe(1);
    const [stored] = await storedAt('water-kimlong');
    expect(stored!.fields).toEqual({ waterLevel: 3.8, precipitation: 12.5 });
    await p.alerts.idle();
    const open = p.alerts
      .open()
      .filter((a) => a.sensorId === 'water-kimlong')
      .map((a) => a.ruleId)
      .sort();
    expect(open).toEqual(['flood-level-1', 'flood-level-2', 'flood-level-3']);
    await client.endAsync();
  });

  it('turns an HTTP integration uplink (?event=up) into a stored reading and fires the flood rule', async () => {
    // the documented uplink, byte for byte but for the DevEUI: Phú Ốc's level 3.8 m is above its levels I, II
    const body = fixture('up-decoded.json').toString().replace(`"devEui": "${DEV_EUI}"`, `"devEui": "${HTTP_DEV_EUI}"`);
    expect(body).toContain(HTTP_DEV_EUI);
    const res = await postEvent('up', body);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ accepted: 1, rejected: [] });
    const points = await storedAt('water-phuoc');

    expect(points.map((x) => x.fields)).toEqual([{ waterLevel: 3.8, precipitation: 12.5 }]);
    await p.alerts.idle();
    const open = p.alerts
      .open()
      .filter((a) => a.sensorId === 'water-phuoc')
      .map((a) => a.ruleId)
      .sort();
    expect(open).toEqual(['flood-level-1', 'flood-level-2']);
  });

  it('takes join and status over HTTP as the device status with its battery level', async () => {
    expect((await postEvent('join', fixture('join.json'))).status).toBe(200);
    const status = await postEvent('status', fixture('status.json'));
    expect(status.status).toBe(200);
    expect(status.json).toEqual({ accepted: 1, rejected: [] });
    const sensor = await p.request('GET', '/api/sensors/water-kimlong');
    expect(sensor.json).toMatchObject({ status: 'online', batteryLevel: 88.3 });
  });

  it('ignores the events that carry no data for the platform, and counts them', async () => {
    const res = await postEvent('log', fixture('log.json'));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ accepted: 0, rejected: [] });
    const metrics = await p.request('GET', '/metrics', { token: p.adminToken });
    expect(metrics.text).toMatch(
      /ioc_integration_messages_total\{integration="chirpstack",event="log",outcome="ignored"\} 1/,
    );
  });

  it('refuses an uplink with no decoded object and an unknown DevEUI (logged once per DevEUI, counted)', async () => {
    const raw = await postEvent('up', fixture('up.json'));
    expect(raw.status).toBe(422);
    expect(raw.json).toMatchObject({
      code: 'no_metrics',
      message: expect.stringMatching(/no decoded object: give its device profile a codec/),
    });
    const stranger = fixture('up-decoded.json')
      .toString()
      .replace('"devEui": "0101010101010101"', '"devEui": "0202020202020202"');
    for (let i = 0; i < 3; i++) {
      const res = await postEvent('up', stranger);
      expect(res.status).toBe(422);
      expect(res.json).toMatchObject({
        code: 'unknown_sensor',
        message: expect.stringMatching(/DevEUI 0202020202020202 \("Test device"\) is not mapped/),
      });
    }
    const client = await connectChirpstack();
    await publishAcked(client, topic('up', '0202020202020202'), stranger);
    await client.endAsync();
    expect(
      logs.lines.filter((l) => l.msg === 'ChirpStack event refused' && l.devEui === '0202020202020202'),
    ).toHaveLength(1);
    const metrics = await p.request('GET', '/metrics', { token: p.adminToken });
    expect(metrics.text).toMatch(/ioc_integration_refused_total\{integration="chirpstack",reason="unknown_sensor"\} 4/);
  });

  it('refuses a topic that names another device than the body, and what is not ChirpStack JSON', async () => {
    const client = await connectChirpstack();
    const refusedBefore = logs.lines.length;
    await publishAcked(client, topic('up', '0303030303030303'), fixture('up-decoded.json'));
    await client.endAsync();
    expect(
      logs.lines
        .slice(refusedBefore)
        .some((l) => typeof l.reason === 'string' && /the topic names device 0303030303030303/.test(l.reason)),
    ).toBe(true);
    const bad = await postEvent('up', '{"deviceInfo": {"devEui": "xyz"}}');
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: 'malformed_payload', message: expect.stringMatching(/deviceInfo\.devEui/) });
    expect((await postEvent('nonsense', fixture('log.json'))).status).toBe(400);
  });

  it('documents the route in the OpenAPI document, with its statuses', async () => {
    const doc = (await p.request('GET', '/api/openapi.json', { token: null })).json as {
      paths: Record<string, { post: { responses: Record<string, unknown> } }>;
    };
    expect(Object.keys(doc.paths['/api/integrations/chirpstack']!.post.responses).sort()).toEqual([
      '200',
      '207',
      '400',
      '401',
      '403',
      '413',
      '422',
      '429',
      '503',
    ]);
    const ingest = doc.paths['/api/ingest/{kind}/{sensorId}/{channel}']!.post.responses;
    expect(Object.keys(ingest).sort()).toEqual(['200', '207', '400', '401', '403', '413', '422', '429', '503']);
  });

  it('keeps the integration account to its own topics and routes', async () => {
    const client = await connectChirpstack();
    const granted = await client.subscribeAsync(`application/${APP}/device/+/command/down`);
    expect(granted.map((g) => g.qos)).toEqual([0]);
    // SUBACK 0x80: the readings and alerts of the city are not an integration's to read
    await expect(client.subscribeAsync('ioc/#')).rejects.toThrow(/Subscribe error/);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish('ioc/water/water-kimlong/readings', '{"waterLevel": 9}', { qos: 1 });
    await closed;
    // no console, no API reads
    expect((await p.request('GET', '/api/sensors', { token })).status).toBe(403);
    const login = await p.request('POST', '/api/session', {
      token: null,
      body: { username: 'chirpstack', password: 'whatever-long-enough' },
    });
    expect(login.status).toBe(401);
    // another account may not post as ChirpStack
    expect((await postEvent('join', fixture('join.json'), p.operatorToken)).status).toBe(403);
    // a device's own credentials are not an integration's
    const asDevice = await tryConnect(p.mqttUrl, {
      username: 'chirpstack',
      password: 'wrong',
      clientId: 'chirpstack-x',
    });
    expect(asDevice.ok).toBe(false);
  });
});
