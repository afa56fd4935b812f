import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { publishAcked, startTestPlatform, tryConnect, type TestPlatform } from '../test-support/platform-harness.ts';

/**
 * The device registry at runtime, through the real platform: admin API -> sensors.json + auth.json ->
 * a real mqtt.js device over a real socket -> ingest -> store -> rules. No restart anywhere.
 */
interface Credentials {
  sensorId: string;
  kind: string;
  username: string;
  password: string;
}

const station = (id: string, over: Record<string, unknown> = {}) => ({
  id,
  kind: 'water',
  name: `Thước nước ${id}`,
  lat: 16.47,
  lon: 107.59,
  district: 'Vỹ Dạ',
  tags: { role: 'river-level', river: 'Hương' },
  floodLevels: [1, 2, 3],
  ...over,
});

function closed(client: MqttClient, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!client.connected) return resolve();
    const timer = setTimeout(() => reject(new Error('the session was not closed')), timeoutMs);
    client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

describe('device registry at runtime', () => {
  let platform: TestPlatform;
  const admin = (method: string, path: string, body?: unknown) =>
    platform.request(method, path, { token: platform.adminToken, body });
  const connect = (c: Credentials) =>
    tryConnect(platform.mqttUrl, { username: c.username, password: c.password, clientId: c.sensorId });
  beforeAll(async () => {
    platform = await startTestPlatform();
  });
  afterAll(async () => {
    await platform.stop();
  });

  it('creates a sensor that can publish at once; its reading is stored and fires a kind+district rule', async () => {
    const created = await admin('POST', '/api/sensors', station('water-vyda'));
    expect(created.status).toBe(201);
    const { credentials, sensor } = created.json as {
      credentials: Credentials;
      sensor: { disabled: boolean; hasSecret: boolean };
    };
    expect(sensor).toMatchObject({ disabled: false, hasSecret: true });
    // a rule for the new district: refused before the sensor existed would be the old behaviour; now it targets it
    const rule = await admin('POST', '/api/rules', {
      id: 'vyda-high',
      type: 'threshold',
      selector: { kinds: ['water'], districts: ['Vỹ Dạ'] },
      metric: 'waterLevel',
      above: 2.5,
      severity: 'high',
      category: 'naturalDisaster',
      subCategory: 'flood',
      message: { vi: 'Mực nước cao tại {sensor}', en: 'High water at {sensor}' },
    });
    expect(rule.status, rule.text).toBe(201);
    const device = await connect(credentials);
    expect(device.ok).toBe(true);
    await publishAcked(device.client!, 'ioc/water/water-vyda/readings', JSON.stringify({ waterLevel: 3.2 }));
    await platform.alerts.idle();
    const read = await platform.request('GET', '/api/sensors/water-vyda/readings?metric=waterLevel&from=0');
    expect((read.json as { points: Array<{ value: number }> }).points.map((p) => p.value)).toEqual([3.2]);
    const fired = platform.alerts
      .open()
      .filter((a) => a.sensorId === 'water-vyda')
      .map((a) => a.ruleId)
      .sort();
    expect(fired).toEqual(['flood-level-1', 'flood-level-2', 'flood-level-3', 'vyda-high']);
    const listed = await platform.request('GET', '/api/sensors?district=V%E1%BB%B9%20D%E1%BA%A1');
    expect((listed.json as { sensors: Array<{ id: string }> }).sensors.map((s) => s.id)).toEqual(['water-vyda']);
    await device.client!.endAsync();
  });

  it('rotating closes the live session and refuses the old secret; the new one works', async () => {
    const { credentials } = (await admin('POST', '/api/sensors', station('water-rotate'))).json as {
      credentials: Credentials;
    };
    const device = await connect(credentials);
    expect(device.ok).toBe(true);
    const gone = closed(device.client!);
    const rotated = await admin('POST', '/api/sensors/water-rotate/secret');
    expect(rotated.status).toBe(200);
    expect(rotated.text).not.toContain(credentials.password);
    await gone;
    expect((await connect(credentials)).code).toBe(4);
    const fresh = await connect(rotated.json as Credentials);
    expect(fresh.ok).toBe(true);
    await publishAcked(fresh.client!, 'ioc/water/water-rotate/readings', JSON.stringify({ waterLevel: 0.4 }));
    await fresh.client!.endAsync();
  });

  it('disabling refuses the device at once and closes its session; enabling lets the same secret back', async () => {
    const { credentials } = (await admin('POST', '/api/sensors', station('water-disable'))).json as {
      credentials: Credentials;
    };
    const device = await connect(credentials);
    const gone = closed(device.client!);
    const disabled = await admin('PATCH', '/api/sensors/water-disable', { disabled: true });
    expect(disabled.json).toMatchObject({ disabled: true });
    await gone;
    expect((await connect(credentials)).ok).toBe(false);
    expect((await platform.request('GET', '/api/sensors/water-disable')).status).toBe(404);
    // HTTP ingest with an operator token is refused as well: the sensor is not active
    const viaHttp = await platform.request('POST', '/api/ingest/water/water-disable/readings', {
      body: { waterLevel: 1 },
    });
    expect(viaHttp.status).not.toBe(200);
    await admin('PATCH', '/api/sensors/water-disable', { disabled: false });
    const back = await connect(credentials);
    expect(back.ok).toBe(true);
    await back.client!.endAsync();
  });

  it("a kind corrected at runtime holds at the connected device's next publish to the same topic", async () => {
    // the broker reuses a connection's ACL decision for a topic only while the sensor's kind is the same
    const { credentials } = (await admin('POST', '/api/sensors', station('water-rekind'))).json as {
      credentials: Credentials;
    };
    const device = await connect(credentials);
    expect(device.ok).toBe(true);
    const topic = 'ioc/air/water-rekind/readings';
    const stored = async () =>
      (
        (await platform.request('GET', '/api/sensors/water-rekind/readings?metric=pm25&from=0')).json as {
          points: Array<{ value: number }>;
        }
      ).points.map((p) => p.value);
    await publishAcked(device.client!, topic, JSON.stringify({ pm25: 7 })); // registered as water: not stored
    const patched = await admin('PATCH', '/api/sensors/water-rekind', { kind: 'air', floodLevels: null });
    expect(patched.status, patched.text).toBe(200);
    expect(device.client!.connected).toBe(true);
    await publishAcked(device.client!, topic, JSON.stringify({ pm25: 8 }));
    expect(await stored()).toEqual([8]);
    await device.client!.endAsync();
  });

  it('deleting removes the secret and closes the session; the registry answers 404 after', async () => {
    const { credentials } = (await admin('POST', '/api/sensors', station('water-delete'))).json as {
      credentials: Credentials;
    };
    const device = await connect(credentials);
    const gone = closed(device.client!);
    expect((await admin('DELETE', '/api/sensors/water-delete')).status).toBe(204);
    await gone;
    expect((await connect(credentials)).ok).toBe(false);
    expect((await admin('DELETE', '/api/sensors/water-delete')).status).toBe(404);
    expect((await admin('POST', '/api/sensors/water-delete/secret')).status).toBe(404);
  });

  it('answers clear 400, 403, 404 and 409 errors and changes nothing', async () => {
    const before = (await admin('GET', '/api/sensor-registry')).json as { sensors: unknown[] };
    const unknownKind = await admin('POST', '/api/sensors', station('x-kind', { kind: 'lava' }));
    expect(unknownKind.status).toBe(400);
    expect(unknownKind.text).toContain('unknown kind \\"lava\\"');
    const outside = await admin('POST', '/api/sensors', station('x-far', { lat: 10.77, lon: 106.7 }));
    expect(outside.status).toBe(400);
    expect(outside.text).toContain('outside the city boundary');
    expect((await admin('POST', '/api/sensors', station('water-kimlong'))).status).toBe(409);
    expect((await admin('PATCH', '/api/sensors/nope', { name: 'x' })).status).toBe(404);
    expect((await platform.request('POST', '/api/sensors', { body: station('x-op') })).status).toBe(403);
    const after = (await admin('GET', '/api/sensor-registry')).json as { sensors: unknown[] };
    expect(after.sensors.length).toBe(before.sensors.length);
    const metrics = (await admin('GET', '/metrics')).text;
    expect(metrics).toMatch(/ioc_sensor_registry_refusals_total\{status="400"\} 2/);
    expect(metrics).toMatch(/ioc_sensor_registry_refusals_total\{status="409"\} 1/);
  });

  it('refuses a sensor id that equals, prefixes or extends an account name (it would take its MQTT lane)', async () => {
    const before = (await admin('GET', '/api/sensor-registry')).json as { sensors: unknown[] };
    for (const id of ['operator', 'operator-2', 'oper']) {
      const answer = await admin('POST', '/api/sensors', station(id));
      expect(answer.status, id).toBe(409);
      expect(answer.text).toContain('sensor_id_is_account');
    }
    const after = (await admin('GET', '/api/sensor-registry')).json as { sensors: unknown[] };
    expect(after.sensors.length).toBe(before.sensors.length);
  });

  it('documents every registry route in the OpenAPI document, with an operationId', async () => {
    const doc = (await platform.request('GET', '/api/openapi.json', { token: null })).json as {
      paths: Record<string, Record<string, { operationId?: string }>>;
    };
    const ops = [
      '/api/sensors:post',
      '/api/sensors/{id}:patch',
      '/api/sensors/{id}:delete',
      '/api/sensors/{id}/secret:post',
      '/api/sensors/{id}/provisioning-codes:post',
      '/api/sensors/import:post',
      '/api/provision:post',
      '/api/sensor-registry:get',
    ];
    for (const op of ops) {
      const [path, method] = op.split(':') as [string, string];
      expect(doc.paths[path]?.[method]?.operationId, op).toBeTruthy();
    }
  });

  it('audits every change', async () => {
    await admin('POST', '/api/sensors', station('water-audit'));
    await admin('PATCH', '/api/sensors/water-audit', { name: 'Đổi tên' });
    const audit = await admin('GET', '/api/audit?action=sensor');
    const entries = (
      audit.json as { entries: Array<{ action: string; target?: string; details?: { after?: { name?: string } } }> }
    ).entries;
    const mine = entries.filter((e) => e.target === 'water-audit');
    expect(mine.map((e) => e.action)).toEqual(['sensor.update', 'sensor.create']);
    expect(mine[0]!.details?.after?.name).toBe('Đổi tên');
  });
});
