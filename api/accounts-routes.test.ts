import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../alerts/alert-model.ts';
import { publishAcked, startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';

async function signIn(p: TestPlatform, username: string, password: string): Promise<string> {
  const res = await fetch(`${p.httpUrl}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  expect(res.status).toBe(200);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

describe('accounts API (admin)', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });
  const admin = () => ({ token: platform.adminToken });

  it('only admins manage accounts; lists show no secret or hash', async () => {
    expect((await platform.request('GET', '/api/accounts')).status).toBe(403); // operator token
    expect((await platform.request('POST', '/api/accounts', { body: { name: 'x1', role: 'admin' } })).status).toBe(403);
    const list = await platform.request('GET', '/api/accounts', admin());
    expect(list.status).toBe(200);
    const names = (list.json as { accounts: Array<{ name: string; role: string }> }).accounts.map(
      (a) => `${a.name}:${a.role}`,
    );
    expect(names).toEqual(expect.arrayContaining(['viewer:viewer', 'operator:operator', 'admin:admin']));
    expect(list.text).not.toMatch(/argon2|"hash"|"salt"/);
    expect(list.text).not.toContain(platform.operatorToken.split('.')[1]!);
    const bad = await platform.request('POST', '/api/accounts', {
      ...admin(),
      body: { name: 'le.chi', role: 'superuser', password: 'short' },
    });
    expect(bad.status).toBe(400);
    expect((bad.json as { message: string }).message).toMatch(/role/);
    expect(
      (await platform.request('PATCH', '/api/accounts/admin', { ...admin(), body: { role: 'viewer' } })).json,
    ).toMatchObject({ code: 'last_admin' });
    expect(
      (await platform.request('PATCH', '/api/accounts/__proto__', { ...admin(), body: { disabled: true } })).status,
    ).toBe(404);
  });

  it("a new operator signs in, and an acknowledgement carries that person's account name", async () => {
    // on IOC duty: the traffic alert is routed to the transport department, of which le.chi is no member
    const created = await platform.request('POST', '/api/accounts', {
      ...admin(),
      body: { name: 'le.chi', role: 'operator', password: 'mat-khau-dai-du', iocDuty: true },
    });
    expect(created).toMatchObject({
      status: 201,
      json: { name: 'le.chi', role: 'operator', hasPassword: true, iocDuty: true },
    });
    const cookie = await signIn(platform, 'le.chi', 'mat-khau-dai-du');

    const sensorId = 'traffic-phubai';
    const rule = {
      id: 'test-accounts-jam',
      type: 'threshold',
      selector: { sensorIds: [sensorId] },
      metric: 'intensity',
      above: 50,
      severity: 'low',
      category: 'traffic',
      subCategory: 'trafficJam',
    };
    expect((await platform.request('POST', '/api/rules', { ...admin(), body: rule })).status).toBe(201);
    const device = await platform.connectDevice(sensorId);
    await publishAcked(device, `ioc/traffic/${sensorId}/readings`, JSON.stringify({ intensity: 90 }));
    let alert: Alert | undefined;
    await expect
      .poll(
        async () => {
          const res = await platform.request('GET', `/api/alerts?sensorId=${sensorId}&state=firing`, {
            token: null,
            headers: { cookie },
          });
          alert = (res.json as { alerts: Alert[] }).alerts.find((a) => a.ruleId === rule.id);
          return alert?.state;
        },
        { timeout: 5000 },
      )
      .toBe('firing');
    const ack = await platform.request('POST', `/api/alerts/${alert!.id}/ack`, {
      token: null,
      headers: { cookie },
      body: { note: 'đang xử lý' },
    });
    expect(ack).toMatchObject({ status: 200, json: { alert: { acknowledgedBy: 'le.chi' } } });
  });
});
