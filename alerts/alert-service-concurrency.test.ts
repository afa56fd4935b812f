import { afterEach, describe, expect, it } from 'vitest';
import { reading, startHarness, T0, type Harness } from './alert-test-kit.ts';
import { ALERT_EVENTS_MEASUREMENT } from './alert-journal.ts';

const aqiRule = {
  id: 'pm25-spike',
  type: 'threshold',
  severity: 'medium',
  category: 'environment',
  subCategory: 'airPollution',
  selector: { sensorIds: ['air-dongba'] },
  metric: 'pm25',
  above: 150,
  clearBelow: 100,
};

describe('one open alert per rule and sensor', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('raises exactly one alert from hundreds of concurrent crossing readings', async () => {
    h = await startHarness([aqiRule]);
    // 400 publishes racing each other (each its own task, as separate MQTT packets would be), plus one
    // batch of 200 readings in a single event
    await Promise.all(
      Array.from(
        { length: 400 },
        (_, i) =>
          new Promise<void>((resolve) => {
            setImmediate(() => {
              h.events.emit('readings', [reading('air-dongba', { pm25: 151 + (i % 50) }, T0 + i)]);
              resolve();
            });
          }),
      ),
    );
    h.events.emit(
      'readings',
      Array.from({ length: 200 }, (_, i) => reading('air-dongba', { pm25: 300 }, T0 + 400 + i)),
    );
    await h.service.idle();
    expect(h.seen.map((e) => e.type)).toEqual(['firing']);
    expect(h.service.open()).toHaveLength(1);
    const stored = await h.store.queryPoints({
      measurement: ALERT_EVENTS_MEASUREMENT,
      from: T0 - 1,
      to: T0 + 3_600_000,
    });
    expect(stored).toHaveLength(1);
  });

  it('keeps alerts apart per sensor and per rule, and numbers events in emission order', async () => {
    h = await startHarness([aqiRule, { ...aqiRule, id: 'pm25-spike-all', selector: { kinds: ['air'] }, above: 200 }]);
    const sensors = ['air-ngomon', 'air-dongba', 'air-gahue', 'air-ancuu'];
    await Promise.all(
      Array.from(
        { length: 300 },
        (_, i) =>
          new Promise<void>((resolve) => {
            setImmediate(() => {
              h.events.emit('readings', [reading(sensors[i % 4]!, { pm25: 250 }, T0 + i)]);
              resolve();
            });
          }),
      ),
    );
    await h.service.idle();
    const keys = h.service
      .open()
      .map((a) => `${a.ruleId}/${a.sensorId}`)
      .sort();
    expect(keys).toEqual([
      'pm25-spike-all/air-ancuu',
      'pm25-spike-all/air-dongba',
      'pm25-spike-all/air-gahue',
      'pm25-spike-all/air-ngomon',
      'pm25-spike/air-dongba',
    ]);
    expect(h.seen.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
  });
});
