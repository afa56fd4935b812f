import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../core/clock.ts';
import { captureLogs } from '../test-support/log-capture.ts';
import { publishAcked, startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';

/**
 * Attacker review item 2, through real sockets: a device's message budget is one, shared by MQTT and
 * HTTP ingest (POST /api/ingest/..., /write, /api/v2/write). A device that spent it over MQTT is refused
 * over HTTP with 429, Retry-After and a reason, nothing stored; logged once for the episode and counted
 * with MQTT refusals under transport="http". And what HTTP spends, MQTT no longer has.
 */
describe('one message budget per device across MQTT and HTTP', () => {
  let p: TestPlatform;
  const clock = createManualClock(Date.now());
  const logs = captureLogs('warn');
  beforeAll(async () => {
    p = await startTestPlatform({
      clock,
      logger: logs.logger,
      overrides: { limits: { devicePublishesPerSecond: 1, devicePublishBurst: 4, rateHoldMaxMs: 60_000 } },
    });
  });
  afterAll(async () => {
    await p?.stop();
  });

  const basic = (id: string) => `Basic ${Buffer.from(`${id}:${p.devicePassword(id)}`).toString('base64')}`;
  const postJson = (id: string, body: unknown) =>
    fetch(`${p.httpUrl}/api/ingest/air/${id}/readings`, {
      method: 'POST',
      headers: { authorization: basic(id), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const postLine = (id: string, line: string) =>
    fetch(`${p.httpUrl}/write?db=ioc&precision=ms`, {
      method: 'POST',
      headers: { authorization: basic(id) },
      body: line,
    });
  const httpRefusals = async () =>
    Number(
      /ioc_mqtt_refused_total\{reason="rate_limited",transport="http"\} (\d+)/.exec(
        (await p.request('GET', '/metrics')).text,
      )?.[1] ?? 0,
    );
  const stored = async (id: string) =>
    (
      (await p.request('GET', `/api/sensors/${id}/readings?metric=pm25&from=0&to=${clock.now() + 1000}&limit=5000`))
        .json as { points: unknown[] }
    ).points.length;

  it('refuses HTTP once MQTT spent the budget: 429, Retry-After, a reason; nothing stored; one log line', async () => {
    const d = await p.connectDevice('air-dongba');
    const t = clock.now() - 60_000;
    for (let i = 0; i < 4; i++)
      await publishAcked(d, 'ioc/air/air-dongba/readings', JSON.stringify({ ts: t + i, pm25: 10 + i }));
    expect(await stored('air-dongba')).toBe(4);

    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 10; i++) {
      last = await postJson('air-dongba', { ts: t + 100 + i, pm25: 50 });
      statuses.push(last.status);
    }
    expect(new Set(statuses)).toEqual(new Set([429]));
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await last!.json()).toMatchObject({
      code: 'rate_limited',
      message: expect.stringMatching(/air-dongba sends faster than 1 messages\/s .*MQTT and HTTP together/),
    });
    const line = await postLine('air-dongba', `air,sensorId=air-dongba pm25=60 ${t + 200}`);
    expect(line.status).toBe(429);
    expect(line.headers.get('retry-after')).not.toBeNull();
    expect(await line.json()).toMatchObject({ error: expect.stringMatching(/retry after/) });

    expect(await stored('air-dongba')).toBe(4);
    expect(await httpRefusals()).toBe(11);
    const lines = logs.lines.filter((l) => l.reason === 'rate_limited' && l.transport === 'http');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ account: 'air-dongba', msg: expect.stringMatching(/^HTTP ingest refused:/) });
    expect(logs.text()).not.toContain(p.devicePassword('air-dongba'));
    // another device is not affected
    expect((await postJson('air-kimlong', { ts: t, pm25: 12 })).status).toBe(200);
    await d.endAsync();
  });

  it('what HTTP spends, MQTT no longer has: its publish is held until the budget refills', async () => {
    const t = clock.now() - 60_000;
    clock.advance(10_000); // the whole burst back
    for (let i = 0; i < 4; i++) expect((await postJson('air-ngomon', { ts: t + i, pm25: 20 })).status).toBe(200);
    const d = await p.connectDevice('air-ngomon');
    let acked = false;
    const publish = publishAcked(d, 'ioc/air/air-ngomon/readings', JSON.stringify({ ts: t + 10, pm25: 21 })).then(
      () => {
        acked = true;
      },
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(acked).toBe(false);
    await expect
      .poll(
        () => {
          clock.advance(500);
          return acked;
        },
        { timeout: 10_000 },
      )
      .toBe(true);
    await publish;
    expect(await stored('air-ngomon')).toBe(5);
    await d.endAsync();
  });
});
