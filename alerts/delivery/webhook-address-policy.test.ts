import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyAddress } from '../../config/webhook-address-policy.ts';
import { reading, startHarness, T0 } from '../alert-test-kit.ts';
import type { DeliveryLogger } from './delivery-logger.ts';
import { WebhookDispatcher } from './webhook-dispatcher.ts';
import { webhookTargetSchema, type WebhookTarget } from './webhook-target.ts';

const SECRET = 'a-long-shared-secret-for-tests';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A real receiver on loopback that counts what reaches it. */
async function startReceiver(): Promise<{ port: number; hits: string[] }> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(req.url ?? '');
    req.resume();
    req.on('end', () => res.writeHead(200).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { port: (server.address() as AddressInfo).port, hits };
}

async function dispatch(targets: WebhookTarget[]) {
  const alerts = await startHarness([
    {
      id: 'flood-high',
      type: 'threshold',
      selector: { sensorIds: ['water-kimlong'] },
      metric: 'waterLevel',
      above: 2,
      severity: 'high',
      category: 'naturalDisaster',
      subCategory: 'flood',
    },
  ]);
  cleanups.push(() => alerts.close());
  const warnings: Array<{ obj: object; msg: string }> = [];
  const logger: DeliveryLogger = { info() {}, error() {}, warn: (obj, msg) => warnings.push({ obj, msg }) };
  const dispatcher = new WebhookDispatcher({ targets, bus: alerts.service.bus, clock: alerts.clock, logger });
  dispatcher.start();
  cleanups.push(() => dispatcher.stop());
  let tick = 0;
  const fire = async (level: number) => {
    alerts.events.emit('readings', [reading('water-kimlong', { waterLevel: level }, T0 + ++tick * 1000)]);
    await alerts.settle();
    await expect.poll(() => dispatcher.targets().every((t) => t.queued === 0), { timeout: 5000 }).toBe(true);
  };
  return { dispatcher, warnings, fire };
}

