import { afterEach, describe, expect, it } from 'vitest';
import type { AlertEvent } from '../alerts/alert-model.ts';
import { systemClock } from '../core/clock.ts';
import { startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';
import { createMqttFleetSink } from './mqtt-fleet-sink.ts';
import { loadScenario, resolveScenario } from './scenario-loader.ts';
import { startScenarioRun } from './scenario-runner.ts';
import { loadSimulators } from './simulator-registry.ts';

const simulators = await loadSimulators();
let platform: TestPlatform | undefined;
afterEach(async () => {
  await platform?.stop();
  platform = undefined;
});

function fleetFor(p: TestPlatform) {
  const creds = p.credentials!;
  const logins = new Map(creds.devices.map((d) => [d.sensorId, { username: d.username, password: d.password }]));
  return createMqttFleetSink({
    url: p.mqttUrl,
    loginOf: (id) => logins.get(id),
    operator: { username: 'operator', password: creds.operator.token },
  });
}

describe('hue-flood against a running platform (real MQTT, simulated time)', () => {
  it('raises flood alerts at Kim Long for alarm levels I, II and III, in that order', async () => {
    platform = await startTestPlatform();
    const firing: AlertEvent[] = [];
    platform.alerts.bus.on('alert', (e) => {
      if (e.type === 'firing' && e.alert.sensorId === 'water-kimlong') firing.push(e);
    });
    const resolved = resolveScenario(loadScenario('hue-flood'), platform.city, simulators);
    const sink = fleetFor(platform);
    // 40 simulated hours in about 8 seconds; the run ends at the wall clock, so no reading is from the future.
    const run = await startScenarioRun({
      resolved,
      city: platform.city,
      simulators,
      sink,
      clock: systemClock,
      speed: 18_000,
    });
    const final = await run.done;
    await platform.alerts.idle();

    expect(final.sink.readings).toBe(9 * 240);
    expect(final.sink.acknowledged).toBe(final.sink.readings);
    expect(final.sink.rejected).toBe(0);
    const levels = firing.map((e) => e.alert.ruleId).filter((id) => id.startsWith('flood-level-'));
    expect(levels).toEqual(['flood-level-1', 'flood-level-2', 'flood-level-3']);
    const starts = firing.map((e) => e.alert.startsAt);
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);

    const res = await platform.request('GET', '/api/alerts?sensorId=water-kimlong&limit=50');
    expect(res.status).toBe(200);
    const listed = (res.json as { alerts: Array<{ ruleId: string; severity: string }> }).alerts;
    expect(listed.map((a) => a.ruleId).sort()).toEqual(
      expect.arrayContaining(['flood-level-1', 'flood-level-2', 'flood-level-3']),
    );
    expect(new Set(listed.map((a) => a.severity))).toEqual(new Set(['medium', 'high', 'critical']));
    await platform.stop();
  }, 90_000);
});
