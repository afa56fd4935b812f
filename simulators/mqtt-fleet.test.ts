import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCity } from '../config/city-config.ts';
import { systemClock } from '../core/clock.ts';
import { CONFIG_DIR } from '../config/platform-config.ts';
import { startTestPlatform, subscribeCollect, type TestPlatform } from '../test-support/platform-harness.ts';
import { writeFleetCity } from './fleet-city.ts';
import { createMqttFleetSink } from './mqtt-fleet-sink.ts';
import { loadScenario, parseScenario, resolveScenario } from './scenario-loader.ts';
import { startScenarioRun, type RunProgress } from './scenario-runner.ts';
import { loadSimulators } from './simulator-registry.ts';

const simulators = await loadSimulators();
// Each test stops its platform as its last step; afterEach only catches the ones a failure left running.
// (Stopping the platform from afterEach, after a fleet ran, has been seen to hang in the store's
// shutdown on this machine: see the report.)
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function platformWith(options: Parameters<typeof startTestPlatform>[0] = {}): Promise<TestPlatform> {
  const p = await startTestPlatform(options);
  cleanup.push(() => p.stop());
  return p;
}

function sinkFor(p: TestPlatform, operator = true) {
  const creds = p.credentials!;
  const logins = new Map(creds.devices.map((d) => [d.sensorId, { username: d.username, password: d.password }]));
  return createMqttFleetSink({
    url: p.mqttUrl,
    loginOf: (id) => logins.get(id),
    settleMs: 800,
    ...(operator ? { operator: { username: 'operator', password: creds.operator.token } } : {}),
  });
}

const scenarioText = (extra: string) => `name: t\ntitle: { vi: "Thử", en: "Test" }\nseed: 9\n${extra}`;

describe('MQTT fleet against a running platform', () => {
  it('runs 300 devices, each its own connection, and every reading is acknowledged and stored', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ioc-fleet-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const baseFile = join(CONFIG_DIR, 'cities/hue/city.yaml');
    const cityFile = writeFleetCity(dir, loadCity(baseFile, join(CONFIG_DIR, 'kinds')), baseFile, 300);
    const p = await platformWith({ overrides: { city: cityFile } });
    expect(p.city.sensors).toHaveLength(300);
    const resolved = resolveScenario(
      parseScenario(scenarioText('duration: 1h\ninterval: 10m\nspeed: 900'), 't.yaml'),
      p.city,
      simulators,
    );
    const run = await startScenarioRun({ resolved, city: p.city, simulators, sink: sinkFor(p), clock: systemClock });
    const connectedDuringRun = run.progress().sink.connected;
    const final: RunProgress = await run.done;
    expect(connectedDuringRun).toBe(300);
    // 300 devices x 6 readings, less the few a camera misses while it is offline (a random outage)
    expect(final.sink.readings).toBeGreaterThan(300 * 6 - 30);
    expect(final.sink.readings).toBeLessThanOrEqual(300 * 6);
    expect(final.sink.acknowledged).toBe(final.sink.readings);
    expect(final.sink.rejected + final.sink.failed).toBe(0);
    const clone = p.city.sensors.find((s) => s.id.endsWith('-f00250'))!;
    const metric = simulators.get(clone.kind)!.metrics[0]!;
    const res = await p.request(
      'GET',
      `/api/sensors/${clone.id}/readings?metric=${metric}&from=${final.simStart - 1}&to=${final.simEnd + 1}`,
    );
    expect(res.status).toBe(200);
    expect((res.json as { points: unknown[] }).points.length).toBeGreaterThanOrEqual(5);
    await p.stop();
  }, 120_000);

  it("counts the platform's rejections from the devices' own errors topics", async () => {
    const p = await platformWith();
    // Readings from 2020 are older than ingest.maxAgeDays: the platform refuses every one.
    const resolved = resolveScenario(
      parseScenario(
        scenarioText(
          'start: "2020-10-10T00:00:00Z"\nduration: 1h\ninterval: 20m\nspeed: 3600\nsensors: { kinds: [water] }',
        ),
        't.yaml',
      ),
      p.city,
      simulators,
    );
    const run = await startScenarioRun({
      resolved,
      city: p.city,
      simulators,
      sink: sinkFor(p, false),
      clock: systemClock,
    });
    const final = await run.done;
    expect(final.sink.readings).toBe(9 * 3);
    expect(final.sink.rejected).toBe(final.sink.readings);
    await p.stop();
  }, 60_000);

  it('camera-outage: a camera drops without DISCONNECT (the broker sends its will) and comes back online', async () => {
    const p = await platformWith();
    const operator = await p.connectOperator();
    const status = await subscribeCollect(operator, 'ioc/camera/cam-truongtien/status');
    const resolved = resolveScenario(loadScenario('camera-outage'), p.city, simulators);
    const run = await startScenarioRun({
      resolved,
      city: p.city,
      simulators,
      sink: sinkFor(p),
      clock: systemClock,
      speed: 3600,
      interval: 5 * 60_000,
    });
    await run.done;
    const seen = status.messages.map((m) => m.payload);
    const offline = seen.indexOf('offline');
    expect(seen[0]).toBe('online');
    expect(offline).toBeGreaterThan(0);
    expect(seen.slice(offline)).toContain('online');
    expect(seen.at(-1)).toBe('offline'); // the fleet says so when it stops
    await operator.endAsync();
    await p.stop();
  }, 60_000);
});
