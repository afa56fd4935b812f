import { createHistogram } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';
import { emptyCounters, SoakDevice } from './soak-devices.ts';
import { startSoakOperators } from './soak-operators.ts';

/** The soak's raw devices and operators against a real platform: what they count is what the platform did. */
let platform: TestPlatform | undefined;
afterEach(async () => {
  await platform?.stop();
  platform = undefined;
});

const address = (p: TestPlatform) => {
  const url = new URL(p.mqttUrl);
  return { host: url.hostname, port: Number(url.port) };
};

describe('soak devices', () => {
  it('publish QoS 1 readings that the platform acknowledges and stores, each PUBACK timed', async () => {
    platform = await startTestPlatform();
    const spec = { sensorId: 'air-ngomon', kind: 'air', username: 'air-ngomon', password: '' };
    spec.password = platform.devicePassword(spec.sensorId);
    const counters = emptyCounters();
    const latency = createHistogram();
    const device = new SoakDevice(spec, 0, address(platform), counters, latency);
    await device.connect();
    const from = Date.now() - 1000;
    for (let i = 0; i < 20; i++) device.publish(from + i);
    await device.stop(5000);
    expect(counters).toMatchObject({ published: 20, acked: 20, failed: 0, skipped: 0, inFlight: 0, strayAcks: 0 });
    expect(latency.count).toBe(20);
    const res = await platform.request(
      'GET',
      `/api/sensors/air-ngomon/readings?metric=pm25&from=${from}&to=${from + 1000}`,
      { token: platform.operatorToken },
    );
    expect(res.status).toBe(200);
    const page = res.json as { points: Array<{ ts: number; value: number }> };
    expect(page.points.map((p) => p.ts)).toEqual(Array.from({ length: 20 }, (_, i) => from + i));
  });

  it('count a refused CONNECT and publish nothing', async () => {
    platform = await startTestPlatform();
    const counters = emptyCounters();
    const spec = { sensorId: 'air-ngomon', kind: 'air', username: 'air-ngomon', password: 'wrong' };
    const device = new SoakDevice(spec, 0, address(platform), counters, createHistogram());
    await expect(device.connect()).rejects.toThrow(/CONNACK return code [1-5]|closed/);
    device.publish(Date.now());
    expect(counters).toMatchObject({ published: 0, skipped: 1 });
  });

  it("operators sign in with platform tokens and count the stream's messages; a bad token is refused", async () => {
    platform = await startTestPlatform();
    const wsUrl = platform.httpUrl.replace(/^http/, 'ws');
    const operators = await startSoakOperators(wsUrl, platform.operatorToken, 3);
    for (let i = 0; i < 50 && Math.min(...operators.counts) === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(Math.min(...operators.counts)).toBeGreaterThan(0); // the snapshot of open alerts, at least
    expect(operators.closed()).toBe(0);
    operators.stop();
    await expect(startSoakOperators(wsUrl, 'not-a-token', 1)).rejects.toThrow(/401/);
  });
});
