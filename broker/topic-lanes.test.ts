import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogs } from '../test-support/log-capture.ts';
import {
  publishAcked,
  startTestPlatform,
  subscribeCollect,
  type TestPlatform,
} from '../test-support/platform-harness.ts';
import { rawPublish } from '../test-support/raw-mqtt.ts';

/** Issue 12, item 2: the exact device ACL and topic checks, with real clients over real sockets. */
describe('topic lanes', () => {
  let p: TestPlatform;
  const logs = captureLogs();
  let watcher: Awaited<ReturnType<typeof subscribeCollect>>;
  beforeAll(async () => {
    p = await startTestPlatform({ logger: logs.logger });
    watcher = await subscribeCollect(await p.connectOperator(), 'ioc/#');
  });
  afterAll(async () => {
    await p?.stop();
  });

  const closedBy = (client: MqttClient, send: () => void) =>
    new Promise<void>((resolve) => {
      client.once('close', () => resolve());
      send();
    });
  const refusedTotal = async (reason: string): Promise<number> => {
    const m = new RegExp(`ioc_mqtt_refused_total\\{reason="${reason}",transport="mqtt"\\} (\\d+)`).exec(
      (await p.request('GET', '/metrics')).text,
    );
    return Number(m?.[1] ?? 0);
  };
  const forwarded = (topic: string) => watcher.messages.filter((m) => m.topic === topic);

  it("explains retained readings on the device's errors topic and neither forwards nor retains them", async () => {
    const device = await p.connectDevice('air-gahue');
    const errors = await subscribeCollect(device, 'ioc/air/air-gahue/errors');
    await new Promise<void>((resolve, reject) =>
      device.publish('ioc/air/air-gahue/readings', JSON.stringify({ pm25: 9 }), { qos: 1, retain: true }, (e) =>
        e ? reject(e) : resolve(),
      ),
    );
    expect(JSON.parse((await errors.next()).payload).errors[0]).toMatchObject({ code: 'retain_not_allowed' });
    const late = await p.connectOperator();
    const retained = await subscribeCollect(late, 'ioc/air/air-gahue/readings');
    // a reading sent properly afterwards is the first thing that arrives: nothing was retained before it
    await publishAcked(device, 'ioc/air/air-gahue/readings', JSON.stringify({ pm25: 10 }));
    expect(JSON.parse((await retained.next()).payload)).toEqual({ pm25: 10 });
    expect(forwarded('ioc/air/air-gahue/readings').map((m) => JSON.parse(m.payload))).toEqual([{ pm25: 10 }]);
    expect(device.connected).toBe(true);
  });

  it("lets only cameras publish events, and explains a wrong kind on the device's own errors topic", async () => {
    const device = await p.connectDevice('air-thuanan');
    const errors = await subscribeCollect(device, 'ioc/air/air-thuanan/errors');
    await publishAcked(device, 'ioc/air/air-thuanan/events', JSON.stringify({ type: 'smokeFire' }));
    expect(JSON.parse((await errors.next()).payload).errors[0]).toMatchObject({
      code: 'topic_invalid',
      message: expect.stringContaining('cameras'),
    });
    await publishAcked(device, 'ioc/water/air-thuanan/readings', JSON.stringify({ waterLevel: 9 }));
    expect(JSON.parse((await errors.next()).payload).errors[0]).toMatchObject({ code: 'kind_mismatch' });
    expect(forwarded('ioc/air/air-thuanan/events')).toEqual([]);
    expect(forwarded('ioc/water/air-thuanan/readings')).toEqual([]);
    expect(device.connected).toBe(true);
  });

  it('closes a device that publishes outside its own topics, alerts included', async () => {
    for (const topic of [
      'ioc/alerts/critical/air-ngomon',
      'ioc/air/air-ngomon/errors',
      'city/anything',
      'ioc/air/air-ngomon/readings/x',
    ]) {
      const device = await p.connectDevice('air-ngomon');
      await closedBy(device, () => device.publish(topic, '{"pm25":1}', { qos: 1, retain: true }));
    }
    expect(watcher.messages.filter((m) => m.topic.startsWith('ioc/alerts/') || m.topic === 'city/anything')).toEqual(
      [],
    );
    expect(await refusedTotal('publish_acl')).toBeGreaterThanOrEqual(4);
  });

  it('lets operators and integrations publish nowhere', async () => {
    for (const topic of ['ioc/alerts/high/x', 'integration/out', 'ioc/air/air-ngomon/status']) {
      const operator = await p.connectOperator();
      await closedBy(operator, () => operator.publish(topic, 'x', { qos: 1, retain: true }));
    }
    const fresh = await p.connectOperator();
    const seen = await subscribeCollect(fresh, 'integration/#');
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.messages).toEqual([]);
  });

  it('lets a device subscribe only to its own errors topic', async () => {
    const device = await p.connectDevice('water-phuoc');
    for (const filter of ['ioc/water/water-phuoc/readings', 'ioc/water/water-phuoc/#', 'ioc/water/+/errors', '#']) {
      await expect(device.subscribeAsync(filter), filter).rejects.toMatchObject({ packet: { granted: [128] } });
    }
    expect((await device.subscribeAsync('ioc/water/water-phuoc/errors')).map((g) => g.qos)).toEqual([0]);
  });

  it("keeps the broker's $SYS (every client and its subscriptions) to admins", async () => {
    const operator = await p.connectOperator();
    for (const filter of ['$SYS/#', '$SYS/+/new/clients', '$share/g/$SYS/#']) {
      await expect(operator.subscribeAsync(filter), filter).rejects.toMatchObject({ packet: { granted: [128] } });
    }
    const admin = await mqtt.connectAsync(p.mqttUrl, {
      username: 'admin',
      password: p.adminToken,
      clientId: 'admin-sys',
      reconnectPeriod: 0,
    });
    expect((await admin.subscribeAsync('$SYS/#')).map((g) => g.qos)).toEqual([0]);
    await admin.endAsync();
  });

  it('refuses topics with NUL, control chars, bad UTF-8, excess bytes/levels: logged, counted, harmless', async () => {
    const before = await refusedTotal('topic_shape');
    const topics = [
      Buffer.from('ioc/air/air-kimlong/readings\u0000x'),
      Buffer.from('ioc/air/air-kimlong/\u001breadings'),
      Buffer.concat([Buffer.from('ioc/air/air-kimlong/'), Buffer.from([0xc3, 0x28])]),
      Buffer.from(`ioc/air/air-kimlong/${'r'.repeat(300)}`),
      Buffer.from('ioc/a/b/c/d/e/f/g/h/i'),
    ];
    for (const topic of topics) {
      const device = await p.connectDevice('air-kimlong');
      await closedBy(device, () => device.stream.write(rawPublish(topic, Buffer.from('{"pm25":1}'), 1)));
    }
    expect(await refusedTotal('topic_shape')).toBe(before + topics.length);
    // logged, but once a minute per reason and account, not once per attempt
    expect(logs.lines.filter((l) => l.reason === 'topic_shape' && l.account === 'air-kimlong')).toHaveLength(1);
    const operator = await p.connectOperator();
    await expect(operator.subscribeAsync('ioc/\u0001/#')).rejects.toMatchObject({ packet: { granted: [128] } });
    const device = await p.connectDevice('air-kimlong');
    await publishAcked(device, 'ioc/air/air-kimlong/readings', JSON.stringify({ pm25: 4 }));
    expect((await p.request('GET', '/api/health', { token: null })).json).toMatchObject({ status: 'ok' });
  });
});
