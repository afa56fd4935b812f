import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertEvent } from '../alerts/alert-model.ts';
import { verifyWebhookSignature } from '../alerts/delivery/webhook-target.ts';
import { captureLogs } from '../test-support/log-capture.ts';
import { startWebhookReceiver } from '../test-support/webhook-receiver.ts';
import { publishAcked, startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';

/**
 * Webhook targets an admin adds at run time (POST /api/webhooks/targets, alerts/delivery/webhook-target-store.ts)
 * on one node, against a real HTTP receiver: delivered to like the config's, kept across a restart, each
 * refusal answered and logged without the secret.
 */
const SECRET = 'so-chi-huy-phong-chong-lut-0123456789';

describe('webhook targets added through the API', () => {
  const logs = captureLogs('info');
  const dataDir = mkdtempSync(join(tmpdir(), 'ioc-webhook-targets-'));
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let platform: TestPlatform;
  const start = () =>
    startTestPlatform({
      dataDir,
      logger: logs.logger,
      overrides: {
        webhooks: [{ id: 'cau-hinh', url: 'https://example.org/hook', secret: 'a-configured-secret-0123' }],
        // the receiver is on loopback: this platform lets the API's targets say allowPrivate
        security: { allowPrivateWebhookTargets: true },
      },
    });

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    platform = await start();
  });
  afterAll(async () => {
    await platform?.stop();
    await receiver?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const add = (body: Record<string, unknown>, token = platform.adminToken) =>
    platform.request('POST', '/api/webhooks/targets', { token, body });

  it('delivers signed alert events to a target an admin added, and keeps it across a restart', async () => {
    const added = await add({ id: 'so-chi-huy', url: `${receiver.url}/lut?key=k`, secret: SECRET, allowPrivate: true });
    expect(added.status, added.text).toBe(201);
    expect(added.json).toMatchObject({ id: 'so-chi-huy', url: `${receiver.url}/lut`, createdBy: 'admin' });
    expect(added.text).not.toContain(SECRET);
    expect(statSync(join(dataDir, 'webhook-targets.json')).mode & 0o777).toBe(0o600);
    const device = await platform.connectDevice('water-phuoc');
    await publishAcked(device, 'ioc/water/water-phuoc/readings', JSON.stringify({ waterLevel: 1.8 }));
    await expect.poll(() => receiver.received.length, { timeout: 5000 }).toBeGreaterThan(0);
    const first = receiver.received[0]!;
    expect(verifyWebhookSignature(SECRET, first.body, first.headers['x-ioc-signature'] as string)).toBe(true);
    expect((JSON.parse(first.body) as { event: AlertEvent }).event.alert.sensorId).toBe('water-phuoc');

    await platform.stop();
    platform = await start();
    const listed = await platform.request('GET', '/api/webhooks/targets', { token: platform.adminToken });
    expect((listed.json as { targets: Array<{ id: string }> }).targets.map((t) => t.id)).toEqual(['so-chi-huy']);
    expect(listed.text).not.toContain(SECRET);
    const status = await platform.request('GET', '/api/webhooks/deliveries');
    expect((status.json as { targets: Array<{ id: string }> }).targets.map((t) => t.id).sort()).toEqual([
      'cau-hinh',
      'so-chi-huy',
    ]);
  });

  it('refuses a bad target with a specific error, changing nothing and logging no secret', async () => {
    const short = 'ngan-qua';
    const tooShort = await add({ id: 'ngan', url: `${receiver.url}/x`, secret: short, allowPrivate: true });
    expect(tooShort.status).toBe(400);
    expect(tooShort.json).toMatchObject({ code: 'invalid_webhook_target' });
    expect((tooShort.json as { message: string }).message).toMatch(/^secret: /);
    expect(tooShort.text).not.toContain(short);
    // loopback without allowPrivate: refused (SSRF), naming the field
    const loopback = await add({ id: 'noi-bo', url: `${receiver.url}/x`, secret: SECRET });
    expect(loopback.status).toBe(400);
    expect((loopback.json as { message: string }).message).toMatch(/^url: /);
    expect((await add({ id: 'cau-hinh', url: 'https://example.org/x', secret: SECRET })).status).toBe(409);
    expect((await add({ id: 'so-chi-huy', url: 'https://example.org/x', secret: SECRET })).status).toBe(409);
    // operators see deliveries; only admins change targets
    expect(
      (await add({ id: 'van-hanh', url: 'https://example.org/x', secret: SECRET }, platform.operatorToken)).status,
    ).toBe(403);
    const config = await platform.request('DELETE', '/api/webhooks/targets/cau-hinh', { token: platform.adminToken });
    expect(config.status).toBe(409);
    const listed = await platform.request('GET', '/api/webhooks/targets', { token: platform.adminToken });
    expect((listed.json as { targets: Array<{ id: string }> }).targets.map((t) => t.id)).toEqual(['so-chi-huy']);
    const refusals = logs.lines.filter((l) => l.msg === 'webhook target change refused');
    expect(refusals.map((l) => l.code)).toEqual(
      expect.arrayContaining(['invalid_webhook_target', 'webhook_target_exists', 'webhook_target_configured']),
    );
    expect(logs.text()).not.toContain(SECRET);
    expect(logs.text()).not.toContain(short);
  });

  it('removes a target: the dispatcher drops it; a second removal is 404', async () => {
    const removed = await platform.request('DELETE', '/api/webhooks/targets/so-chi-huy', {
      token: platform.adminToken,
    });
    expect(removed.status).toBe(204);
    const status = await platform.request('GET', '/api/webhooks/deliveries');
    expect((status.json as { targets: Array<{ id: string }> }).targets.map((t) => t.id)).toEqual(['cau-hinh']);
    expect(
      (await platform.request('DELETE', '/api/webhooks/targets/so-chi-huy', { token: platform.adminToken })).status,
    ).toBe(404);
  });
});

describe('webhook targets through the API, by default (security.allowPrivateWebhookTargets off)', () => {
  const logs = captureLogs('info');
  const dataDir = mkdtempSync(join(tmpdir(), 'ioc-webhook-ssrf-'));
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform({ dataDir, logger: logs.logger });
  });
  afterAll(async () => {
    await platform?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const add = (body: Record<string, unknown>) =>
    platform.request('POST', '/api/webhooks/targets', { token: platform.adminToken, body });
  const refusal = async (body: Record<string, unknown>) => {
    const res = await add({ secret: SECRET, ...body });
    expect(res.status, res.text).toBe(400);
    expect(res.json).toMatchObject({ code: 'invalid_webhook_target' });
    return (res.json as { message: string }).message;
  };

  it('refuses allowPrivate, private and metadata addresses, credentials in the URL and oversized fields', async () => {
    // an admin session (or a stolen one) cannot open the inside of the city network to the nodes
    expect(await refusal({ id: 'noi-bo', url: 'http://10.1.2.3/hook', allowPrivate: true })).toMatch(
      /^allowPrivate: .*security\.allowPrivateWebhookTargets/,
    );
    expect(await refusal({ id: 'noi-bo', url: 'http://127.0.0.1:8080/api', allowPrivate: true })).toMatch(
      /^allowPrivate: /,
    );
    for (const url of ['http://10.1.2.3/hook', 'http://[::ffff:7f00:1]/x', 'http://localhost./x', 'http://0/x'])
      expect(await refusal({ id: 'noi-bo', url })).toMatch(/^url: /);
    expect(await refusal({ id: 'metadata', url: 'http://169.254.169.254/latest/meta-data/' })).toMatch(
      /cloud metadata/,
    );
    const withCredentials = await refusal({ id: 'mat-khau', url: 'https://user:mat-khau-bi-mat@example.org/x' });
    expect(withCredentials).toMatch(/^url: credentials/);
    expect(withCredentials).not.toContain('mat-khau-bi-mat');
    expect(await refusal({ id: 'dai', url: `https://example.org/${'a'.repeat(3000)}` })).toMatch(/^url: /);
    expect(await refusal({ id: 'dai', url: 'https://example.org/x', secret: 's'.repeat(5000) })).toMatch(/^secret: /);
    const many = Array.from({ length: 101 }, (_, i) => `quan-${i}`);
    expect(await refusal({ id: 'dai', url: 'https://example.org/x', filter: { district: many } })).toMatch(
      /^filter\.district: /,
    );
    // nothing was added, and no refusal logged a secret or the URL's password
    const listed = await platform.request('GET', '/api/webhooks/targets', { token: platform.adminToken });
    expect((listed.json as { targets: unknown[] }).targets).toEqual([]);
    expect(logs.text()).not.toContain(SECRET);
    expect(logs.text()).not.toContain('mat-khau-bi-mat');
    // a public target is still taken
    expect((await add({ id: 'cong-khai', url: 'https://example.org/hook', secret: SECRET })).status).toBe(201);
  });

  it('skips, and logs, a stored target that says allowPrivate while the setting is off', async () => {
    await platform.stop();
    const file = join(dataDir, 'webhook-targets.json');
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { targets: Array<{ target: Record<string, unknown> }> };
    const target = { ...stored.targets[0]!.target, id: 'cu-noi-bo', url: 'http://10.0.0.9/x', allowPrivate: true };
    writeFileSync(file, JSON.stringify({ ...stored, targets: [...stored.targets, { ...stored.targets[0], target }] }));
    platform = await startTestPlatform({ dataDir, logger: logs.logger });
    const status = await platform.request('GET', '/api/webhooks/deliveries');
    expect((status.json as { targets: Array<{ id: string }> }).targets.map((t) => t.id)).toEqual(['cong-khai']);
    expect(logs.lines.some((l) => l.msg === 'a stored webhook target is refused here: skipped')).toBe(true);
  });
});
