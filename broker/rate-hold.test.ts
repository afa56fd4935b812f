import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../core/clock.ts';
import { captureLogs } from '../test-support/log-capture.ts';
import { publishAcked, startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';

/**
 * Issue 12, item 3, through real sockets: a device over its byte budget is held (its PUBACKs come late,
 * nothing is refused, the connection stays up), and an abusive device is kept out at CONNECT for a
 * growing while. The platform runs on a manual clock: budgets refill and penalties end only when the
 * test moves it.
 */
describe('holding and penalising a device over its budget', () => {
  let p: TestPlatform;
  const clock = createManualClock(Date.now());
  const logs = captureLogs('warn');
  beforeAll(async () => {
    p = await startTestPlatform({
      clock,
      logger: logs.logger,
      overrides: {
        limits: {
          devicePublishesPerSecond: 1000,
          devicePublishBurst: 1000,
          deviceBytesPerSecond: 10_000,
          deviceByteBurst: 20_000,
          connectionBytesPerSecond: 10_000,
          rateHoldMaxMs: 60_000,
          abusiveRefusalsBeforeDisconnect: 5,
          abusePenaltySeconds: 30,
          abusePenaltyMaxSeconds: 600,
        },
      },
    });
  });
  afterAll(async () => {
    await p?.stop();
  });

  const metric = async (reason: string): Promise<number> => {
    const m = new RegExp(`ioc_mqtt_refused_total\\{reason="${reason}",transport="mqtt"\\} (\\d+)`).exec(
      (await p.request('GET', '/metrics')).text,
    );
    return Number(m?.[1] ?? 0);
  };
  const tryConnect = (id: string) =>
    new Promise<{ ok: boolean; code?: number; client?: mqtt.MqttClient }>((resolve) => {
      const client = mqtt.connect(p.mqttUrl, {
        username: id,
        password: p.devicePassword(id),
        clientId: id,
        reconnectPeriod: 0,
        connectTimeout: 5000,
      });
      client.once('connect', () => resolve({ ok: true, client }));
      client.once('error', (err: Error & { code?: number }) => {
        client.end(true);
        resolve({ ok: false, code: err.code });
      });
    });
  // ~8 KB of valid readings in one publish
  const batch = (from: number) => JSON.stringify(Array.from({ length: 280 }, (_, i) => ({ ts: from + i, pm25: 10 })));

  it('acknowledges publishes over the byte budget late, in order, stores them all, keeps the connection', async () => {
    const d = await p.connectDevice('air-ngomon');
    const ts = clock.now() - 3_600_000;
    const acked: number[] = [];
    const all = Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        publishAcked(d, 'ioc/air/air-ngomon/readings', batch(ts + i * 1000)).then(() => {
          acked.push(i);
        }),
      ),
    );
    // the burst (20 KB) pays for two; the third waits for its bytes, and the rest are not even read yet
    await expect.poll(() => acked.length).toBe(2);
    await new Promise((r) => setTimeout(r, 300));
    expect(acked).toEqual([0, 1]);
    await expect
      .poll(
        () => {
          clock.advance(200);
          return acked.length;
        },
        { timeout: 10_000 },
      )
      .toBe(6);
    await all;
    expect(acked).toEqual([0, 1, 2, 3, 4, 5]);
    expect(d.connected).toBe(true);
    expect(await metric('rate_limited')).toBe(0);
    const stored = await p.request(
      'GET',
      `/api/sensors/air-ngomon/readings?metric=pm25&from=0&to=${clock.now() + 1000}&limit=5000`,
    );
    expect((stored.json as { points: unknown[] }).points.length).toBe(6 * 280);
    await d.endAsync();
  });

  it('refuses an abuser at CONNECT for its penalty (logged, counted), then admits; new abuse doubles it', async () => {
    const abuse = async (): Promise<void> => {
      const d = await p.connectDevice('air-dongba');
      const closed = new Promise<void>((resolve) => d.once('close', () => resolve()));
      // far beyond a minute's worth of bytes at once: refused, and after five refusals disconnected
      for (let i = 0; i < 20; i++)
        d.publish('ioc/air/air-dongba/readings', batch(clock.now() - 60_000 + i), { qos: 0 });
      for (let i = 0; i < 20; i++) d.publish('ioc/air/air-dongba/readings', Buffer.alloc(60_000, 'x'), { qos: 0 });
      let isClosed = false;
      void closed.then(() => {
        isClosed = true;
      });
      await expect
        .poll(
          () => {
            clock.advance(1000);
            return isClosed;
          },
          { timeout: 10_000 },
        )
        .toBe(true);
    };
    await abuse();
    expect(await metric('abusive')).toBe(1);
    expect(await tryConnect('air-dongba')).toEqual({ ok: false, code: 3 });
    expect(await tryConnect('air-dongba')).toEqual({ ok: false, code: 3 });
    expect(await metric('penalty')).toBe(2);
    const lines = logs.lines.filter((l) => l.reason === 'penalty' && l.account === 'air-dongba');
    expect(lines).toHaveLength(1);
    expect(String(lines[0]!.msg)).toMatch(/abusive.*30 s/);
    // another device is not affected
    const other = await tryConnect('air-kimlong');
    expect(other.ok).toBe(true);
    await other.client!.endAsync();

    clock.advance(31_000);
    const back = await tryConnect('air-dongba');
    expect(back.ok).toBe(true);
    await back.client!.endAsync();

    await abuse();
    clock.advance(31_000);
    expect(await tryConnect('air-dongba')).toEqual({ ok: false, code: 3 });
    expect(
      logs.lines.filter((l) => l.reason === 'penalty' && l.account === 'air-dongba').map((l) => l.penaltyMs),
    ).toEqual([30_000, 60_000]);
    clock.advance(30_000);
    const again = await tryConnect('air-dongba');
    expect(again.ok).toBe(true);
    await again.client!.endAsync();
  });
});
