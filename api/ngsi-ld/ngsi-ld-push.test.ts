import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../core/clock.ts';
import { captureLogs } from '../../test-support/log-capture.ts';
import { publishAcked, startTestPlatform, type TestPlatform } from '../../test-support/platform-harness.ts';
import type { Entity } from './ngsi-ld-entities.ts';
import { startNgsiLdPush, type NgsiLdPush } from './ngsi-ld-push.ts';
import type { NgsiLdSource } from './ngsi-ld-source.ts';

/**
 * The push to a context broker, against a real HTTP server standing in for Orion-LD: it records every
 * upsert it receives and answers what the test tells it to (201, 500, a 207 with per-entity errors).
 */
interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Entity[];
}
interface Recorder {
  url: string;
  received: Received[];
  answer: (body: Entity[]) => { status: number; body?: unknown };
  next(): Promise<Received>;
  close(): Promise<void>;
}

async function startRecorder(): Promise<Recorder> {
  const received: Received[] = [];
  const waiters: Array<(r: Received) => void> = [];
  const recorder: Recorder = {
    url: '',
    received,
    answer: () => ({ status: 201 }),
    next: () => new Promise((resolve) => waiters.push(resolve)),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = {
        path: req.url ?? '',
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Entity[],
      };
      received.push(r);
      const { status, body } = recorder.answer(r.body);
      res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
      res.end(body === undefined ? undefined : JSON.stringify(body));
      waiters.shift()?.(r);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  recorder.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return recorder;
}

const entity = (n: number, value = n): Entity => ({
  id: `urn:ngsi-ld:Device:hue:d${n}`,
  type: 'Device',
  deviceState: { type: 'Property', value: String(value) },
});

let recorder: Recorder | undefined;
let push: NgsiLdPush | undefined;
let platform: TestPlatform | undefined;
afterEach(async () => {
  await push?.stop();
  await platform?.stop();
  await recorder?.close();
  push = undefined;
  platform = undefined;
  recorder = undefined;
});

function startPush(url: string, list: Entity[], options: { batchSize?: number; tenant?: string } = {}) {
  const clock = createManualClock();
  const registry = new Registry();
  const logs = captureLogs('info');
  const source: NgsiLdSource = {
    city: {} as NgsiLdSource['city'],
    entities: () => list.map((e) => structuredClone(e)),
    stop: () => undefined,
  };
  push = startNgsiLdPush({
    source,
    clock,
    registry,
    logger: logs.logger,
    config: {
      url,
      intervalSeconds: 10,
      batchSize: options.batchSize ?? 100,
      timeoutSeconds: 5,
      ...(options.tenant ? { tenant: options.tenant } : {}),
    },
  });
  return { clock, registry, logs, push };
}

describe('NGSI-LD push', () => {
  it('upserts every entity once, then only what changed, in batches, as JSON-LD', async () => {
    recorder = await startRecorder();
    const list = [1, 2, 3, 4, 5].map((n) => entity(n));
    const { push: p, registry } = startPush(`${recorder.url}/`, list, { batchSize: 2, tenant: 'hue' });
    await p.flush();
    expect(recorder.received.map((r) => r.body.length)).toEqual([2, 2, 1]);
    const first = recorder.received[0]!;
    expect(first.path).toBe('/ngsi-ld/v1/entityOperations/upsert');
    expect(first.headers['content-type']).toBe('application/ld+json');
    expect(first.headers['ngsild-tenant']).toBe('hue');
    expect(first.body[0]!['@context']).toEqual([
      'https://smartdatamodels.org/context.jsonld',
      'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld',
    ]);
    await p.flush();
    expect(recorder.received).toHaveLength(3);
    list[3] = entity(4, 99);
    await p.flush();
    expect(recorder.received).toHaveLength(4);
    expect(recorder.received[3]!.body.map((e) => e.id)).toEqual(['urn:ngsi-ld:Device:hue:d4']);
    expect(await registry.getSingleMetricAsString('ioc_ngsild_push_entities_total')).toMatch(
      /ioc_ngsild_push_entities_total 6$/m,
    );
  });

  it('sends again what the broker refused: a failed request, or the entities a 207 lists as errors', async () => {
    recorder = await startRecorder();
    const { push: p, registry, logs } = startPush(recorder.url, [entity(1), entity(2)]);
    recorder.answer = () => ({
      status: 500,
      body: { type: 'https://uri.etsi.org/ngsi-ld/errors/InternalError', title: 'down' },
    });
    await p.flush();
    await p.flush();
    expect(recorder.received.map((r) => r.body.length)).toEqual([2, 2]);
    expect(
      logs.lines.filter((l) => String(l.msg).startsWith('NGSI-LD push: the context broker did not take')),
    ).toHaveLength(1);
    recorder.answer = () => ({
      status: 207,
      body: {
        success: ['urn:ngsi-ld:Device:hue:d1'],
        errors: [
          {
            entityId: 'urn:ngsi-ld:Device:hue:d2',
            error: { type: 'https://uri.etsi.org/ngsi-ld/errors/BadRequestData', title: 'bad' },
          },
        ],
      },
    });
    await p.flush();
    recorder.answer = () => ({ status: 204 });
    await p.flush();
    expect(recorder.received.at(-1)!.body.map((e) => e.id)).toEqual(['urn:ngsi-ld:Device:hue:d2']);
    await p.flush();
    expect(recorder.received).toHaveLength(4);
    const failures = await registry.getSingleMetricAsString('ioc_ngsild_push_failures_total');
    expect(failures).toMatch(/reason="http_500"\} 2/);
    expect(failures).toMatch(/reason="entity_refused"\} 1/);
    expect(logs.lines.some((l) => l.msg === 'NGSI-LD push: the context broker takes entities again')).toBe(true);
  });

  it('survives a broker that is not there', async () => {
    recorder = await startRecorder();
    const url = recorder.url;
    await recorder.close();
    recorder = undefined;
    const { push: p, registry } = startPush(url, [entity(1)]);
    await p.flush();
    expect(await registry.getSingleMetricAsString('ioc_ngsild_push_failures_total')).toMatch(
      /reason="unreachable"\} 1/,
    );
  });

  it('runs on the platform clock: a reading published over MQTT reaches the broker at the next interval', async () => {
    recorder = await startRecorder();
    const clock = createManualClock(Date.now());
    platform = await startTestPlatform({
      clock,
      logger: pino({ level: 'silent' }),
      overrides: { ngsiLd: { push: { url: recorder.url, intervalSeconds: 30 } } },
    });
    const device = await platform.connectDevice('air-ngomon');
    await publishAcked(device, 'ioc/air/air-ngomon/readings', JSON.stringify({ pm25: 42.5 }));
    await platform.writer.settled(5000);
    expect(recorder.received).toHaveLength(0);
    const got: Received[] = [];
    const collect = async () => {
      for (;;) {
        const r = await recorder!.next();
        got.push(r);
        if (r.body.some((e) => e.id === 'urn:ngsi-ld:AirQualityObserved:hue:air-ngomon')) return r;
      }
    };
    const arrived = collect();
    clock.advance(30_000);
    const batch = await arrived;
    const air = batch.body.find((e) => e.id === 'urn:ngsi-ld:AirQualityObserved:hue:air-ngomon')!;
    expect(air.pm25).toMatchObject({ type: 'Property', value: 42.5, unitCode: 'GQ' });
    expect(air['@context']).toBeDefined();
  });
});
