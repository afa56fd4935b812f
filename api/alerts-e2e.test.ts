import { DOMParser } from '@xmldom/xmldom';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { AlertEvent } from '../alerts/alert-model.ts';
import type { ServerMessage } from '../alerts/delivery/alert-stream-protocol.ts';
import {
  publishAcked,
  startTestPlatform,
  subscribeCollect,
  type TestPlatform,
} from '../test-support/platform-harness.ts';

/** A real `ws` client on the alert stream that collects every message and waits for the one it wants. */
async function openStream(url: string): Promise<{
  ws: WebSocket;
  messages: ServerMessage[];
  waitFor(p: (m: ServerMessage) => boolean, timeoutMs?: number): Promise<ServerMessage>;
}> {
  const ws = new WebSocket(url);
  const messages: ServerMessage[] = [];
  const waiters: Array<{ p: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }> = [];
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as ServerMessage;
    // events raised together arrive as one `events` frame: taken one by one, as the protocol means them
    const parts: ServerMessage[] =
      frame.type === 'events' ? frame.events.map((event) => ({ type: 'event', event })) : [frame];
    for (const m of parts) {
      messages.push(m);
      for (const w of [...waiters])
        if (w.p(m)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    messages,
    waitFor(p, timeoutMs = 5000) {
      const found = messages.find(p);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `no matching stream message within ${timeoutMs} ms; got ${JSON.stringify(messages.map((m) => m.type))}`,
              ),
            ),
          timeoutMs,
        );
        waiters.push({
          p,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
      });
    },
  };
}

const isEvent =
  (type: AlertEvent['type'], ruleId: string) =>
  (m: ServerMessage): boolean =>
    m.type === 'event' && m.event.type === type && m.event.alert.ruleId === ruleId;

describe('alerts end to end: MQTT reading -> rule -> WebSocket, MQTT and REST', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('delivers a crossing reading as an alert to a WebSocket client that acks it and sees the ack', async () => {
    const wsUrl = platform.httpUrl.replace(/^http/, 'ws');
    const stream = await openStream(
      `${wsUrl}/api/alerts/stream?token=${encodeURIComponent(platform.operatorToken)}&kind=water`,
    );
    const snapshot = await stream.waitFor((m) => m.type === 'snapshot');
    expect(snapshot).toMatchObject({ type: 'snapshot', alerts: [] });

    const operator = await platform.connectOperator();
    const mqttAlerts = await subscribeCollect(operator, 'ioc/alerts/#');
    const device = await platform.connectDevice('water-kimlong');
    await publishAcked(device, 'ioc/water/water-kimlong/readings', JSON.stringify({ waterLevel: 2.15 }));

    const firing = await stream.waitFor(isEvent('firing', 'flood-level-2'));
    if (firing.type !== 'event') throw new Error('unreachable');
    const alert = firing.event.alert;
    expect(alert).toMatchObject({
      sensorId: 'water-kimlong',
      kind: 'water',
      severity: 'high',
      state: 'firing',
      value: 2.15,
      threshold: 2,
    });

    const ack = await platform.request('POST', `/api/alerts/${alert.id}/ack`, { body: { note: 'Đã báo đội ứng cứu' } });
    expect(ack.status).toBe(200);
    expect(ack.json).toMatchObject({
      alert: { id: alert.id, state: 'acknowledged', acknowledgedBy: 'operator', ackNote: 'Đã báo đội ứng cứu' },
    });

    const acknowledged = await stream.waitFor(isEvent('acknowledged', 'flood-level-2'));
    expect(acknowledged.type === 'event' && acknowledged.event.alert).toMatchObject({
      id: alert.id,
      state: 'acknowledged',
      acknowledgedBy: 'operator',
    });
    const seqs = stream.messages.flatMap((m) => (m.type === 'event' ? [m.event.seq] : []));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

    // The same events went out on MQTT for integrations.
    const onMqtt = async (type: string) => {
      for (;;) {
        const m = await mqttAlerts.next();
        const event = JSON.parse(m.payload) as AlertEvent;
        if (event.alert.id === alert.id && event.type === type) return m;
      }
    };
    expect((await onMqtt('firing')).topic).toBe('ioc/alerts/high/water-kimlong');
    expect((await onMqtt('acknowledged')).topic).toBe('ioc/alerts/high/water-kimlong');

    // The alert's page shows the reading that crossed.
    const detail = await platform.request('GET', `/api/alerts/${alert.id}`);
    expect(detail.status).toBe(200);
    expect(detail.json).toMatchObject({
      alert: { id: alert.id },
      readings: { metric: 'waterLevel', unit: 'm', points: [{ value: 2.15 }] },
    });

    // And the public CAP feed carries it, with no token.
    const cap = await platform.request('GET', '/api/alerts/cap', { token: null });
    expect(cap.status).toBe(200);
    const feed = new DOMParser().parseFromString(cap.text, 'text/xml').documentElement!;
    const identifiers = Array.from(
      feed.getElementsByTagNameNS('urn:oasis:names:tc:emergency:cap:1.2', 'identifier'),
    ).map((e) => e.textContent);
    expect(identifiers).toContain(
      `ioc-hue-${alert.id}-u${(ack.json as { alert: { updatedAt: number } }).alert.updatedAt}`,
    );
    // Operators see delivery on /metrics.
    const metrics = await platform.request('GET', '/metrics');
    expect(metrics.text).toMatch(/^ioc_alert_stream_clients 1$/m);
    expect(metrics.text).toMatch(/^ioc_alert_mqtt_published [1-9]\d*$/m);
    stream.ws.close();
  });

  it('refuses the stream without a valid token before the upgrade, and a bad filter with a reason', async () => {
    const wsUrl = platform.httpUrl.replace(/^http/, 'ws');
    const refused = (url: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const ws = new WebSocket(url);
        ws.on('open', () => reject(new Error('the stream opened')));
        ws.on('error', () => undefined);
        ws.on('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (c: Buffer) => {
            body += c.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
      });
    expect(await refused(`${wsUrl}/api/alerts/stream`)).toMatchObject({ status: 401 });
    const bad = await refused(`${wsUrl}/api/alerts/stream?token=nope`);
    expect(bad.status).toBe(401);
    expect(JSON.parse(bad.body)).toMatchObject({ code: 'invalid_token' });
    const filter = await refused(
      `${wsUrl}/api/alerts/stream?token=${encodeURIComponent(platform.operatorToken)}&severity=urgent`,
    );
    expect(filter.status).toBe(400);
    expect(JSON.parse(filter.body)).toMatchObject({ code: 'invalid_filter' });
    expect(JSON.parse(filter.body).message).toMatch(/^severity\.0: /);
  });

  it('lets an MQTT integration subscribe to alerts by severity', async () => {
    const client = await mqtt.connectAsync(platform.mqttUrl, {
      username: 'operator',
      password: platform.operatorToken,
      clientId: `operator-${process.pid}`,
      reconnectPeriod: 0,
    });
    try {
      await client.subscribeAsync('ioc/alerts/critical/+', { qos: 1 });
      const got = new Promise<string>((resolve) => client.once('message', (topic) => resolve(topic)));
      const device = await platform.connectDevice('water-phuoc');
      await publishAcked(device, 'ioc/water/water-phuoc/readings', JSON.stringify({ waterLevel: 4.8 }));
      expect(await got).toBe('ioc/alerts/critical/water-phuoc');
    } finally {
      await client.endAsync();
    }
  });
});
