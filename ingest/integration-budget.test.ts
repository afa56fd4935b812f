import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../core/clock.ts';
import { captureLogs } from '../test-support/log-capture.ts';
import { publishAcked, startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';

/**
 * Issue 12, the device message budget for what integrations carry: a ChirpStack uplink (HTTP and MQTT) is
 * charged to the sensor its DevEUI maps to, a camera event (ONVIF over HTTP, Frigate over MQTT) to the
 * camera, in the same budget as the device's own messages. Over it: refused with `rate_limited`, as MQTT
 * refuses, nothing stored, logged once per device, while the integration's other devices go on.
 * Budget: 2 messages, then 1 a second; the clock stands still, so nothing refills.
 */
const NOW = Date.parse('2022-07-18T09:36:00Z');
const APP = '17c82e96-be03-4f38-aef3-f83d48582d97';
const chirpFixture = readFileSync(new URL('./chirpstack/fixtures/up-decoded.json', import.meta.url), 'utf8');
const frigateFixture = readFileSync(new URL('./cameras/fixtures/frigate-update.json', import.meta.url), 'utf8');

/** the documented uplink for `devEui`, `n` seconds before now (each a distinct reading) */
const uplink = (devEui: string, n: number) =>
  chirpFixture
    .replace('"devEui": "0101010101010101"', `"devEui": "${devEui}"`)
    .replace('2022-07-18T09:34:15.775023242+00:00', new Date(NOW - 120_000 + n * 1000).toISOString());
/** Frigate's documented update, as a new tracked object `n` (its own event) a minute ago */
const frigate = (n: number) =>
  frigateFixture
    .replaceAll('1607123955.475377-mxklsc', `obj-${n}`)
    .replaceAll('1607123955.475377', String((NOW - 60_000 + n * 1000) / 1000));

describe('integrations charge the device they speak for (issue 12)', () => {
  let p: TestPlatform;
  const tokens: Record<string, string> = {};
  const logs = captureLogs('info');
  beforeAll(async () => {
    p = await startTestPlatform({
      clock: createManualClock(NOW),
      logger: logs.logger,
      overrides: {
        limits: { devicePublishesPerSecond: 1, devicePublishBurst: 2, rateHoldMaxMs: 60_000 },
        integrations: {
          chirpstack: {
            enabled: true,
            account: 'chirpstack',
            applications: [APP],
            fields: { rain_mm: 'precipitation' },
            devices: [
              {
                devEui: '0101010101010101',
                sensorId: 'water-kimlong',
                fields: { level_cm: { metric: 'waterLevel', scale: 0.01 } },
              },
              {
                devEui: '0303030303030303',
                sensorId: 'water-phuoc',
                fields: { level_cm: { metric: 'waterLevel', scale: 0.01 } },
              },
              {
                devEui: '0404040404040404',
                sensorId: 'water-truongtien',
                fields: { level_cm: { metric: 'waterLevel', scale: 0.01 } },
              },
            ],
          },
          cameras: {
            sources: [
              {
                id: 'frigate',
                format: 'frigate',
                account: 'frigate',
                topic: 'frigate/events',
                minScore: 0.7,
                zones: ['driveway'],
                cameras: { front_door: 'cam-ngomon' },
                events: { person: 'intrusion', car: 'vehicleCount', cat: 'ignore' },
              },
              {
                id: 'nvr-gahue',
                format: 'onvif',
                account: 'nvr-gahue',
                cameras: { VideoSource_1: 'cam-gahue' },
                events: { 'tns1:RuleEngine/CellMotionDetector/Motion': 'intrusion' },
              },
            ],
          },
        },
      },
    });
    for (const name of ['chirpstack', 'frigate', 'nvr-gahue']) {
      const created = await p.request('POST', '/api/accounts', {
        token: p.adminToken,
        body: { name, role: 'integration' },
      });
      expect(created.status).toBe(201);
      tokens[name] = (
        (await p.request('POST', `/api/accounts/${name}/tokens`, { token: p.adminToken, body: { name: 'push' } }))
          .json as { token: string }
      ).token;
    }
  });
  afterAll(async () => {
    await p?.stop();
  });

  const rateLines = (account: string) => logs.lines.filter((l) => l.reason === 'rate_limited' && l.account === account);
  // acknowledged means durable in the commit log (what was over budget never enters it); the store is fed from
  // the log a moment later, so the count is read once the feeder has applied what was acknowledged (the barrier
  // an API read waits at)
  const stored = async (measurement: string, sensorId: string) => {
    await p.readBarrier();
    return (await p.store.queryPoints({ measurement, tags: { sensorId }, from: NOW - 3_600_000, to: NOW + 1 })).length;
  };
  const storedSoon = async (measurement: string, sensorId: string, expected: number) => {
    await expect.poll(() => stored(measurement, sensorId)).toBe(expected);
    await new Promise((r) => setTimeout(r, 200));
    expect(await stored(measurement, sensorId)).toBe(expected);
  };
  const connectAs = (name: string) =>
    mqtt.connectAsync(p.mqttUrl, { username: name, password: tokens[name]!, clientId: name, reconnectPeriod: 0 });

  it('ChirpStack HTTP: the third uplink of one DevEUI gets 429 rate_limited; another DevEUI goes on', async () => {
    const post = (body: string) =>
      p.request('POST', '/api/integrations/chirpstack?event=up', {
        token: tokens.chirpstack!,
        body,
        headers: { 'content-type': 'application/json' },
      });
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await post(uplink('0303030303030303', i)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 429, 429, 429]);
    expect(answers[2]!.json).toMatchObject({
      code: 'rate_limited',
      message: expect.stringMatching(/water-phuoc sends faster/),
    });
    expect(Number(answers[2]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await storedSoon('water', 'water-phuoc', 2);
    expect(rateLines('water-phuoc')).toHaveLength(1);
    expect(rateLines('water-phuoc')[0]).toMatchObject({ transport: 'http', via: 'chirpstack' });
    // the budget is the device's, not the integration's: another DevEUI through the same account is taken
    expect((await post(uplink('0404040404040404', 0))).status).toBe(200);
  });

  it('ChirpStack MQTT: uplinks over budget are acknowledged but not stored, refused once in the log', async () => {
    const client = await connectAs('chirpstack');
    const topic = `application/${APP}/device/0101010101010101/event/up`;
    for (let i = 0; i < 5; i++) await publishAcked(client, topic, uplink('0101010101010101', i));
    await client.endAsync();
    await storedSoon('water', 'water-kimlong', 2);
    expect(rateLines('water-kimlong')).toHaveLength(1);
    expect(rateLines('water-kimlong')[0]).toMatchObject({ transport: 'mqtt', via: 'chirpstack' });
    // the integration account itself was never refused for rate
    expect(rateLines('chirpstack')).toHaveLength(0);
  });

  it('camera HTTP (ONVIF): the camera over budget gets 429 rate_limited, nothing stored', async () => {
    const alarm = (state: boolean, n: number) =>
      p.request('POST', '/api/integrations/cameras/nvr-gahue', {
        token: tokens['nvr-gahue']!,
        body: JSON.stringify({
          source: 'VideoSource_1',
          topic: 'tns1:RuleEngine/CellMotionDetector/Motion',
          state,
          time: new Date(NOW - 60_000 + n * 1000).toISOString(),
        }),
        headers: { 'content-type': 'application/json' },
      });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await alarm(true, i)).status);
      await alarm(false, i); // the alarm ends: the next one is a new event
    }
    expect(statuses).toEqual([200, 200, 429, 429]);
    const refused = await alarm(true, 9);
    expect(refused.json).toMatchObject({ code: 'rate_limited', rejected: [{ code: 'rate_limited' }] });
    await storedSoon('camera_events', 'cam-gahue', 2);
    expect(rateLines('cam-gahue')).toHaveLength(1);
    expect(rateLines('cam-gahue')[0]).toMatchObject({ transport: 'http', via: 'nvr-gahue' });
  });

  it('camera MQTT (Frigate): events over the camera budget are not stored, refused once in the log', async () => {
    const client = await connectAs('frigate');
    for (let i = 0; i < 5; i++) await publishAcked(client, 'frigate/events', frigate(i));
    await client.endAsync();
    await storedSoon('camera_events', 'cam-ngomon', 2);
    expect(rateLines('cam-ngomon')).toHaveLength(1);
    expect(rateLines('cam-ngomon')[0]).toMatchObject({ transport: 'mqtt', via: 'frigate' });
    const metrics = (await p.request('GET', '/metrics', { token: p.adminToken })).text;
    expect(metrics).toMatch(/ioc_integration_refused_total\{integration="frigate",reason="rate_limited"\} 3/);
  });
});
