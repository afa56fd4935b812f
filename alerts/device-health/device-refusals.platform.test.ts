import { afterAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../core/clock.ts';
import { publishAcked, startTestPlatform, type TestPlatform } from '../../test-support/platform-harness.ts';

/**
 * "Repeated refusals mark a device unhealthy" (issue 16 item 6) through the real platform: real devices over
 * MQTT, refused by ingest (a value out of range) and by the broker's lanes (a retained reading), reach the
 * shipped device-health rules of Huế, which open a maintenance task routed to the IOC technical team.
 * The platform runs on a manual clock: the ten-minute window is simulated time, not the machine's speed.
 */
// Thursday 15 Oct 2026, 09:00 in Huế: the technical team's office hours
const START = Date.UTC(2026, 9, 15, 2, 0);
let platform: TestPlatform | undefined;
afterAll(async () => {
  await platform?.stop();
});

const task = (p: TestPlatform, ruleId: string, sensorId: string) =>
  p.alerts.open().find((a) => a.ruleId === ruleId && a.sensorId === sensorId && a.state === 'firing');

describe('refusals reach device health (real platform, real MQTT, simulated time)', { timeout: 120_000 }, () => {
  it('opens a maintenance task for a device refused over 10 times in 10 minutes, for the technical team', async () => {
    const clock = createManualClock(START);
    platform = await startTestPlatform({ clock });
    const p = platform;

    // ingest refuses 9999 mm in one reading (the kind's plausible range): 10 are tolerated, the 11th is too many
    const rain = await p.connectDevice('rain-aluoi');
    const bad = JSON.stringify({ precipitation: 9999 });
    for (let i = 0; i < 10; i++) await publishAcked(rain, 'ioc/water/rain-aluoi/readings', bad);
    await p.alerts.idle();
    expect(task(p, 'rain-gauge-refusals', 'rain-aluoi')).toBeUndefined();
    await publishAcked(rain, 'ioc/water/rain-aluoi/readings', bad);
    await p.alerts.idle();
    const rainTask = task(p, 'rain-gauge-refusals', 'rain-aluoi')!;
    expect(rainTask).toMatchObject({ subCategory: 'deviceHealth', workflow: { agencyId: 'ioc-ky-thuat' } });
    expect(rainTask.message.en).toContain('repeated refusals');

    // the broker refuses retained readings before ingest sees them: they count all the same
    const air = await p.connectDevice('air-ngomon');
    const good = JSON.stringify({ pm25: 20 });
    for (let i = 0; i < 11; i++) {
      await new Promise<void>((resolve, reject) =>
        air.publish('ioc/air/air-ngomon/readings', good, { qos: 1, retain: true }, (e) => (e ? reject(e) : resolve())),
      );
    }
    await p.alerts.idle();
    expect(task(p, 'device-refusals', 'air-ngomon')).toMatchObject({ workflow: { agencyId: 'ioc-ky-thuat' } });

    // a device refused now and then is healthy: ten spread over more than ten minutes open nothing
    const traffic = await p.connectDevice('traffic-gahue');
    for (let i = 0; i < 12; i++) {
      await publishAcked(traffic, 'ioc/traffic/traffic-gahue/readings', '{not json');
      clock.advance(61_000);
    }
    await p.alerts.idle();
    expect(p.alerts.open().some((a) => a.sensorId === 'traffic-gahue' && a.ruleId === 'device-refusals')).toBe(false);

    // the technical team was told on its channel, and the refusals are counted where they always were
    const notified = p.operations
      .notifier()!
      .sent()
      .filter((n) => n.agencyId === 'ioc-ky-thuat')
      .map((n) => n.event.alert.sensorId);
    expect(notified).toEqual(['rain-aluoi', 'air-ngomon']);
    const metrics = (await p.request('GET', '/metrics', { token: p.adminToken })).text;
    expect(metrics).toMatch(/ioc_mqtt_refused_total\{reason="retain",transport="mqtt"\} 11/);
  });
});
