import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogs } from '../../test-support/log-capture.ts';
import { publishAcked, startTestPlatform, type TestPlatform } from '../../test-support/platform-harness.ts';
import { shiftedClock } from '../../test-support/shifted-clock.ts';

/**
 * Camera sources end to end: Frigate's documented `frigate/events` message from a real MQTT client logged
 * in as the integration account, ONVIF-style pushes over real HTTP; each to a stored camera event and
 * the city's `intrusion` camera rule firing.
 */
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const frigateUpdate = fixture('frigate-update.json');
// the same tracked object's first message: before it scored enough, so not yet an event
const frigateNew = frigateUpdate
  .replace('"type": "update"', '"type": "new"')
  .replaceAll('"top_score": 0.958984375', '"top_score": 0.5');
const frigateEnd = frigateUpdate.replace('"type": "update"', '"type": "end"');
const START = Date.parse('2020-12-04T23:19:15.475Z');

describe('camera and NVR event sources', () => {
  let p: TestPlatform;
  const tokens: Record<string, string> = {};
  const logs = captureLogs('info');
  beforeAll(async () => {
    p = await startTestPlatform({
      clock: shiftedClock(Date.parse('2020-12-04T23:20:00Z')),
      logger: logs.logger,
      overrides: {
        integrations: {
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
                snapshotUrl: 'https://frigate.example.vn/api/events/{id}/snapshot.jpg',
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
    for (const name of ['frigate', 'nvr-gahue']) {
      expect(
        (await p.request('POST', '/api/accounts', { token: p.adminToken, body: { name, role: 'integration' } })).status,
      ).toBe(201);
      tokens[name] = (
        (await p.request('POST', `/api/accounts/${name}/tokens`, { token: p.adminToken, body: { name: 'push' } }))
          .json as { token: string }
      ).token;
    }
  });
  afterAll(async () => {
    await p?.stop();
  });

  const storedEvents = (sensorId: string) =>
    p.store.queryPoints({
      measurement: 'camera_events',
      tags: { sensorId },
      from: START - 3_600_000,
      to: START + 3_600_000,
    });
  const metric = async (pattern: RegExp) =>
    (await p.request('GET', '/metrics', { token: p.adminToken })).text.match(pattern)?.[1];

  it('turns a Frigate tracked object into one camera event once it qualifies, however often; rule fires', async () => {
    const client = await mqtt.connectAsync(p.mqttUrl, {
      username: 'frigate',
      password: tokens.frigate!,
      clientId: 'frigate',
      reconnectPeriod: 0,
    });
    const seen: Array<{ type: string; sensorId: string; data: Record<string, unknown>; snapshotUrl?: string }> = [];
    p.events.on('cameraEvent', (e) => seen.push(e));
    await publishAcked(client, 'frigate/available', 'online'); // its other topics: forwarded, not ingested
    await publishAcked(client, 'frigate/events', frigateNew);
    expect(seen).toHaveLength(0);
    await publishAcked(client, 'frigate/events', frigateUpdate);
    await publishAcked(client, 'frigate/events', frigateUpdate);
    await publishAcked(client, 'frigate/events', frigateEnd);
    expect(seen).toEqual([
      expect.objectContaining({
        sensorId: 'cam-ngomon',
        type: 'intrusion',
        ts: START,
        data: expect.objectContaining({
          label: 'person',
          score: 0.958984375,
          sourceEventId: '1607123955.475377-mxklsc',
          zones: 'yard,driveway',
        }),
      }),
    ]);
    expect(seen[0]!.snapshotUrl).toBeUndefined(); // the documented object has has_snapshot: false
    await expect.poll(async () => (await storedEvents('cam-ngomon')).map((e) => e.fields.type)).toEqual(['intrusion']);
    await p.alerts.idle();
    expect(
      p.alerts
        .open()
        .filter((a) => a.sensorId === 'cam-ngomon')
        .map((a) => a.ruleId),
    ).toEqual(['intrusion']);
    expect(
      await metric(/ioc_integration_messages_total\{integration="frigate",event="camera",outcome="duplicate"\} (\d+)/),
    ).toBe('2');
    await client.endAsync();
  });

  it('refuses an unmapped Frigate label or camera (reason logged once); ignores a label mapped to ignore', async () => {
    const client = await mqtt.connectAsync(p.mqttUrl, {
      username: 'frigate',
      password: tokens.frigate!,
      clientId: 'frigate-2',
      reconnectPeriod: 0,
    });
    const other = (label: string, camera: string, id: string) =>
      frigateUpdate
        .replaceAll('"label": "person"', `"label": "${label}"`)
        .replaceAll('"camera": "front_door"', `"camera": "${camera}"`)
        .replaceAll('1607123955.475377-mxklsc', id);
    for (let i = 0; i < 3; i++) await publishAcked(client, 'frigate/events', other('bicycle', 'front_door', `b${i}`));
    await publishAcked(client, 'frigate/events', other('person', 'back_yard', 'c1'));
    await publishAcked(client, 'frigate/events', other('cat', 'front_door', 'd1'));
    await client.endAsync();
    const refused = logs.lines.filter((l) => l.msg === 'camera event refused');
    expect(refused.filter((l) => l.label === 'bicycle')).toHaveLength(1);
    expect(refused.find((l) => l.camera === 'back_yard')).toMatchObject({
      code: 'unknown_sensor',
      reason: expect.stringMatching(/Frigate camera "back_yard" is not mapped/),
    });
    expect(await metric(/ioc_integration_refused_total\{integration="frigate",reason="invalid_event"\} (\d+)/)).toBe(
      '3',
    );
    expect(
      await metric(/ioc_integration_messages_total\{integration="frigate",event="camera",outcome="ignored"\} (\d+)/),
    ).toBe('2');
  });

  it('turns an ONVIF XML alarm into a camera event once per alarm, over real HTTP, and fires the rule', async () => {
    const post = (body: string, type = 'application/xml') =>
      p.request('POST', '/api/integrations/cameras/nvr-gahue', {
        token: tokens['nvr-gahue']!,
        body,
        headers: { 'content-type': type },
      });
    const first = await post(fixture('onvif-motion.xml'));
    expect(first.status).toBe(200);
    expect(first.json).toEqual({ accepted: 1, rejected: [] });
    // the camera repeats the alarm while it lasts: a duplicate; then it ends; then a new alarm (JSON form)
    expect((await post(fixture('onvif-motion.xml'))).json).toEqual({ accepted: 0, rejected: [] });
    expect((await post(fixture('onvif-motion.xml').replace('Value="true"', 'Value="false"'))).status).toBe(200);
    const again = await post(
      JSON.stringify({
        source: 'VideoSource_1',
        topic: 'tns1:RuleEngine/CellMotionDetector/Motion',
        state: true,
        time: '2020-12-04T23:19:58Z',
      }),
      'application/json',
    );
    expect(again.json).toEqual({ accepted: 1, rejected: [] });
    await expect
      .poll(async () => (await storedEvents('cam-gahue')).map((e) => [e.ts, e.fields.type]))
      .toEqual([
        [Date.parse('2020-12-04T23:19:50Z'), 'intrusion'],
        [Date.parse('2020-12-04T23:19:58Z'), 'intrusion'],
      ]);
    await p.alerts.idle();
    expect(
      p.alerts
        .open()
        .filter((a) => a.sensorId === 'cam-gahue')
        .map((a) => a.ruleId),
    ).toEqual(['intrusion']);
  });

  it('documents the route in the OpenAPI document', async () => {
    const doc = (await p.request('GET', '/api/openapi.json', { token: null })).json as {
      paths: Record<string, { post: { responses: Record<string, unknown> } }>;
    };
    expect(Object.keys(doc.paths['/api/integrations/cameras/{source}']!.post.responses)).toContain('422');
  });

  it('answers a bad push with the reason and keeps sources to their own accounts', async () => {
    const post = (body: string, token: string, source = 'nvr-gahue') =>
      p.request('POST', `/api/integrations/cameras/${source}`, {
        token,
        body,
        headers: { 'content-type': 'application/json' },
      });
    const unmapped = await post(
      JSON.stringify({ source: 'VideoSource_9', topic: 'tns1:RuleEngine/CellMotionDetector/Motion', state: true }),
      tokens['nvr-gahue']!,
    );
    expect(unmapped.status).toBe(422);
    expect(unmapped.json).toMatchObject({
      code: 'unknown_sensor',
      message: expect.stringMatching(/ONVIF source "VideoSource_9"/),
    });
    const garbage = await post('{"source": 1}', tokens['nvr-gahue']!);
    expect(garbage.status).toBe(400);
    expect(garbage.json).toMatchObject({ code: 'malformed_payload' });
    expect((await post('{}', tokens.frigate!)).status).toBe(403);
    expect((await post('{}', tokens['nvr-gahue']!, 'nowhere')).status).toBe(404);
    // the NVR's account publishes nowhere over MQTT: no source of it is on MQTT
    const client = await mqtt.connectAsync(p.mqttUrl, {
      username: 'nvr-gahue',
      password: tokens['nvr-gahue']!,
      clientId: 'nvr-gahue',
      reconnectPeriod: 0,
    });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish('frigate/events', frigateUpdate, { qos: 1 });
    await closed;
  });
});
