import { afterAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../core/clock.ts';
import { publishAcked, startTestPlatform, type TestPlatform } from '../../test-support/platform-harness.ts';

/**
 * "Drift against neighbouring sensors of the same kind" and "clock skew" mark a device unhealthy (issue 16
 * item 6) through the real platform, as device-refusals.platform.test.ts shows for refusals: real devices
 * over MQTT, a device-health rule added through the rules API (Huế ships neither detector: its
 * device-health.yaml says why), and the maintenance task routed by its rule type to the IOC technical team.
 * The platform runs on a manual clock, so "fresh" neighbours and a device's late clock are simulated time.
 */
// Thursday 15 Oct 2026, 09:00 in Huế: the technical team's office hours
const START = Date.UTC(2026, 9, 15, 2, 0);
const HOUR = 3_600_000;
let platform: TestPlatform | undefined;
afterAll(async () => {
  await platform?.stop();
});

const rule = (id: string, fields: Record<string, unknown>) => ({
  id,
  type: 'device-health',
  severity: 'low',
  category: 'environment',
  subCategory: 'deviceHealth',
  ...fields,
});

describe('drift and clock skew reach device health (real platform, real MQTT, simulated time)', {
  timeout: 120_000,
}, () => {
  it('opens a task for a drifting air monitor and a gauge with a late clock, for the technical team', async () => {
    const clock = createManualClock(START);
    platform = await startTestPlatform({ clock });
    const p = platform;
    const task = (ruleId: string, sensorId: string) =>
      p.alerts.open().find((a) => a.ruleId === ruleId && a.sensorId === sensorId && a.state === 'firing');
    for (const r of [
      // PM2.5 more than 40 µg/m³ from the median of its nearest monitors (within 2 km) that reported lately
      rule('air-drift', { selector: { kinds: ['air'] }, metric: 'pm25', drift: { radiusKm: 2, maxDistance: 40 } }),
      // a rain gauge whose readings are stamped more than an hour away from the platform's clock
      rule('rain-clock', {
        selector: { tags: { role: 'rain' } },
        metric: 'precipitation',
        clockSkew: { maxMinutes: 60 },
        category: 'naturalDisaster',
      }),
    ]) {
      const created = await p.request('POST', '/api/rules', { token: p.adminToken, body: r });
      expect(created.status, JSON.stringify(created.json)).toBe(201);
    }
    const pm25 = async (sensorId: string, value: number) => {
      const device = await p.connectDevice(sensorId);
      await publishAcked(device, `ioc/air/${sensorId}/readings`, JSON.stringify({ pm25: value }));
      await p.alerts.idle();
    };

    // Ngọ Môn's nearest monitors (Bệnh viện TW Huế, chợ Đông Ba) read 20 and 25; Ngọ Môn agrees, then does not
    await pm25('air-benhvien', 20);
    await pm25('air-dongba', 25);
    clock.advance(60_000);
    await pm25('air-ngomon', 24);
    expect(task('air-drift', 'air-ngomon')).toBeUndefined();
    clock.advance(60_000);
    await pm25('air-ngomon', 160);
    const drift = task('air-drift', 'air-ngomon')!;
    expect(drift).toMatchObject({
      subCategory: 'deviceHealth',
      workflow: { agencyId: 'ioc-ky-thuat', route: 'device-health' },
    });
    expect(drift.message.en).toContain('drift from neighbouring sensors');
    expect(drift.message.vi).toContain('lệch so với các trạm lân cận');
    // the neighbours are not accused: one odd monitor does not make the others drift
    expect(task('air-drift', 'air-benhvien')).toBeUndefined();
    expect(task('air-drift', 'air-dongba')).toBeUndefined();

    // A Lưới's rain gauge: on time first, then stamped three hours late (its clock lost after a power cut)
    const rain = await p.connectDevice('rain-aluoi');
    await publishAcked(rain, 'ioc/water/rain-aluoi/readings', JSON.stringify({ precipitation: 1.5 }));
    await p.alerts.idle();
    expect(task('rain-clock', 'rain-aluoi')).toBeUndefined();
    clock.advance(5 * 60_000);
    const late = JSON.stringify({ ts: clock.now() - 3 * HOUR, precipitation: 2 });
    await publishAcked(rain, 'ioc/water/rain-aluoi/readings', late);
    await p.alerts.idle();
    const skew = task('rain-clock', 'rain-aluoi')!;
    expect(skew).toMatchObject({ workflow: { agencyId: 'ioc-ky-thuat', route: 'device-health' } });
    expect(skew.message.en).toContain('device clock skew');

    // the technical team was told on its channel, within its office hours (no duty desk covering)
    const notices = p.operations.notifier()!.sent();
    const toTechnicalTeam = notices.filter((n) => n.agencyId === 'ioc-ky-thuat');
    expect(toTechnicalTeam.map((n) => [n.event.alert.ruleId, n.reason])).toEqual([
      ['air-drift', 'assigned'],
      ['rain-clock', 'assigned'],
    ]);
    expect(notices.some((n) => n.reason === 'covering')).toBe(false);
  });
});
