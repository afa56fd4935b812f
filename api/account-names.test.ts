import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogs } from '../test-support/log-capture.ts';
import { startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';

/**
 * An account named like a sensor, a prefix of one or one of them followed by more would share the MQTT
 * clientId lane space of that device (broker/client-id-policy.ts): refused at creation.
 */
describe('account names that clash with sensor ids (attacker review item 6)', () => {
  let platform: TestPlatform;
  const logs = captureLogs();
  beforeAll(async () => {
    platform = await startTestPlatform({ logger: logs.logger });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  const create = async (name: string) => {
    const res = await fetch(`${platform.httpUrl}/api/accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${platform.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name, role: 'operator', password: 'mật khẩu đủ dài 2026' }),
    });
    return { status: res.status, json: (await res.json()) as { code?: string; message?: string; name?: string } };
  };
  const names = async () =>
    (
      (await platform.request('GET', '/api/accounts', { token: platform.adminToken })).json as {
        accounts: { name: string }[];
      }
    ).accounts
      .map((a) => a.name)
      .sort();

  it('refuses a sensor id, a prefix of one and one followed by more, over HTTP, logged, nothing changed', async () => {
    expect(platform.city.sensorsById.has('water-kimlong')).toBe(true);
    const before = await names();
    for (const [name, how] of [
      ['water-kimlong', /is the id of the sensor water-kimlong/],
      ['water-kim', /is a prefix of the sensor water-kimlong/],
      ['water-kimlong-ops', /starts with the sensor water-kimlong/],
    ] as const) {
      const res = await create(name);
      expect(res.status).toBe(409);
      expect(res.json).toMatchObject({ code: 'account_name_is_sensor', message: expect.stringMatching(how) });
    }
    expect(await names()).toEqual(before);
    const lines = logs.lines.filter((l) => l.msg === 'account refused');
    expect(lines.map((l) => l.name)).toEqual(['water-kimlong', 'water-kim', 'water-kimlong-ops']);
    expect(logs.text()).not.toContain('mật khẩu');
    // a name clear of every sensor is created as before
    expect((await create('nguyen.an')).status).toBe(201);
  });
});
