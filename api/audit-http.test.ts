import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../alerts/alert-model.ts';
import type { AuditEntry } from '../audit/audit-entry.ts';
import { publishAcked, startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';

/**
 * The audit trail through a real HTTP socket on a whole platform: each kind of change leaves one entry
 * with who, when, from where and what changed; refusals leave auth.failure entries; admins page, export
 * and verify it, and an edit of the file on disk shows with its file and line.
 */
const trafficRule = (id: string, sensorId: string, above: number) => ({
  id,
  type: 'threshold',
  selector: { sensorIds: [sensorId] },
  metric: 'intensity',
  above,
  severity: 'low',
  category: 'traffic',
  subCategory: 'trafficJam',
});

describe('audit log over HTTP', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });

  const admin = () => ({ token: platform.adminToken });
  /** the entries matching a filter, oldest first */
  async function entries(query: string): Promise<AuditEntry[]> {
    const res = await platform.request('GET', `/api/audit?limit=1000&${query}`, admin());
    expect(res.status).toBe(200);
    return (res.json as { entries: AuditEntry[] }).entries.reverse();
  }
  async function one(action: string, target: string): Promise<AuditEntry> {
    const found = (await entries(`action=${action}`)).filter((e) => e.target === target);
    expect(found, `${action} ${target}`).toHaveLength(1);
    const e = found[0]!;
    expect(e.address).toBe('127.0.0.1');
    expect(Math.abs(e.ts - Date.now())).toBeLessThan(60_000);
    return e;
  }
  async function signIn(username: string, password: string) {
    const res = await fetch(`${platform.httpUrl}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    return { status: res.status, cookie: res.headers.get('set-cookie')?.split(';')[0] ?? '' };
  }

  it('records a sign-in with the account and a refused one with the name typed, never the password', async () => {
    const viewer = platform.credentials!.viewer!;
    expect((await signIn(viewer.username, viewer.password)).status).toBe(200);
    const login = await one('session.login', viewer.username);
    expect(login.actor).toEqual({ name: viewer.username, role: 'viewer' });

    expect((await signIn(viewer.username, 'not-the-password-1')).status).toBe(401);
    const failed = (await entries('action=auth.failure')).filter((e) => e.target === 'POST /api/session');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      outcome: 'failure',
      address: '127.0.0.1',
      details: { username: viewer.username, reason: 'bad_password' },
    });
    expect(JSON.stringify(failed[0])).not.toContain('not-the-password-1');
  });

  it('records a viewer calling an admin route as auth.failure', async () => {
    const viewer = platform.credentials!.viewer!;
    const { cookie } = await signIn(viewer.username, viewer.password);
    expect((await platform.request('GET', '/api/audit', { token: null, headers: { cookie } })).status).toBe(403);
    const refused = (await entries('action=auth.failure')).filter((e) => e.target === 'GET /api/audit');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({
      actor: { name: viewer.username, role: 'viewer' },
      details: { code: 'role_required' },
    });
  });

  it('records acknowledge with a note, resolve, and rule changes with before and after', async () => {
    const ruleId = 'audit-test-jam';
    const sensorId = 'traffic-phubai';
    expect(
      (await platform.request('POST', '/api/rules', { ...admin(), body: trafficRule(ruleId, sensorId, 50) })).status,
    ).toBe(201);
    expect((await one('rule.create', ruleId)).details).toMatchObject({ after: { id: ruleId, above: 50 } });
    expect(
      (await platform.request('PUT', `/api/rules/${ruleId}`, { ...admin(), body: trafficRule(ruleId, sensorId, 40) }))
        .status,
    ).toBe(200);
    const update = await one('rule.update', ruleId);
    expect(update.actor).toEqual({ name: 'admin', role: 'admin' });
    expect(update.details).toMatchObject({ before: { above: 50 }, after: { above: 40 } });

    const device = await platform.connectDevice(sensorId);
    await publishAcked(device, `ioc/traffic/${sensorId}/readings`, JSON.stringify({ intensity: 90 }));
    let alert: Alert | undefined;
    await expect
      .poll(
        async () => {
          const res = await platform.request('GET', `/api/alerts?sensorId=${sensorId}&state=firing`);
          alert = (res.json as { alerts: Alert[] }).alerts.find((a) => a.ruleId === ruleId);
          return alert?.state;
        },
        { timeout: 5000 },
      )
      .toBe('firing');

    expect(
      (await platform.request('POST', `/api/alerts/${alert!.id}/ack`, { body: { note: 'đội 3 đang đến' } })).status,
    ).toBe(200);
    const ack = await one('alert.acknowledge', alert!.id);
    expect(ack).toMatchObject({
      actor: { name: 'operator', role: 'operator' },
      details: { before: { state: 'firing' }, after: { state: 'acknowledged' }, note: 'đội 3 đang đến' },
    });
    expect(
      (await platform.request('POST', `/api/alerts/${alert!.id}/resolve`, { body: { note: 'đã thông xe' } })).status,
    ).toBe(200);
    expect((await one('alert.resolve', alert!.id)).details).toMatchObject({
      before: { state: 'acknowledged' },
      after: { state: 'resolved' },
      note: 'đã thông xe',
    });

    expect((await platform.request('DELETE', `/api/rules/${ruleId}`, admin())).status).toBe(204);
    expect((await one('rule.delete', ruleId)).details).toMatchObject({ before: { id: ruleId } });
  });

  it('records account and token changes with what changed, never a password or token secret', async () => {
    const created = await platform.request('POST', '/api/accounts', {
      ...admin(),
      body: { name: 'lan.nguyen', role: 'viewer', password: 'a-long-enough-password-1' },
    });
    expect(created.status).toBe(201);
    expect((await one('account.create', 'lan.nguyen')).details).toEqual({
      after: { role: 'viewer', disabled: false, iocDuty: false, hasPassword: true },
    });
    expect(
      (
        await platform.request('PATCH', '/api/accounts/lan.nguyen', {
          ...admin(),
          body: { role: 'operator', password: 'another-long-password-2' },
        })
      ).status,
    ).toBe(200);
    const patch = await one('account.update', 'lan.nguyen');
    expect(patch.details).toEqual({
      before: { role: 'viewer', disabled: false, iocDuty: false },
      after: { role: 'operator', disabled: false, iocDuty: false },
      passwordReset: true,
    });

    const token = await platform.request('POST', '/api/accounts/lan.nguyen/tokens', {
      ...admin(),
      body: { name: 'script', expiresInDays: 30 },
    });
    expect(token.status).toBe(201);
    const tokenEntry = await one('token.create', 'lan.nguyen/script');
    expect(tokenEntry.details).toMatchObject({ after: { name: 'script', expiresAt: expect.any(String) } });
    expect((await platform.request('DELETE', '/api/accounts/lan.nguyen/tokens/script', admin())).status).toBe(204);
    await one('token.revoke', 'lan.nguyen/script');

    const log = readFileSync(join(platform.dataDir, 'audit', 'audit.log'), 'utf8');
    for (const secret of [
      'a-long-enough-password-1',
      'another-long-password-2',
      (token.json as { token: string }).token,
    ])
      expect(log).not.toContain(secret);
  });

  it('pages newest first, filters by actor and action, exports NDJSON and CSV', async () => {
    const all = await entries('');
    expect(all.length).toBeGreaterThan(6);
    const first = await platform.request('GET', '/api/audit?limit=2', admin());
    const page1 = first.json as { entries: AuditEntry[]; nextCursor: number };
    expect(page1.entries.map((e) => e.seq)).toEqual([all.at(-1)!.seq, all.at(-2)!.seq]);
    const page2 = (await platform.request('GET', `/api/audit?limit=2&cursor=${page1.nextCursor}`, admin())).json as {
      entries: AuditEntry[];
    };
    expect(page2.entries.map((e) => e.seq)).toEqual([all.at(-3)!.seq, all.at(-4)!.seq]);
    expect((await entries('actor=operator&action=alert')).map((e) => e.action)).toEqual([
      'alert.acknowledge',
      'alert.resolve',
    ]);
    expect(await platform.request('GET', '/api/audit?action=Not-An-Action', admin())).toMatchObject({
      status: 400,
      json: { code: 'invalid_action' },
    });

    const ndjson = await platform.request('GET', '/api/audit/export?action=rule', admin());
    expect(ndjson.status).toBe(200);
    const lines = ndjson.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditEntry);
    expect(lines.map((e) => e.action)).toEqual(['rule.create', 'rule.update', 'rule.delete']);
    const csv = await platform.request('GET', '/api/audit/export?format=csv&action=account', admin());
    const rows = csv.text.trim().split('\r\n');
    expect(rows[0]).toMatch(/^seq,/);
    expect(rows.slice(1).map((r) => r.includes('account.create') || r.includes('account.update'))).toEqual([
      true,
      true,
    ]);
  });

  it('verifies the chain, then names the file and line of a line edited on disk', async () => {
    const ok = await platform.request('GET', '/api/audit/verify', admin());
    expect(ok).toMatchObject({ status: 200, json: { ok: true, breaks: [] } });
    const file = join(platform.dataDir, 'audit', 'audit.log');
    const lines = readFileSync(file, 'utf8').split('\n');
    const at = lines.findIndex((l) => l.includes('"alert.acknowledge"'));
    lines[at] = lines[at]!.replace('đội 3 đang đến', 'nobody came');
    writeFileSync(file, lines.join('\n'));
    const broken = await platform.request('GET', '/api/audit/verify', admin());
    const body = broken.json as { ok: boolean; breaks: Array<{ file: string; line: number; reason: string }> };
    expect(body.ok).toBe(false);
    expect(body.breaks[0]).toMatchObject({ file: 'audit.log', line: at + 1 });
    expect((await platform.request('GET', '/api/health')).json).toMatchObject({ audit: { chain: 'broken' } });
  });
});
