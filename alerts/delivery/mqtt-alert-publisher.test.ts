import { createServer, type AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertEvent } from '../alert-model.ts';
import { reading, startHarness, T0, type Harness } from '../alert-test-kit.ts';
import { aedesPublish, alertTopic, startMqttAlertPublisher } from './mqtt-alert-publisher.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const RULES = [
  {
    id: 'flood-critical',
    type: 'threshold',
    selector: { sensorIds: ['water-kimlong'] },
    metric: 'waterLevel',
    above: 3,
    severity: 'critical',
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

/** The real alerts engine (SQLite store, simulated time); `read` hands it a reading as ingest does. */
async function startAlerts(): Promise<{
  alerts: Harness;
  read(sensorId: string, values: Record<string, number>): Promise<AlertEvent[]>;
}> {
  const alerts = await startHarness(RULES);
  cleanups.push(() => alerts.close());
  let tick = 0;
  return {
    alerts,
    async read(sensorId, values) {
      const before = alerts.seen.length;
      alerts.events.emit('readings', [reading(sensorId, values, T0 + ++tick * 1000)]);
      await alerts.settle();
      return alerts.seen.slice(before);
    },
  };
}

async function startBroker(): Promise<{ broker: Aedes; url: string }> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { broker, url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('MQTT alert publisher', () => {
  it('names the topic by severity and sensor, never letting an id become a wildcard', () => {
    expect(alertTopic({ severity: 'critical', sensorId: 'water-kimlong' })).toBe('ioc/alerts/critical/water-kimlong');
    expect(alertTopic({ severity: 'low', sensorId: 'a/b+#' })).toBe('ioc/alerts/low/a_b__');
  });

  it('publishes each alert event on ioc/alerts/{severity}/{sensorId} to a real MQTT subscriber in order', async () => {
    const { broker, url } = await startBroker();
    const { alerts, read } = await startAlerts();
    const publisher = startMqttAlertPublisher({ bus: alerts.service.bus, publish: aedesPublish(broker) });
    cleanups.push(() => publisher.stop());

    const client = await mqtt.connectAsync(url, { clientId: 'integration-test', reconnectPeriod: 0 });
    cleanups.push(() => client.endAsync());
    await client.subscribeAsync('ioc/alerts/#', { qos: 1 });
    const received: Array<{ topic: string; event: AlertEvent }> = [];
    client.on('message', (topic, payload) =>
      received.push({ topic, event: JSON.parse(payload.toString()) as AlertEvent }),
    );

    const [flood] = await read('water-kimlong', { waterLevel: 3.6 });
    const air = await read('air-ngomon', { pm25: 150 });
    await alerts.service.acknowledge(flood!.alert.id, 'operator');
    await alerts.settle();
    const events = alerts.seen;
    expect(events.map((e) => e.type)).toEqual(['firing', 'firing', 'acknowledged']);
    expect(air).toHaveLength(1);
    await publisher.flush();
    await expect.poll(() => received.length).toBe(3);

    expect(received.map((r) => r.topic)).toEqual([
      'ioc/alerts/critical/water-kimlong',
      'ioc/alerts/medium/air-ngomon',
      'ioc/alerts/critical/water-kimlong',
    ]);
    expect(received.map((r) => r.event)).toEqual(JSON.parse(JSON.stringify(events)));
    expect(publisher.stats()).toEqual({ published: 3, failed: 0 });
  });

  it('counts and logs a publish the broker refuses, without throwing or stopping later events', async () => {
    const { broker } = await startBroker();
    const { alerts, read } = await startAlerts();
    const warnings: string[] = [];
    const publisher = startMqttAlertPublisher({
      bus: alerts.service.bus,
      publish: aedesPublish(broker),
      logger: { info() {}, error() {}, warn: (o, msg) => warnings.push(`${msg}: ${(o as { err: string }).err}`) },
    });
    await read('air-ngomon', { pm25: 150 });
    await publisher.flush();
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await read('air-dongba', { pm25: 150 });
    await publisher.stop();
    expect(publisher.stats()).toEqual({ published: 1, failed: 1 });
    expect(warnings).toEqual(['alert not published on MQTT: mqemitter is closed']);
  });
});
