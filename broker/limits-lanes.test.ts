import { connect as connectTcp, type Socket } from 'node:net';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../core/clock.ts';
import {
  publishAcked,
  startTestPlatform,
  tryConnect as connectOrRefusal,
  type TestPlatform,
} from '../test-support/platform-harness.ts';
import { rawConnect, rawPublish } from '../test-support/raw-mqtt.ts';

/**
 * Issue 12, item 3: what one account, address and session may hold or send, through real sockets. The
 * platform runs on a manual clock, so token buckets refill and sessions expire only when the test says.
 */
describe('limits per account, address and session', () => {
  let p: TestPlatform;
  const clock = createManualClock(Date.now());
  beforeAll(async () => {
    p = await startTestPlatform({
      clock,
      overrides: {
        limits: {
          connectionsPerAccount: 2,
          devicePublishesPerSecond: 1,
          devicePublishBurst: 3,
          abusiveRefusalsBeforeDisconnect: 20,
          rateHoldMaxMs: 2000,
          qos2InflightPerSession: 2,
          queuedMessagesPerClient: 5,
          sessionsPerAccount: 2,
          sessionExpirySeconds: 60,
        },
      },
    });
  });
  afterAll(async () => {
    await p?.stop();
  });

  const tryConnect = (options: mqtt.IClientOptions) => connectOrRefusal(p.mqttUrl, options);
  const device = (id: string, clientId: string, extra: mqtt.IClientOptions = {}) => ({
    username: id,
    password: p.devicePassword(id),
    clientId,
    ...extra,
  });
  const refusedTotal = async (reason: string): Promise<number> => {
    const m = new RegExp(`ioc_mqtt_refused_total\\{reason="${reason}",transport="mqtt"\\} (\\d+)`).exec(
      (await p.request('GET', '/metrics')).text,
    );
    return Number(m?.[1] ?? 0);
  };

  it('bounds live connections per account with CONNACK 3; a session takeover does not count twice', async () => {
    const one = await tryConnect(device('air-ancuu', 'air-ancuu-1'));
    const two = await tryConnect(device('air-ancuu', 'air-ancuu-2'));
    expect([one.ok, two.ok]).toEqual([true, true]);
    expect(await tryConnect(device('air-ancuu', 'air-ancuu-3'))).toEqual({ ok: false, code: 3 });
    const again = await tryConnect(device('air-ancuu', 'air-ancuu-2'));
    expect(again.ok).toBe(true);
    await one.client!.endAsync();
    await expect.poll(async () => (await tryConnect(device('air-ancuu', 'air-ancuu-3'))).ok).toBe(true);
    expect(await refusedTotal('connections_per_account')).toBeGreaterThanOrEqual(1);
  });

  it('holds publishes over the device rate (acked late, stored), refuses long waits, closes an abuser', async () => {
    const d = await p.connectDevice('air-kimlong');
    const ts = clock.now() - 60_000;
    for (let i = 0; i < 3; i++)
      await publishAcked(d, 'ioc/air/air-kimlong/readings', JSON.stringify({ ts: ts + i, pm25: 10 + i }));
    // over the rate (1/s, burst 3): held until its turn, a second of the platform's clock
    let acked = false;
    const fourth = publishAcked(d, 'ioc/air/air-kimlong/readings', JSON.stringify({ ts: ts + 3, pm25: 13 })).then(
      () => {
        acked = true;
      },
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(acked).toBe(false);
    clock.advance(1000);
    await fourth;
    const stored = await p.request(
      'GET',
      `/api/sensors/air-kimlong/readings?metric=pm25&from=0&to=${clock.now() + 1000}`,
    );
    expect((stored.json as { points: Array<{ value: number }> }).points.map((x) => x.value)).toEqual([10, 11, 12, 13]);
    // far beyond the rate (at most rateHoldMaxMs 2 s held): refused with a reason, then disconnected
    const closed = new Promise<void>((resolve) => d.once('close', () => resolve()));
    for (let i = 0; i < 25; i++) d.publish('ioc/air/air-kimlong/readings', JSON.stringify({ pm25: 1 }), { qos: 0 });
    let isClosed = false;
    void closed.then(() => {
      isClosed = true;
    });
    // the held ones are released as the clock moves; the packets behind them are read only then
    await expect
      .poll(
        () => {
          clock.advance(100);
          return isClosed;
        },
        { timeout: 10_000 },
      )
      .toBe(true);
    // the refusals of one batch come at once, so the device may be gone before its errors topic tells it
    expect(await refusedTotal('rate_limited')).toBeGreaterThanOrEqual(1);
    expect(await refusedTotal('abusive')).toBe(1);
    expect((await p.request('GET', '/api/health', { token: null })).json).toMatchObject({ status: 'ok' });
  });

  it('closes a session that leaves more QoS 2 publishes unfinished than allowed', async () => {
    const socket: Socket = connectTcp(Number(new URL(p.mqttUrl).port), '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (b) => received.push(b));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(
      rawConnect(Buffer.from('air-dongba-q2'), Buffer.from('air-dongba'), Buffer.from(p.devicePassword('air-dongba'))),
    );
    // PUBREC for each of the two allowed (0x50), never a PUBREL from us; the third closes the connection
    const pubrecs = () => {
      const bytes = Buffer.concat(received);
      return [...bytes].filter((b, i) => b === 0x50 && bytes[i + 1] === 2).length;
    };
    for (let id = 1; id <= 2; id++)
      socket.write(rawPublish(Buffer.from('ioc/air/air-dongba/readings'), Buffer.from(`{"pm25":${id}}`), 2, false, id));
    await expect.poll(pubrecs).toBe(2);
    expect(Buffer.concat(received)[0]).toBe(0x20); // CONNACK first
    socket.write(rawPublish(Buffer.from('ioc/air/air-dongba/readings'), Buffer.from('{"pm25":3}'), 2, false, 3));
    await closed;
    expect(pubrecs()).toBe(2);
  });

  it('caps the queue of an offline persistent session; newer messages are dropped and counted', async () => {
    const first = await tryConnect({
      username: 'operator',
      password: p.operatorToken,
      clientId: 'operator-q',
      clean: false,
    });
    await first.client!.subscribeAsync('ioc/water/+/readings', { qos: 1 });
    await first.client!.endAsync();
    for (const id of ['water-phuoc', 'water-kimlong', 'water-davien']) {
      const d = await p.connectDevice(id);
      for (let i = 0; i < 3; i++)
        await publishAcked(
          d,
          `ioc/water/${id}/readings`,
          JSON.stringify({ ts: clock.now() - 60_000 + i, waterLevel: 1 + i / 10 }),
        );
      await d.endAsync();
    }
    expect(await refusedTotal('queue_full')).toBe(4);
    const received: string[] = [];
    const back = await new Promise<mqtt.MqttClient>((resolve) => {
      const c = mqtt.connect(p.mqttUrl, {
        username: 'operator',
        password: p.operatorToken,
        clientId: 'operator-q',
        clean: false,
        reconnectPeriod: 0,
      });
      c.on('message', (topic) => received.push(topic));
      c.once('connect', () => resolve(c));
    });
    await expect.poll(() => received.length).toBe(5);
    await back.endAsync();
  });

  it('bounds persistent sessions per account and drops those whose client stays away past the expiry', async () => {
    for (const id of ['air-gahue-1', 'air-gahue-2']) {
      const s = await tryConnect(device('air-gahue', id, { clean: false }));
      await s.client!.subscribeAsync('ioc/air/air-gahue/errors', { qos: 1 });
      await s.client!.endAsync();
    }
    expect(await tryConnect(device('air-gahue', 'air-gahue-3', { clean: false }))).toEqual({ ok: false, code: 3 });
    const clean = await tryConnect(device('air-gahue', 'air-gahue-3'));
    expect(clean.ok).toBe(true);
    await clean.client!.endAsync();
    expect(await refusedTotal('sessions_per_account')).toBe(1);

    // the expiry is checked every quarter of it: gone within 60 s + 15 s
    clock.advance(76_000);
    await expect.poll(() => refusedTotal('session_expired')).toBeGreaterThanOrEqual(2);
    const resumed = await tryConnect(device('air-gahue', 'air-gahue-1', { clean: false }));
    expect(resumed).toMatchObject({ ok: true, sessionPresent: false });
    await resumed.client!.endAsync();
  });
});

describe('limits per source address', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform({ overrides: { limits: { connectionsPerAddress: 3 } } });
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('closes sockets past the limit before reading a byte, and serves again once they go', async () => {
    const port = Number(new URL(p.mqttUrl).port);
    const open = (): Promise<Socket> =>
      new Promise((resolve) => {
        const s = connectTcp(port, '127.0.0.1', () => resolve(s));
      });
    const idle = [await open(), await open(), await open()];
    const extra = await open();
    await new Promise<void>((resolve) => extra.once('close', () => resolve()));
    expect((await p.request('GET', '/metrics')).text).toMatch(
      /ioc_mqtt_refused_total\{reason="connections_per_address",transport="mqtt"\} 1/,
    );
    for (const s of idle) s.destroy();
    await expect
      .poll(async () => {
        try {
          const d = await p.connectDevice('air-ngomon');
          await publishAcked(d, 'ioc/air/air-ngomon/readings', '{"pm25":1}');
          await d.endAsync();
          return true;
        } catch {
          return false;
        }
      })
      .toBe(true);
  });
});
