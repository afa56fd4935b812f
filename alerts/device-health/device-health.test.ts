import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../alert-model.ts';
import { hueCity, reading, startHarness, type Harness } from '../alert-test-kit.ts';
import { parseRuleFile } from '../load-rules.ts';
import { detectRefusals, median, nearestNeighbours } from './health-detectors.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const MIN = 60_000;
const base = {
  type: 'device-health',
  severity: 'low',
  category: 'environment',
  subCategory: 'deviceHealth',
  metric: 'waterLevel',
};
const rule = (id: string, sensorId: string, extra: object) => ({
  ...base,
  id,
  selector: { sensorIds: [sensorId] },
  ...extra,
});
const firing = (x: Harness, ruleId: string): Alert | undefined =>
  x.service.open().find((a) => a.ruleId === ruleId && a.state === 'firing');
/** a reading stamped by the device at `deviceTs` (default: the clock), arriving now */
const send = async (x: Harness, sensorId: string, value: number, deviceTs = x.clock.now()) => {
  x.events.emit('readings', [reading(sensorId, { waterLevel: value }, deviceTs)]);
  await x.settle();
};

describe('device-health rule type, each detector in simulated time (real store)', { timeout: 120_000 }, () => {
  it('flatline: the same value N times over T minutes opens a task; it closes by itself clearAfter later', async () => {
    h = await startHarness([
      rule('health-flat', 'water-kimlong', { flatline: { readings: 5, minutes: 20 }, clearAfterMinutes: 60 }),
    ]);
    for (let i = 0; i < 4; i++) {
      await send(h, 'water-kimlong', 1.23);
      h.clock.advance(5 * MIN);
    }
    // four equal readings over 15 minutes: not yet
    expect(firing(h, 'health-flat')).toBeUndefined();
    await send(h, 'water-kimlong', 1.23);
    const task = firing(h, 'health-flat')!;
    expect(task).toMatchObject({ sensorId: 'water-kimlong', subCategory: 'deviceHealth' });
    expect(task.message.vi).toContain('giá trị đứng yên');
    expect(task.message.en).toContain('flatlined values');
    h.clock.advance(5 * MIN);
    await send(h, 'water-kimlong', 1.31);
    expect(firing(h, 'health-flat')).toBeDefined();
    h.clock.advance(60 * MIN);
    await h.settle();
    expect(h.service.open().some((a) => a.ruleId === 'health-flat')).toBe(false);
  });

  it('spike: a jump beyond the metric bound marks it unhealthy; ordinary steps do not', async () => {
    h = await startHarness([rule('health-spike', 'water-davien', { spike: { maxJump: 0.5 } })]);
    for (const v of [1.1, 1.3, 1.5, 1.9]) {
      await send(h, 'water-davien', v);
      h.clock.advance(MIN);
    }
    expect(firing(h, 'health-spike')).toBeUndefined();
    await send(h, 'water-davien', 6.2);
    expect(firing(h, 'health-spike')!.message.en).toContain('implausible spikes');
  });

  it('drift: far from the median of its nearest neighbours of the same kind within R km', async () => {
    h = await startHarness([
      rule('health-drift', 'water-truongtien', { drift: { k: 3, radiusKm: 5, maxDistance: 1.0, maxAgeMinutes: 30 } }),
    ]);
    await send(h, 'water-kimlong', 1.2);
    await send(h, 'water-davien', 1.1);
    await send(h, 'water-phuoc', 9.0); // 11 km away: not a neighbour
    await send(h, 'water-truongtien', 1.9); // 0.75 from 1.15: fine
    expect(firing(h, 'health-drift')).toBeUndefined();
    h.clock.advance(MIN);
    await send(h, 'water-truongtien', 3.0); // 1.85 from 1.15
    expect(firing(h, 'health-drift')!.message.vi).toContain('lệch so với các trạm lân cận');
  });

  it('drift needs fresh neighbours: stale ones accuse no one', async () => {
    h = await startHarness([
      rule('health-drift', 'water-truongtien', { drift: { k: 3, radiusKm: 5, maxDistance: 1.0, maxAgeMinutes: 30 } }),
    ]);
    await send(h, 'water-kimlong', 1.2);
    await send(h, 'water-davien', 1.1);
    h.clock.advance(31 * MIN);
    await send(h, 'water-truongtien', 3.0);
    expect(firing(h, 'health-drift')).toBeUndefined();
  });

  it('clock skew: device timestamps ahead or behind the platform clock beyond the bound', async () => {
    h = await startHarness([rule('health-skew', 'water-phuoc', { clockSkew: { maxMinutes: 10 } })]);
    await send(h, 'water-phuoc', 1.0, h.clock.now() - 9 * MIN);
    expect(firing(h, 'health-skew')).toBeUndefined();
    await send(h, 'water-phuoc', 1.0, h.clock.now() + 11 * MIN);
    expect(firing(h, 'health-skew')!.message.en).toContain('device clock skew');
  });

  it('flatline counts the run from its start: a fast device frozen for the whole span is flagged', async () => {
    h = await startHarness([rule('health-flat', 'water-kimlong', { flatline: { readings: 12, minutes: 60 } })]);
    // a reading every 5 s for 59 minutes, all equal: 708 readings but not yet an hour
    for (let i = 0; i < 708; i++) {
      h.events.emit('readings', [reading('water-kimlong', { waterLevel: 2.04 }, h.clock.now())]);
      h.clock.advance(5000);
    }
    await h.settle();
    expect(firing(h, 'health-flat')).toBeUndefined();
    h.clock.advance(60_000);
    await send(h, 'water-kimlong', 2.04);
    expect(firing(h, 'health-flat')!.message.en).toContain('flatlined values');
  });

  it('refusals: more than max refused messages within the window open a task (a rule needs no metric)', async () => {
    const refusalsOnly = { ...base, metric: undefined, id: 'health-refused', selector: { sensorIds: ['rain-aluoi'] } };
    h = await startHarness([{ ...refusalsOnly, refusals: { max: 3, windowMinutes: 10 } }]);
    const refuse = async (sensorId: string) => {
      h!.events.emit('refused', { sensorId, code: 'out_of_range', count: 1, ts: h!.clock.now() });
      await h!.settle();
    };
    // three in ten minutes, then the first ages out: never more than three at once
    for (let i = 0; i < 3; i++) {
      await refuse('rain-aluoi');
      h.clock.advance(4 * MIN);
    }
    await refuse('rain-aluoi');
    await refuse('rain-kimlong'); // another device's refusals are not this one's
    expect(firing(h, 'health-refused')).toBeUndefined();
    await refuse('rain-aluoi');
    const task = firing(h, 'health-refused')!;
    expect(task).toMatchObject({ sensorId: 'rain-aluoi', subCategory: 'deviceHealth' });
    expect(task.message.vi).toContain('dữ liệu bị từ chối nhiều lần');
    expect(task.message.en).toContain('repeated refusals');
    // a device refused thousands of times keeps a bounded state and one task
    for (let i = 0; i < 2000; i++) h.events.emit('refused', { sensorId: 'rain-aluoi', code: 'x', count: 1, ts: 0 });
    await h.settle();
    expect(h.service.open().filter((a) => a.ruleId === 'health-refused')).toHaveLength(1);
    h.clock.advance(61 * MIN);
    await h.settle();
    expect(h.service.open().some((a) => a.ruleId === 'health-refused')).toBe(false);
  });

  it('refuses a reading detector without a metric, by field', () => {
    const { rules, issues } = parseRuleFile(
      JSON.stringify([{ ...rule('health-nometric', 'water-phuoc', { spike: { maxJump: 1 } }), metric: undefined }]),
      'health.yaml',
      hueCity(),
    );
    expect(rules).toHaveLength(0);
    expect(JSON.stringify(issues)).toMatch(/metric.*watch a metric/);
  });

  it('refuses a rule naming no detector, by field', () => {
    const { rules, issues } = parseRuleFile(
      JSON.stringify([rule('health-none', 'water-phuoc', {})]),
      'health.yaml',
      hueCity(),
    );
    expect(rules).toHaveLength(0);
    expect(JSON.stringify(issues)).toMatch(/flatline.*at least one of flatline, spike, drift, clockSkew, refusals/);
  });
});

