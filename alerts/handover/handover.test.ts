import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceStateTracker } from '../../ingest/device-state.ts';
import { hueCity, reading, status } from '../alert-test-kit.ts';
import { verifyWebhookSignature } from '../delivery/webhook-target.ts';
import { duty, hueRules, person, startWorkflowHarness, type WorkflowHarness } from '../workflow/workflow-test-kit.ts';
import { renderHandoverHtml } from './handover-html.ts';
import { createHandoverService, type HandoverService } from './handover-service.ts';

let w: WorkflowHarness | undefined;
let svc: HandoverService | undefined;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  svc?.stop();
  await w?.close();
  for (const c of closers.splice(0)) await c();
  w = undefined;
  svc = undefined;
});

const MIN = 60_000;
const HOUR = 60 * MIN;
const SECRET = 'handover-secret-0123456789';

async function receiver(): Promise<{ url: string; got: Array<{ body: string; headers: IncomingHttpHeaders }> }> {
  const got: Array<{ body: string; headers: IncomingHttpHeaders }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      got.push({ body, headers: req.headers });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got };
}

const health = {
  id: 'health-davien',
  type: 'device-health',
  severity: 'low',
  category: 'environment',
  subCategory: 'deviceHealth',
  metric: 'waterLevel',
  selector: { sensorIds: ['water-davien'] },
  spike: { maxJump: 1 },
  clearAfterMinutes: 600,
};

describe('shift handover report (real store, simulated time)', { timeout: 120_000 }, () => {
  it('is made at shift change (injected clock): alerts, times, open work, silences, devices; signed post', async () => {
    w = await startWorkflowHarness([...hueRules('flood-levels.yaml'), ...hueRules('devices.yaml'), health]);
    const x = w;
    const t0 = x.h.clock.now(); // 07:00 in Huế
    const states = new DeviceStateTracker(hueCity(), x.h.events);
    const hook = await receiver();
    const logger = pino({ level: 'silent' });
    svc = createHandoverService({
      alerts: x.h.service,
      silences: x.operations.silences,
      ops: x.ops,
      clock: x.h.clock,
      logger,
      schedule: '0 6,14,22 * * *',
      offline: () =>
        hueCity()
          .sensors.filter((s) => states.get(s.id)?.status === 'offline')
          .map((s) => ({ sensorId: s.id, since: states.get(s.id)!.statusSince! })),
      webhook: { url: hook.url, secret: SECRET, allowPrivate: true },
    });
    svc.start();
    // the next shift change is 14:00 Huế time, 7 hours on
    expect(svc.nextAt()).toBe(t0 + 7 * HOUR);

    await x.waterLevel('water-kimlong', 3.6);
    const open = x.h.service.open();
    const l2 = open.find((a) => a.ruleId === 'flood-level-2')!;
    const l3 = open.find((a) => a.ruleId === 'flood-level-3')!;
    x.h.clock.advance(3 * MIN);
    await x.operations.workflow.acknowledge(l2.id, person('pctt.truc'));
    await x.operations.workflow.acknowledge(l3.id, duty);
    x.h.clock.advance(37 * MIN);
    await x.operations.workflow.resolve(l3.id, person('pctt.pho'), 'handled');
    x.operations.silences.add(
      {
        match: { sensorId: ['water-phuoc'] },
        reason: 'bảo trì trạm Phú Ốc',
        maintenance: true,
        endsAt: t0 + 10 * HOUR,
      },
      'ioc.truc',
    );
    x.h.events.emit('status', status('air-ngomon', 'offline', x.h.clock.now()));
    x.h.events.emit('readings', [reading('water-davien', { waterLevel: 1.0 }, x.h.clock.now())]);
    x.h.clock.advance(MIN);
    x.h.events.emit('readings', [reading('water-davien', { waterLevel: 6.0 }, x.h.clock.now())]);
    await x.h.settle();

    expect(svc.recent()).toHaveLength(0);
    x.h.clock.advance(7 * HOUR - 41 * MIN - 1);
    await x.h.settle();
    await svc.idle();
    expect(svc.recent()).toHaveLength(0);
    x.h.clock.advance(1);
    await x.h.settle();
    await svc.idle();
    const [report] = svc.recent();
    expect(report).toBeDefined();
    // the shift that just ended: 06:00 to 14:00 Huế
    expect(report).toMatchObject({ from: t0 - HOUR, to: t0 + 7 * HOUR, timezone: 'Asia/Ho_Chi_Minh' });
    expect(report!.alertsByType).toContainEqual({ type: 'flood', count: 3 });
    expect(report!.alertsByAgency).toContainEqual({
      agencyId: 'bch-pctt',
      name: expect.objectContaining({ vi: expect.stringContaining('Ban Chỉ huy') }),
      count: 2,
    });
    const flood = report!.stillOpen.filter((o) => o.sensorId === 'water-kimlong').map((o) => o.id);
    expect(flood).toContain(l2.id);
    expect(flood).not.toContain(l3.id);
    expect(report!.stillOpen.find((o) => o.id === l2.id)).toMatchObject({
      state: 'acknowledged',
      acknowledgedBy: 'pctt.truc',
      agencyId: 'bch-pctt',
    });
    expect(report!.silences).toEqual([
      expect.objectContaining({ reason: 'bảo trì trạm Phú Ốc', until: t0 + 10 * HOUR, maintenance: true }),
    ]);
    expect(report!.devices.offline).toContainEqual({ sensorId: 'air-ngomon', since: t0 + 40 * MIN });
    expect(report!.devices.unhealthy).toEqual([expect.objectContaining({ sensorId: 'water-davien' })]);
    expect(report!.handling.acknowledge.count).toBeGreaterThanOrEqual(2);

    // posted once, signed as the alert webhooks are
    expect(hook.got).toHaveLength(1);
    expect(verifyWebhookSignature(SECRET, hook.got[0]!.body, hook.got[0]!.headers['x-ioc-signature'] as string)).toBe(
      true,
    );
    expect(JSON.parse(hook.got[0]!.body)).toMatchObject({
      type: 'handoverReport',
      report: { from: t0 - HOUR, to: t0 + 7 * HOUR },
    });
    // and the next one is armed for 22:00
    expect(svc.nextAt()).toBe(t0 + 15 * HOUR);

    const vi = renderHandoverHtml(report!, 'vi');
    expect(vi).toContain('<html lang="vi">');
    expect(vi).toContain('Báo cáo giao ca');
    expect(vi).toContain('06:00 01/10/2026');
    expect(vi).toContain('bảo trì trạm Phú Ốc');
    expect(renderHandoverHtml(report!, 'en')).toContain('Shift handover report');
  });

  it("does not post to a private address unless allowed (the webhooks' SSRF policy), and says so once", async () => {
    w = await startWorkflowHarness(hueRules('flood-levels.yaml'));
    const x = w;
    const hook = await receiver();
    const warnings: string[] = [];
    const logger = {
      info: () => undefined,
      warn: (_o: object, msg?: string) => {
        warnings.push(msg ?? '');
      },
    };
    svc = createHandoverService({
      alerts: x.h.service,
      silences: x.operations.silences,
      ops: x.ops,
      clock: x.h.clock,
      logger,
      schedule: '0 6,14,22 * * *',
      offline: () => [],
      webhook: { url: hook.url, secret: SECRET, allowPrivate: false },
    });
    svc.start();
    x.h.clock.advance(7 * HOUR);
    await svc.idle();
    expect(svc.recent()).toHaveLength(1);
    expect(hook.got).toHaveLength(0);
    expect(warnings).toEqual(['handover report not delivered to its webhook']);
  });
});
