import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { runCli } from '../../cli/ioc.ts';
import { captureLogs } from '../../test-support/log-capture.ts';
import { canConnect, startTestPlatform, type TestPlatform } from '../../test-support/platform-harness.ts';

const quiet = { out: () => undefined, err: () => undefined };

async function signIn(p: TestPlatform, username: string, password: string): Promise<string> {
  const res = await fetch(`${p.httpUrl}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  expect(res.status).toBe(200);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

describe('revocation takes effect at once, without a restart', () => {
  let platform: TestPlatform;
  const logs = captureLogs();
  beforeAll(async () => {
    platform = await startTestPlatform({ logger: logs.logger });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('a device rotated by the CLI is disconnected and cannot come back with the old secret', async () => {
    const sensorId = 'air-ngomon';
    const oldSecret = platform.devicePassword(sensorId);
    const device = await platform.connectDevice(sensorId);
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    const out: string[] = [];
    expect(
      await runCli(['credentials', 'device', sensorId, '--data-dir', platform.dataDir], {
        out: (t) => out.push(t),
        err: () => undefined,
      }),
    ).toBe(0);
    await closed; // the CLI ran "in another process" as far as the platform knows: it saw auth.json change
    expect(await canConnect(platform.mqttUrl, sensorId, oldSecret)).toBe(false);
    expect(await canConnect(platform.mqttUrl, sensorId, out[0]!)).toBe(true);
    expect(logs.lines.some((l) => l.msg === 'closed live connections whose credentials were revoked')).toBe(true);
  });

  it("an operator's WebSocket alert stream closes when their token is revoked", async () => {
    const created = await platform.request('POST', '/api/accounts/operator/tokens', {
      token: platform.adminToken,
      body: { name: 'wall-screen' },
    });
    expect(created.status).toBe(201);
    const { token, id } = created.json as { token: string; id: string };
    const listed = await platform.request('GET', '/api/accounts/operator/tokens', { token: platform.adminToken });
    expect(listed.text).toContain('wall-screen');
    expect(listed.text).not.toContain(token.split('.')[1]!);

    const ws = new WebSocket(`${platform.httpUrl.replace('http', 'ws')}/api/alerts/stream`, {
      headers: { authorization: `Bearer ${token}` },
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('message', () => resolve());
      ws.once('error', reject);
    });
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    // another stream on another token of the same account stays open
    const other = new WebSocket(`${platform.httpUrl.replace('http', 'ws')}/api/alerts/stream`, {
      headers: { authorization: `Bearer ${platform.operatorToken}` },
    });
    await new Promise<void>((resolve, reject) => {
      other.once('message', () => resolve());
      other.once('error', reject);
    });

    expect(
      (await platform.request('DELETE', `/api/accounts/operator/tokens/${id}`, { token: platform.adminToken })).status,
    ).toBe(204);
    expect(await closed).toBe(4401);
    expect((await platform.request('GET', '/api/alerts', { token })).status).toBe(401);
    const refused = new WebSocket(`${platform.httpUrl.replace('http', 'ws')}/api/alerts/stream`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const status = await new Promise<number>((resolve) =>
      refused.once('unexpected-response', (req, res) => {
        req.destroy();
        resolve(res.statusCode ?? 0);
      }),
    );
    expect(status).toBe(401);
    expect(other.readyState).toBe(WebSocket.OPEN);
    other.close();
  });

  it('a cookie session stops working when the CLI disables the account, and works after enable + sign-in', async () => {
    const viewer = platform.credentials!.viewer!;
    const cookie = await signIn(platform, viewer.username, viewer.password);
    expect((await platform.request('GET', '/api/alerts', { token: null, headers: { cookie } })).status).toBe(200);
    expect(await runCli(['accounts', 'disable', 'viewer', '--data-dir', platform.dataDir], quiet)).toBe(0);
    await expect
      .poll(async () => (await platform.request('GET', '/api/alerts', { token: null, headers: { cookie } })).status, {
        timeout: 5000,
      })
      .toBe(401);
    const again = await fetch(`${platform.httpUrl}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: viewer.username, password: viewer.password }),
    });
    expect(again.status).toBe(401);
    expect(await runCli(['accounts', 'enable', 'viewer', '--data-dir', platform.dataDir], quiet)).toBe(0);
    await expect.poll(() => platform.accounts.account('viewer')?.disabled, { timeout: 5000 }).toBe(false);
    // the old session stays ended: disabling ended it for good
    expect((await platform.request('GET', '/api/alerts', { token: null, headers: { cookie } })).status).toBe(401);
    const fresh = await signIn(platform, viewer.username, viewer.password);
    expect((await platform.request('GET', '/api/alerts', { token: null, headers: { cookie: fresh } })).status).toBe(
      200,
    );
  });

  it("a password reset ends the old sessions; an operator's MQTT login by token closes once disabled", async () => {
    const admin = platform.credentials!.admin;
    const cookie = await signIn(platform, admin.username, admin.password);
    const operatorMqtt = await platform.connectOperator();
    const closed = new Promise<void>((resolve) => operatorMqtt.once('close', () => resolve()));
    const reset = await platform.request('PATCH', '/api/accounts/admin', {
      token: platform.adminToken,
      body: { password: 'a-new-long-password' },
    });
    expect(reset.status).toBe(200);
    expect((await platform.request('GET', '/api/session', { token: null, headers: { cookie } })).status).toBe(401);
    // tokens stay
    expect((await platform.request('GET', '/api/session', { token: platform.adminToken })).status).toBe(200);
    expect(
      (
        await platform.request('PATCH', '/api/accounts/operator', {
          token: platform.adminToken,
          body: { disabled: true },
        })
      ).status,
    ).toBe(200);
    await closed;
    expect(await canConnect(platform.mqttUrl, 'operator', platform.operatorToken)).toBe(false);
    expect(
      (
        await platform.request('PATCH', '/api/accounts/operator', {
          token: platform.adminToken,
          body: { disabled: false },
        })
      ).status,
    ).toBe(200);
    expect(await canConnect(platform.mqttUrl, 'operator', platform.operatorToken)).toBe(true);
    // a token logs in over MQTT only under its own account's name
    expect(await canConnect(platform.mqttUrl, 'admin', platform.operatorToken)).toBe(false);
  });

  it('signing out closes the alert stream the browser opened with its session cookie', async () => {
    const viewer = platform.credentials!.viewer!;
    const cookie = await signIn(platform, viewer.username, viewer.password);
    const ws = new WebSocket(`${platform.httpUrl.replace('http', 'ws')}/api/alerts/stream`, { headers: { cookie } });
    await new Promise<void>((resolve, reject) => {
      ws.once('message', () => resolve());
      ws.once('error', reject);
    });
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    expect((await platform.request('DELETE', '/api/session', { token: null, headers: { cookie } })).status).toBe(204);
    expect(await closed).toBe(4401);
  });

  it('a broken auth.json keeps the credentials loaded before and logs one error', async () => {
    const file = join(platform.dataDir, 'auth.json');
    const errorsBefore = logs.lines.filter((l) =>
      l.msg?.toString().startsWith('auth.json changed but is invalid'),
    ).length;
    writeFileSync(file, '{"version": 2, "devices": {}, "accounts": "nope"');
    writeFileSync(file, '{"version": 2, "devices": {}, "accounts": "nope"');
    await expect
      .poll(() => logs.lines.filter((l) => l.msg?.toString().startsWith('auth.json changed but is invalid')).length, {
        timeout: 5000,
      })
      .toBe(errorsBefore + 1);
    expect((await platform.request('GET', '/api/sensors')).status).toBe(200);
    expect(await canConnect(platform.mqttUrl, 'water-kimlong', platform.devicePassword('water-kimlong'))).toBe(true);
  });
});