describe('webhook targets inside the network', () => {
  it('classifies loopback, private, link-local, unspecified, multicast and metadata addresses', () => {
    const table: Record<string, string | undefined> = {
      '127.0.0.1': 'loopback',
      '127.8.9.1': 'loopback',
      '::1': 'loopback',
      '[::1]': 'loopback',
      '10.0.0.7': 'private',
      '172.16.0.1': 'private',
      '172.31.255.255': 'private',
      '192.168.1.1': 'private',
      'fd12::1': 'private',
      'fc00::1': 'private',
      '169.254.1.1': 'link-local',
      'fe80::1': 'link-local',
      'fe80::1%eth0': 'link-local',
      '0.0.0.0': 'unspecified',
      '::': 'unspecified',
      '224.0.0.1': 'multicast',
      'ff02::1': 'multicast',
      '255.255.255.255': 'reserved',
      '169.254.169.254': 'cloud-metadata',
      'fd00:ec2::254': 'cloud-metadata',
      '100.100.100.200': 'cloud-metadata',
      '::ffff:127.0.0.1': 'loopback',
      '::ffff:7f00:1': 'loopback',
      '::ffff:a9fe:a9fe': 'cloud-metadata',
      // IPv4 inside IPv6 through a translator or relay reaches the IPv4 host
      '64:ff9b::7f00:1': 'loopback',
      '64:ff9b::10.1.2.3': 'private',
      '64:ff9b::a9fe:a9fe': 'cloud-metadata',
      '2002:c0a8:0101::1': 'private',
      '2002:7f00:1::': 'loopback',
      '::ffff:0:10.0.0.1': 'private',
      '64:ff9b:1::1': 'private',
      'fec0::1': 'private',
      '198.18.0.1': 'private',
      '192.0.2.1': 'reserved',
      '2001:db8::1': 'reserved',
      '64:ff9b::808:808': undefined,
      '2002:808:808::1': undefined,
      '8.8.8.8': undefined,
      '172.32.0.1': undefined,
      '2001:4860:4860::8888': undefined,
      '113.160.1.1': undefined,
    };
    for (const [address, cls] of Object.entries(table))
      expect([address, classifyAddress(address)]).toEqual([address, cls]);
  });

  it('refuses them at config load with the reason, unless the target sets allowPrivate', () => {
    const parse = (url: string, allowPrivate?: boolean) =>
      webhookTargetSchema.safeParse({ id: 'desk', url, secret: SECRET, allowPrivate });
    for (const url of [
      'http://127.0.0.1:9000/',
      'http://10.0.0.7/hook',
      'http://[::1]/',
      'http://localhost:8080/',
      'http://api.localhost/',
      'http://[::ffff:7f00:1]/',
      'http://0.0.0.0/',
      'http://2130706433/',
    ]) {
      const result = parse(url);
      expect([url, result.success]).toEqual([url, false]);
      expect(result.error!.issues[0]).toMatchObject({
        path: ['url'],
        message: expect.stringMatching(
          /^webhook "desk" refused: .* is a (loopback|private|unspecified) address; .*allowPrivate: true/,
        ),
      });
    }
    expect(parse('http://169.254.169.254/latest/meta-data/', true).error!.issues[0]!.message).toMatch(
      /cloud metadata address; webhooks may never reach it/,
    );
    expect(parse('http://metadata.google.internal/computeMetadata/v1/').success).toBe(false);
    expect(parse('http://127.0.0.1:9000/', true).success).toBe(true);
    expect(parse('https://warning.example.vn/ioc').success).toBe(true);
    expect(parse('https://113.160.1.1/ioc').success).toBe(true);
  });

  it('delivers to an allow-listed receiver on 127.0.0.1, refuses others, logging once and counting', async () => {
    const receiver = await startReceiver();
    const url = (path: string) => `http://127.0.0.1:${receiver.port}${path}`;
    // not parsed: the config check would stop it; this is what reaches the dispatcher if it were ever bypassed
    const refused: WebhookTarget = {
      ...webhookTargetSchema.parse({ id: 'open', url: url('/open'), secret: SECRET, allowPrivate: true }),
      allowPrivate: false,
    };
    const allowed = webhookTargetSchema.parse({
      id: 'listed',
      url: url('/listed'),
      secret: SECRET,
      allowPrivate: true,
    });
    const { dispatcher, warnings, fire } = await dispatch([refused, allowed]);
    await fire(2.3);
    await fire(1.5); // resolved: a second event for the refused target
    expect(receiver.hits).toEqual(['/listed', '/listed']);
    expect(dispatcher.targets().find((t) => t.id === 'open')).toMatchObject({ refused: 2, failed: 2, delivered: 0 });
    expect(dispatcher.targets().find((t) => t.id === 'listed')).toMatchObject({ refused: 0, delivered: 2 });
    expect(dispatcher.deliveries({ target: 'open' })[0]).toMatchObject({
      status: 'failed',
      attempt: 1,
      error: expect.stringContaining('127.0.0.1 is a loopback address'),
    });
    expect(warnings.filter((w) => w.msg === 'webhook target refused')).toHaveLength(1);
  });

  it('checks the address a name resolves to when connecting, so DNS cannot point a target inside', async () => {
    const receiver = await startReceiver();
    // "localhost" stands in for a name that answered a public address at config load and 127.0.0.1 now
    const named: WebhookTarget = {
      ...webhookTargetSchema.parse({ id: 'named', url: 'https://warning.example.vn/', secret: SECRET }),
      url: `http://localhost:${receiver.port}/named`,
    };
    const { dispatcher, fire } = await dispatch([named]);
    await fire(2.3);
    expect(receiver.hits).toEqual([]);
    expect(dispatcher.deliveries({ target: 'named' })[0]).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/^refused: "localhost" resolves to (127\.0\.0\.1|::1) is a loopback address/),
    });
    expect(dispatcher.targets()[0]).toMatchObject({ refused: 1 });
  });
});
