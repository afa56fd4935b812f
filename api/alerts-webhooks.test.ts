import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertEvent } from '../alerts/alert-model.ts';
import { verifyWebhookSignature } from '../alerts/delivery/webhook-target.ts';
import { publishAcked, startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';

const SECRET = 'flood-desk-shared-secret-0123456789';

describe('webhooks from the platform config', () => {
  let platform: TestPlatform;
  const received: Array<{ url: string; headers: IncomingHttpHeaders; body: string }> = [];
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ url: req.url ?? '', headers: req.headers, body });
      // A receiver that checks the signature, as docs/alerts-api.md tells integrators to.
      res.writeHead(verifyWebhookSignature(SECRET, body, req.headers['x-ioc-signature'] as string) ? 200 : 401).end();
    });
  });

  beforeAll(async () => {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const port = (receiver.address() as AddressInfo).port;
    platform = await startTestPlatform({
      overrides: {
        webhooks: [
          {
            id: 'flood-desk',
            url: `http://127.0.0.1:${port}/ioc?key=k`,
            secret: SECRET,
            filter: { kind: ['water'], severity: ['high', 'critical'] },
            events: ['firing', 'resolved'],
            allowPrivate: true,
          },
          {
            id: 'wrong-secret',
            url: `http://127.0.0.1:${port}/other`,
            secret: 'not-the-receivers-secret',
            filter: { kind: ['water'] },
            events: ['firing'],
            allowPrivate: true,
          },
        ],
      },
    });
  });
  afterAll(async () => {
    await platform?.stop();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  it('POSTs signed alert events to each matching target and shows the delivery status', async () => {
    const device = await platform.connectDevice('water-kimlong');
    await publishAcked(device, 'ioc/water/water-kimlong/readings', JSON.stringify({ waterLevel: 2.3 }));

    type Status = {
      targets: Array<{ id: string; url: string; delivered: number; failed: number }>;
      deliveries: Array<{ target: string; status: string; httpStatus?: number; eventType: string; alertId: string }>;
    };
    let status: Status | undefined;
    await expect
      .poll(
        async () => {
          status = (await platform.request('GET', '/api/webhooks/deliveries')).json as Status;
          return status.deliveries.filter((d) => d.target === 'flood-desk' && d.status === 'delivered').length;
        },
        { timeout: 5000 },
      )
      .toBe(1);

    // Only flood-level-2 (high) passes flood-desk's filter; flood-level-1 (medium) does not.
    const desk = received.filter((r) => r.url.startsWith('/ioc?'));
    const events = desk.map((r) => (JSON.parse(r.body) as { event: AlertEvent }).event);
    expect(events.map((e) => [e.type, e.alert.ruleId, e.alert.sensorId])).toEqual([
      ['firing', 'flood-level-2', 'water-kimlong'],
    ]);
    expect(desk[0]!.headers['x-ioc-event']).toBe('firing');
    expect(status!.targets.find((t) => t.id === 'flood-desk')).toMatchObject({
      url: expect.stringMatching(/\/ioc$/),
      delivered: 1,
    });
    expect(JSON.stringify(status)).not.toContain(SECRET);
    // The target with the wrong secret is refused by the receiver (401): a 4xx is not retried.
    await expect
      .poll(
        async () => {
          const s = (await platform.request('GET', '/api/webhooks/deliveries?target=wrong-secret&status=failed'))
            .json as Status;
          return s.deliveries.map((d) => d.httpStatus);
        },
        { timeout: 5000 },
      )
      .toEqual([401, 401]);

    expect((await platform.request('GET', '/api/webhooks/deliveries', { token: null })).status).toBe(401);
  });
});
