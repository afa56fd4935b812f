import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../core/clock.ts';
import { publishAcked, startTestPlatform, tryConnect, type TestPlatform } from '../test-support/platform-harness.ts';

/** One-time provisioning codes over real HTTP and a real MQTT device. */
interface Claimed {
  sensorId: string;
  username: string;
  password: string;
  mqttUrl: string;
  topics: { readings: string };
}

describe('provisioning codes', () => {
  let platform: TestPlatform;
  const clock = createManualClock(Date.now());
  const admin = (method: string, path: string, body?: unknown) =>
    platform.request(method, path, { token: platform.adminToken, body });
  const claim = (code: string) => platform.request('POST', '/api/provision', { token: null, body: { code } });
  beforeAll(async () => {
    platform = await startTestPlatform({ clock });
    await admin('POST', '/api/sensors', {
      id: 'air-field',
      kind: 'air',
      name: 'Trạm lắp mới',
      lat: 16.46,
      lon: 107.59,
      district: 'Phú Xuân',
    });
  });
  afterAll(async () => {
    await platform.stop();
  });

  it('gives the credentials once; the second use is refused, logged and counted; only a digest is stored', async () => {
    const issued = await admin('POST', '/api/sensors/air-field/provisioning-codes', { expiresInMinutes: 30 });
    expect(issued.status).toBe(201);
    const { code } = issued.json as { code: string };
    expect(code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    const stored = readFileSync(join(platform.dataDir, 'provisioning.json'), 'utf8');
    expect(stored).not.toContain(code.replace(/-/g, ''));
    expect(statSync(join(platform.dataDir, 'provisioning.json')).mode & 0o777).toBe(0o600);

    const first = await claim(code.toLowerCase().replace(/-/g, ' '));
    expect(first.status).toBe(200);
    const creds = first.json as Claimed;
    expect(creds).toMatchObject({
      sensorId: 'air-field',
      username: 'air-field',
      mqttUrl: platform.mqttUrl,
      topics: { readings: 'ioc/air/air-field/readings' },
    });
    const device = await tryConnect(creds.mqttUrl, {
      username: creds.username,
      password: creds.password,
      clientId: 'air-field',
    });
    expect(device.ok).toBe(true);
    await publishAcked(device.client!, creds.topics.readings, JSON.stringify({ pm25: 8 }));
    await device.client!.endAsync();

    const second = await claim(code);
    expect(second.status).toBe(403);
    expect(second.json).toMatchObject({ code: 'provisioning_code_refused' });
    const metrics = (await platform.request('GET', '/metrics', { token: platform.adminToken })).text;
    expect(metrics).toMatch(/ioc_provisioning_refusals_total\{reason="used"\} 1/);
  });

  it('refuses an expired code and an unknown one', async () => {
    const { code } = (await admin('POST', '/api/sensors/air-field/provisioning-codes', { expiresInMinutes: 5 }))
      .json as { code: string };
    clock.advance(6 * 60_000);
    // expired, unknown, malformed and (above) used look the same to the caller: no reason in the answer
    const answers = [await claim(code), await claim('AAAA-BBBB-CCCC'), await claim('not a code at all')];
    expect(answers.map((r) => r.status)).toEqual([403, 403, 403]);
    expect(new Set(answers.map((r) => r.text)).size).toBe(1);
    const metrics = (await platform.request('GET', '/metrics', { token: platform.adminToken })).text;
    expect(metrics).toMatch(/ioc_provisioning_refusals_total\{reason="expired"\} 1/);
  });

  it('rate-limits failed attempts per address (429), before looking at the code', async () => {
    const { code } = (await admin('POST', '/api/sensors/air-field/provisioning-codes', {})).json as { code: string };
    clock.advance(60 * 60_000 + 1); // the previous test's failures age out of the window
    let status = 0;
    for (let i = 0; i < 60 && status !== 429; i++)
      status = (await claim(`ZZZZ-ZZZZ-ZZ${'23456789'[i % 8]}${'23456789'[Math.floor(i / 8) % 8]}`)).status;
    expect(status).toBe(429);
    // even the right code waits: guessing cannot continue from this address
    expect((await claim(code)).status).toBe(429);
    expect((await admin('POST', '/api/sensors/nope/provisioning-codes', {})).status).toBe(404);
  });
});