describe('detectors as functions', () => {
  it('refusals: more than max within the window', () => {
    const now = 100 * MIN;
    const at = [now - 11 * MIN, now - 9 * MIN, now - 5 * MIN, now - MIN];
    expect(detectRefusals(at, now, 10 * MIN, 3)).toBeUndefined();
    expect(detectRefusals([...at, now], now, 10 * MIN, 3)).toEqual({ problem: 'refusals', value: 4, bound: 3 });
  });

  it('median is the middle (or the mean of the middle two) whatever the order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 30 }), (xs) => {
        const m = median(xs)!;
        expect(xs.filter((x) => x < m).length).toBeLessThanOrEqual(xs.length / 2);
        expect(xs.filter((x) => x > m).length).toBeLessThanOrEqual(xs.length / 2);
      }),
      { seed: 16, numRuns: 200 },
    );
  });

  it('finds the nearest neighbours of the same kind within the radius', () => {
    const sensors = hueCity().sensors;
    const truongtien = sensors.find((s) => s.id === 'water-truongtien')!;
    expect(nearestNeighbours(truongtien, sensors, 3, 5).map((s) => s.id)).toEqual([
      'water-davien',
      'water-kimlong',
      'rain-kimlong',
    ]);
    const gauges = sensors.filter((s) => s.tags?.role === 'river-level');
    expect(nearestNeighbours(truongtien, gauges, 3, 5).map((s) => s.id)).toEqual(['water-davien', 'water-kimlong']);
  });
});
