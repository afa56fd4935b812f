import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { parseOperations } from '../../config/operations-config.ts';
import { loadSops } from '../../config/sop-config.ts';
import { captureLogs } from '../../test-support/log-capture.ts';
import type { AlertEvent } from '../alert-model.ts';
import { hueCity } from '../alert-test-kit.ts';
import { verifyWebhookSignature } from '../delivery/webhook-target.ts';
import { HUE_DIR, hueRules, startWorkflowHarness, type WorkflowHarness } from './workflow-test-kit.ts';

/**
 * An agency's webhook channel (agency-notifier.ts) against a real HTTP receiver on loopback: the Kim Long
 * ward's committee hears of its flood alert when it fires and again at the first escalation rung, each
 * notice signed with the ward's secret. The address policy holds for agencies as for the platform's own
 * webhooks: loopback is reached only where the city's config allow-lists private addresses (the ward
 * here), and the flood command's webhook on the same receiver, not allow-listed, is refused and logged.
 */
const WARD_SECRET = 'phuong-kim-long-webhook-secret';
const COMMAND_SECRET = 'bch-pctt-webhook-secret-0123';
const MIN = 60_000;

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let w: WorkflowHarness | undefined;
let server: Server | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function startReceiver(): Promise<{ base: string; received: Received[] }> {
  const received: Received[] = [];
  const listening = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  server = listening;
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${(listening.address() as AddressInfo).port}`, received };
}

/** Huế's operations.yaml with webhooks for the Kim Long ward (loopback allowed) and the flood command (not) */
function opsWithWebhooks(base: string) {
  const raw = parse(readFileSync(join(HUE_DIR, 'operations.yaml'), 'utf8')) as {
    agencies: Array<{ id: string; channels?: Record<string, unknown> }>;
  };
  const channels = (id: string) => {
    const agency = raw.agencies.find((a) => a.id === id)!;
    agency.channels ??= {};
    return agency.channels;
  };
  channels('ubnd-kim-long').webhook = { url: `${base}/ward?token=t`, secret: WARD_SECRET, allowPrivate: true };
  channels('bch-pctt').webhook = { url: `${base}/command`, secret: COMMAND_SECRET };
  return parseOperations(raw, hueCity(), loadSops(join(HUE_DIR, 'sop')), 'operations.yaml');
}

/** advances simulated time a minute at a time, letting each escalation be stored */
async function minutes(x: WorkflowHarness, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    x.h.clock.advance(MIN);
    await x.h.settle();
    await new Promise((r) => setImmediate(r));
    await x.h.settle();
  }
}

describe("an agency's webhook channel", { timeout: 180_000 }, () => {
  it('delivers the assignment and an escalation notice, signed; loopback not allow-listed is refused', async () => {
    const receiver = await startReceiver();
    const logs = captureLogs('warn');
    // T0 is a Thursday, 07:00 in Huế: the ward is in office hours, so no notice goes to the duty desk instead
    const ops = opsWithWebhooks(receiver.base);
    w = await startWorkflowHarness(hueRules('flood-levels.yaml'), { ops, logger: logs.logger });
    await w.waterLevel('water-kimlong', 1.2); // alarm level I: medium, the ward's (30 min to acknowledge)
    // webhooks are delivered at least once, a delivery id each: a request still in flight when the simulated
    // clock jumps a minute times out on that clock and is sent again with the same id (receivers dedupe by id)
    const ward = () => {
      const seen = new Set<string>();
      return receiver.received.filter((r) => {
        if (!r.path.startsWith('/ward')) return false;
        const id = (JSON.parse(r.body) as { id: string }).id;
        if (seen.has(id)) return false;
        seen.add(id);
        return true;
      });
    };
    await expect.poll(() => ward().length).toBe(1);

    await minutes(w, 30);
    await expect.poll(() => ward().length).toBe(2);
    const bodies = ward().map((r) => {
      // signed with the ward's secret: the receiver checks the HMAC of the raw body
      const signature = r.headers['x-ioc-signature'] as string;
      expect(verifyWebhookSignature(WARD_SECRET, r.body, signature)).toBe(true);
      expect(signature).toBe(`sha256=${createHmac('sha256', WARD_SECRET).update(r.body).digest('hex')}`);
      expect(verifyWebhookSignature(COMMAND_SECRET, r.body, signature)).toBe(false);
      expect(r.headers['x-ioc-timestamp']).toMatch(/^\d+$/);
      return JSON.parse(r.body) as { id: string; timestamp: number; event: AlertEvent };
    });
    expect(bodies[0]!.event).toMatchObject({
      type: 'firing',
      alert: { ruleId: 'flood-level-1', sensorId: 'water-kimlong', workflow: { agencyId: 'ubnd-kim-long' } },
    });
    expect(ward()[0]!.headers['x-ioc-event']).toBe('firing');
    const escalation = bodies[1]!.event;
    expect(escalation).toMatchObject({ type: 'workflow', alert: { id: bodies[0]!.event.alert.id, state: 'firing' } });
    expect(escalation.alert.workflow!.log.at(-1)).toMatchObject({
      action: 'escalated',
      level: 1,
      agencyId: 'ubnd-kim-long',
    });
    expect(bodies[0]!.id).not.toBe(bodies[1]!.id);

    // rung 2 goes to the flood command: told on MQTT, but its webhook to loopback is not allow-listed
    await minutes(w, 30);
    await expect
      .poll(() => logs.lines.filter((l) => l.msg === 'webhook target refused').map((l) => l.target))
      .toEqual(['agency-bch-pctt']);
    const refusal = logs.lines.find((l) => l.msg === 'webhook target refused')!;
    expect(String(refusal.error)).toMatch(/^refused: /);
    expect(JSON.stringify(logs.lines)).not.toContain(COMMAND_SECRET);
    expect(JSON.stringify(logs.lines)).not.toContain(WARD_SECRET);
    expect(receiver.received.filter((r) => r.path.startsWith('/command'))).toEqual([]);
    expect(w.published.filter((p) => p.payload.reason === 'escalated').map((p) => [p.topic, p.payload.level])).toEqual([
      ['ioc/agencies/ubnd-kim-long', 1],
      ['ioc/agencies/bch-pctt', 2],
    ]);
    expect(ward()).toHaveLength(2);
  });
});
