import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  publishAcked,
  startTestPlatform,
  subscribeCollect,
  type TestPlatform,
} from '../test-support/platform-harness.ts';
import { writeNoiseCity } from '../test-support/noise-kind-fixture.ts';

/**
 * The sensor-kind extension point (docs/ARCHITECTURE.md, "Add a sensor kind"): a kind is one YAML file in
 * the kinds folder, and a sensor of it one line in the city's sensors file. Here both live in a temporary
 * folder (test-support/noise-kind-fixture.ts), nothing in the code base changes, and a real device of the
 * new kind publishes over MQTT: its readings are validated against the file (a value outside its range is
 * refused with the reason on the device's errors topic) and stored where the API reads them.
 */
describe('a sensor kind added as one file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-kind-'));
  let p: TestPlatform;

  beforeAll(async () => {
    const { kindsDir, cityFile } = writeNoiseCity(dir);
    p = await startTestPlatform({ overrides: { city: cityFile, kindsDir } });
  });
  afterAll(async () => {
    await p?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes readings of the new kind over MQTT, validates them against its file and stores them', async () => {
    expect(p.city.kinds.get('noise')?.metrics.LAeq).toMatchObject({ unit: 'dB(A)', min: 20, max: 140 });
    const device = await p.connectDevice('noise-dongba');
    const errors = await subscribeCollect(device, 'ioc/noise/noise-dongba/errors');
    const ts = Date.now() - 60_000;
    await publishAcked(device, 'ioc/noise/noise-dongba/readings', JSON.stringify({ ts, LAeq: 71.5 }));
    await publishAcked(device, 'ioc/noise/noise-dongba/readings', JSON.stringify({ ts: ts + 1000, LAeq: 400 }));
    const refusal = JSON.parse((await errors.next()).payload) as { errors: Array<{ code: string; metric?: string }> };
    expect(refusal.errors).toEqual([expect.objectContaining({ code: 'out_of_range', metric: 'LAeq' })]);
    const res = await p.request(
      'GET',
      `/api/sensors/noise-dongba/readings?metric=LAeq&from=0&to=${Date.now() + 60_000}`,
    );
    expect(res.status).toBe(200);
    expect((res.json as { points: Array<{ value: number }> }).points.map((pt) => pt.value)).toEqual([71.5]);
    const sensor = await p.request('GET', '/api/sensors/noise-dongba');
    expect(sensor.json).toMatchObject({ id: 'noise-dongba', kind: 'noise' });
  });
});
