import { EventEmitter } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertEvent } from '../alert-model.ts';
import { makeAlert, makeEvent } from './alert-fixtures.ts';
import { aedesPublish, alertTopic, startMqttAlertPublisher } from './mqtt-alert-publisher.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

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

  it('publishes every alert event on ioc/alerts/{severity}/{sensorId} to a real MQTT subscriber, in order', async () => {
    const { broker, url } = await startBroker();
    const bus = new EventEmitter<{ alert: [AlertEvent] }>();
    const publisher = startMqttAlertPublisher({ bus, publish: aedesPublish(broker) });
    cleanups.push(() => publisher.stop());

    const client = await mqtt.connectAsync(url, { clientId: 'integration-test', reconnectPeriod: 0 });
    cleanups.push(() => client.endAsync());
    await client.subscribeAsync('ioc/alerts/#', { qos: 1 });
    const received: Array<{ topic: string; event: AlertEvent }> = [];
    client.on('message', (topic, payload) => received.push({ topic, event: JSON.parse(payload.toString()) as AlertEvent }));

    const flood = makeAlert({ severity: 'critical', sensorId: 'water-kimlong' });
    const air = makeAlert({ severity: 'medium', sensorId: 'air-ngomon', kind: 'air' });
    const events = [makeEvent('firing', flood), makeEvent('firing', air), makeEvent('acknowledged', { ...flood, state: 'acknowledged' })];
    for (const e of events) bus.emit('alert', e);
    await publisher.flush();
    await expect.poll(() => received.length).toBe(3);

    expect(received.map((r) => r.topic)).toEqual([
      'ioc/alerts/critical/water-kimlong', 'ioc/alerts/medium/air-ngomon', 'ioc/alerts/critical/water-kimlong',
    ]);
    expect(received.map((r) => r.event)).toEqual(events);
    expect(publisher.stats()).toEqual({ published: 3, failed: 0 });
  });

  it('counts and logs a publish the broker refuses, without throwing or stopping later events', async () => {
    const { broker } = await startBroker();
    const bus = new EventEmitter<{ alert: [AlertEvent] }>();
    const warnings: string[] = [];
    const publisher = startMqttAlertPublisher({
      bus,
      publish: aedesPublish(broker),
      logger: { info() {}, error() {}, warn: (o, msg) => warnings.push(`${msg}: ${(o as { err: string }).err}`) },
    });
    bus.emit('alert', makeEvent('firing', makeAlert()));
    await publisher.flush();
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    bus.emit('alert', makeEvent('firing', makeAlert()));
    await publisher.stop();
    expect(publisher.stats()).toEqual({ published: 1, failed: 1 });
    expect(warnings).toEqual(['alert not published on MQTT: mqemitter is closed']);
  });
});
