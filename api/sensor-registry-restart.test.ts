import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestPlatform, tryConnect, type TestPlatform } from '../test-support/platform-harness.ts';

/** The registry is the platform's own state: seeded once from the YAML, kept across restarts (0600). */
describe('device registry across a restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ioc-registry-restart-'));
  let platform: TestPlatform | undefined;
  afterAll(async () => {
    await platform?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps created, edited and disabled sensors; the YAML only seeds an empty registry', async () => {
    platform = await startTestPlatform({ dataDir });
    const file = join(dataDir, 'sensors.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const seeded = JSON.parse(readFileSync(file, 'utf8')) as { sensors: Array<{ id: string }> };
    expect(seeded.sensors.length).toBe(platform.city.sensors.length);
    const admin = (method: string, path: string, body?: unknown) =>
      platform!.request(method, path, { token: platform!.adminToken, body });
    const created = await admin('POST', '/api/sensors', {
      id: 'traffic-kept',
      kind: 'traffic',
      name: 'Đếm xe mới',
      lat: 16.45,
      lon: 107.6,
      district: 'An Cựu',
    });
    const { password } = (created.json as { credentials: { password: string } }).credentials;
    await admin('PATCH', '/api/sensors/air-gahue', { disabled: true });
    await admin('PATCH', '/api/sensors/air-ngomon', { district: 'Thuận Hóa', tags: { site: 'moved' } });
    await admin('DELETE', '/api/sensors/cam-sanbay');
    await platform.close();

    platform = await startTestPlatform({ dataDir });
    expect((await platform.request('GET', '/api/sensors/air-gahue')).status).toBe(404);
    expect((await platform.request('GET', '/api/sensors/cam-sanbay')).status).toBe(404);
    expect((await platform.request('GET', '/api/sensors/air-ngomon')).json).toMatchObject({
      district: 'Thuận Hóa',
      tags: { site: 'moved' },
    });
    const registry = (await admin('GET', '/api/sensor-registry')).json as {
      sensors: Array<{ id: string; disabled: boolean }>;
    };
    expect(registry.sensors.find((s) => s.id === 'air-gahue')).toMatchObject({ disabled: true });
    expect(registry.sensors.some((s) => s.id === 'cam-sanbay')).toBe(false);
    const device = await tryConnect(platform.mqttUrl, { username: 'traffic-kept', password, clientId: 'traffic-kept' });
    expect(device.ok).toBe(true);
    await device.client!.endAsync();
  });
});
