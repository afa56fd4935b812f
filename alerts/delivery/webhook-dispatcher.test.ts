import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertEvent } from '../alert-model.ts';
import { reading, startHarness, T0 } from '../alert-test-kit.ts';
import { WebhookDispatcher, type WebhookDispatcherOptions } from './webhook-dispatcher.ts';
import { verifyWebhookSignature, webhookTargetSchema, type WebhookTargetInput } from './webhook-target.ts';

/** A real HTTP receiver: answers each request with the next scripted reply (the last one repeats). */
interface Reply {
  status: number;
  headers?: Record<string, string>;
  hang?: boolean;
}
interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function startReceiver(replies: Reply[]): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  let n = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const reply = replies[Math.min(n++, replies.length - 1)]!;
      if (reply.hang) return;
      res.writeHead(reply.status, reply.headers).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/ioc?token=abc`, received };
}

const SECRET = 'a-long-shared-secret-for-tests';

// Events come from the real alerts engine (SQLite store, simulated time): readings crossing these rules.
const RULES = [
  {
    id: 'flood-high',
    type: 'threshold',
    selector: { sensorIds: ['water-kimlong', 'water-phuoc'] },
    metric: 'waterLevel',
    above: 2,
    severity: 'high',
    category: 'naturalDisaster',
    subCategory: 'flood',
  },
  {
    id: 'pm25-medium',
    type: 'threshold',
    selector: { kinds: ['air'] },
    metric: 'pm25',
    above: 100,
    severity: 'medium',
    category: 'environment',
    subCategory: 'airPollution',
  },
];

async function startDispatcher(targets: WebhookTargetInput[], options: Partial<WebhookDispatcherOptions> = {}) {
  const alerts = await startHarness(RULES);
  cleanups.push(() => alerts.close());
  const { clock } = alerts;
  const dispatcher = new WebhookDispatcher({
    // the receivers listen on loopback, which a target must allow-list (webhook-address-policy.test.ts)
    targets: targets.map((t) => webhookTargetSchema.parse({ allowPrivate: true, ...t })),
    bus: alerts.service.bus,
    clock,
    random: () => 0.5,
    ...options,
  });
  dispatcher.start();
  cleanups.push(() => dispatcher.stop());
  let tick = 0;
  /** a reading as ingest hands it on; resolves with the alert events it raised */
  const read = async (sensorId: string, values: Record<string, number>): Promise<AlertEvent[]> => {
    const before = alerts.seen.length;
    alerts.events.emit('readings', [reading(sensorId, values, T0 + ++tick * 1000)]);
    await alerts.settle();
    return alerts.seen.slice(before);
  };
  return { clock, dispatcher, read, alerts };
}

describe('WebhookDispatcher', () => {
  it('POSTs the event signed with HMAC-SHA256 of the body, with timestamp, delivery and event headers', async () => {
    const receiver = await startReceiver([{ status: 204 }]);
    const { read, dispatcher, clock } = await startDispatcher([
      { id: 'warning-system', url: receiver.url, secret: SECRET },
    ]);
    const [event] = await read('water-kimlong', { waterLevel: 2.5 });
    await expect.poll(() => dispatcher.deliveries().length).toBe(1);

    const [request] = receiver.received;
    expect(verifyWebhookSignature(SECRET, request!.body, request!.headers['x-ioc-signature'] as string)).toBe(true);
    expect(
      verifyWebhookSignature('another-secret-entirely', request!.body, request!.headers['x-ioc-signature'] as string),
    ).toBe(false);
    const body = JSON.parse(request!.body) as { id: string; timestamp: number; event: AlertEvent };
    expect(body.event).toEqual(JSON.parse(JSON.stringify(event)));
    expect(body.timestamp).toBe(Math.floor(clock.now() / 1000));
    expect(request!.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'x-ioc-timestamp': String(body.timestamp),
      'x-ioc-delivery': body.id,
      'x-ioc-event': 'firing',
    });
    expect(dispatcher.deliveries()).toEqual([
      expect.objectContaining({
        deliveryId: body.id,
        target: 'warning-system',
        seq: event!.seq,
        alertId: event!.alert.id,
        attempt: 1,
        status: 'delivered',
        httpStatus: 204,
      }),
    ]);
    // The status API must not leak the secret or the URL's token.
    expect(dispatcher.targets()).toEqual([
      expect.objectContaining({ id: 'warning-system', url: receiver.url.replace('?token=abc', ''), delivered: 1 }),
    ]);
    expect(JSON.stringify(dispatcher.targets())).not.toContain(SECRET);
  });

  it('retries 5xx with exponential backoff on the clock, keeping the delivery id, until it is accepted', async () => {
    const receiver = await startReceiver([{ status: 503 }, { status: 500 }, { status: 200 }]);
    const { read, dispatcher, clock } = await startDispatcher([{ id: 'ops', url: receiver.url, secret: SECRET }], {
      baseDelayMs: 1000,
    });
    await read('water-kimlong', { waterLevel: 2.5 });
    await expect.poll(() => dispatcher.deliveries().length).toBe(1);
    const t0 = clock.now();
    expect(dispatcher.deliveries()[0]).toMatchObject({
      status: 'retrying',
      httpStatus: 503,
      attempt: 1,
      nextAttemptAt: t0 + 1000,
    });

    clock.advance(999);
    await dispatcher.idle();
    expect(receiver.received).toHaveLength(1);
    clock.advance(1);
    await expect.poll(() => dispatcher.deliveries().length).toBe(2);
    expect(dispatcher.deliveries()[0]).toMatchObject({
      status: 'retrying',
      httpStatus: 500,
      attempt: 2,
      nextAttemptAt: t0 + 1000 + 2000,
    });
    clock.advance(2000);
    await expect.poll(() => dispatcher.deliveries().length).toBe(3);
    expect(dispatcher.deliveries().map((d) => d.status)).toEqual(['delivered', 'retrying', 'retrying']);
    const ids = new Set(receiver.received.map((r) => r.headers['x-ioc-delivery']));
    expect(ids.size).toBe(1);
  });

  it('gives up at once on a 4xx, and after maxAttempts on repeated failures', async () => {
    const rejecting = await startReceiver([{ status: 400 }]);
    const down = await startReceiver([{ status: 502 }]);
    const { read, dispatcher, clock } = await startDispatcher(
      [
        { id: 'rejecting', url: rejecting.url, secret: SECRET },
        { id: 'down', url: down.url, secret: SECRET },
      ],
      { maxAttempts: 3, baseDelayMs: 100 },
    );
    await read('water-kimlong', { waterLevel: 2.5 });
    await expect.poll(() => dispatcher.deliveries({ target: 'rejecting' }).length).toBe(1);
    expect(dispatcher.deliveries({ target: 'rejecting' })[0]).toMatchObject({
      status: 'failed',
      httpStatus: 400,
      attempt: 1,
    });
    for (let attempt = 2; attempt <= 3; attempt++) {
      await expect.poll(() => dispatcher.deliveries({ target: 'down' }).length).toBe(attempt - 1);
      clock.advance(1000);
    }
    await expect.poll(() => dispatcher.deliveries({ target: 'down', status: 'failed' }).length).toBe(1);
    expect(down.received).toHaveLength(3);
    expect(dispatcher.targets().find((t) => t.id === 'down')).toMatchObject({ failed: 1, queued: 0, delivered: 0 });
  });

  it('times out a receiver that never answers and honours Retry-After', async () => {
    const hanging = await startReceiver([{ status: 0, hang: true }, { status: 200 }]);
    const busy = await startReceiver([{ status: 429, headers: { 'retry-after': '30' } }, { status: 200 }]);
    const { read, dispatcher, clock } = await startDispatcher([
      { id: 'hanging', url: hanging.url, secret: SECRET, timeoutMs: 5000 },
      { id: 'busy', url: busy.url, secret: SECRET },
    ]);
    await read('water-kimlong', { waterLevel: 2.5 });
    await expect.poll(() => hanging.received.length).toBe(1);
    await expect.poll(() => dispatcher.deliveries({ target: 'busy' }).length).toBe(1);
    expect(dispatcher.deliveries({ target: 'busy' })[0]).toMatchObject({
      status: 'retrying',
      httpStatus: 429,
      nextAttemptAt: clock.now() + 30_000,
    });
    clock.advance(5000);
    await expect.poll(() => dispatcher.deliveries({ target: 'hanging' }).length).toBe(1);
    expect(dispatcher.deliveries({ target: 'hanging' })[0]).toMatchObject({
      status: 'retrying',
      error: 'timeout after 5000 ms',
    });
    // Step by step: one long advance would also fire the retry's own timeout before its request went out.
    clock.advance(1000);
    await expect.poll(() => dispatcher.deliveries({ target: 'hanging', status: 'delivered' }).length).toBe(1);
    clock.advance(23_999);
    await dispatcher.idle();
    expect(busy.received).toHaveLength(1);
    clock.advance(1);
    await expect.poll(() => dispatcher.deliveries({ target: 'busy', status: 'delivered' }).length).toBe(1);
  });

  it('sends only the events a target asks for, in seq order behind a retry, and drops past a full queue', async () => {
    const receiver = await startReceiver([{ status: 503 }, { status: 200 }]);
    const { read, dispatcher, clock, alerts } = await startDispatcher(
      [
        {
          id: 'flood-desk',
          url: receiver.url,
          secret: SECRET,
          filter: { severity: ['high', 'critical'] },
          events: ['firing', 'resolved'],
        },
      ],
      { maxQueue: 2 },
    );
    const [first] = await read('water-kimlong', { waterLevel: 3 }); // high: sent, refused with 503, retried
    expect(await read('air-ngomon', { pm25: 150 })).toHaveLength(1); // medium: filtered out
    await alerts.service.acknowledge(first!.alert.id, 'operator'); // acknowledged: not asked for
    const [second] = await read('water-kimlong', { waterLevel: 1 }); // resolved: queued behind the retry
    const [third] = await read('water-phuoc', { waterLevel: 3 }); // the queue holds 2: dropped
    expect([first!.type, second!.type, third!.type]).toEqual(['firing', 'resolved', 'firing']);
    await expect.poll(() => dispatcher.deliveries({ status: 'retrying' }).length).toBe(1);
    expect(dispatcher.deliveries({ status: 'dropped' })).toEqual([
      expect.objectContaining({ seq: third!.seq, error: 'queue full (2 waiting)' }),
    ]);
    clock.advance(1000);
    await expect.poll(() => dispatcher.deliveries({ status: 'delivered' }).length).toBe(2);
    const seqs = receiver.received.map((r) => (JSON.parse(r.body) as { event: AlertEvent }).event.seq);
    expect(seqs).toEqual([first!.seq, first!.seq, second!.seq]);
  });

  it('rejects a target config with a clear reason', () => {
    const bad = webhookTargetSchema.safeParse({ id: 'x', url: 'ftp://example.org/', secret: 'short' });
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(paths).toEqual(['url: an http:// or https:// URL', 'secret: use a secret of at least 16 characters']);
  });
});
