import { describe, expect, it } from 'vitest';
import { hueCity, reading, T0 } from './alert-test-kit.ts';
import type { Transition } from './condition.ts';
import { thresholdRuleSchema, type ThresholdRule } from './rule-schema.ts';
import { evaluateThreshold, initialThresholdState, type ThresholdState } from './threshold-rule.ts';

const MIN = 60_000;

function rule(overrides: Record<string, unknown>): ThresholdRule {
  return thresholdRuleSchema.parse({
    id: 'test',
    type: 'threshold',
    severity: 'high',
    category: 'naturalDisaster',
    subCategory: 'flood',
    selector: { sensorIds: ['water-kimlong'] },
    metric: 'waterLevel',
    ...overrides,
  });
}

/** Feeds [minutes after T0, value] pairs; the clock is the reading time. Returns the transitions. */
function run(
  r: ThresholdRule,
  series: Array<[number, number]>,
  sensorId = 'water-kimlong',
): { transitions: Array<[number, Transition]>; state: ThresholdState } {
  const sensor = hueCity().sensorsById.get(sensorId)!;
  let state = initialThresholdState;
  const transitions: Array<[number, Transition]> = [];
  for (const [min, value] of series) {
    const ts = T0 + min * MIN;
    const step = evaluateThreshold(r, sensor, state, reading(sensorId, { [r.metric]: value }, ts), ts);
    state = step.state;
    if (step.transition !== 'none') transitions.push([min, step.transition]);
  }
  return { transitions, state };
}

describe('threshold rule', () => {
  it('fires at the threshold and clears only below the hysteresis level', () => {
    const { transitions } = run(rule({ above: 2.0, clearBelow: 1.8 }), [
      [0, 1.9],
      [1, 2.05],
      [2, 1.95],
      [3, 1.81],
      [4, 1.79],
      [5, 1.99],
      [6, 2.0],
    ]);
    expect(transitions).toEqual([
      [1, 'firing'],
      [4, 'resolved'],
      [6, 'firing'],
    ]);
  });

  it('damps flapping around the threshold to one alert', () => {
    const flapping: Array<[number, number]> = Array.from({ length: 40 }, (_, i) => [i, i % 2 ? 2.01 : 1.99]);
    expect(run(rule({ above: 2.0, hysteresis: 0.1 }), flapping).transitions).toEqual([[1, 'firing']]);
    // without hysteresis the same signal would fire 20 times
    expect(run(rule({ above: 2.0 }), flapping).transitions.filter(([, t]) => t === 'firing')).toHaveLength(20);
  });

  it('stays pending until the condition held for `for`, and a short excursion never fires', () => {
    const r = rule({ above: 2.0, for: '5m' });
    expect(
      run(r, [
        [0, 2.1],
        [2, 2.2],
        [4, 2.3],
        [5, 2.2],
        [6, 2.4],
      ]).transitions,
    ).toEqual([
      [0, 'pending'],
      [5, 'firing'],
    ]);
    expect(
      run(r, [
        [0, 2.1],
        [2, 2.2],
        [3, 1.7],
        [4, 2.1],
        [8, 2.1],
        [9, 2.1],
      ]).transitions,
    ).toEqual([
      [0, 'pending'],
      [3, 'resolved'],
      [4, 'pending'],
      [9, 'firing'],
    ]);
  });

  it('works downwards with below and clearAbove', () => {
    const r = rule({
      metric: 'averageVehicleSpeed',
      below: 10,
      clearAbove: 15,
      selector: { sensorIds: ['traffic-truongtien'] },
      category: 'traffic',
      subCategory: 'trafficJam',
    });
    expect(
      run(
        r,
        [
          [0, 20],
          [1, 9],
          [2, 12],
          [3, 14.9],
          [4, 16],
        ],
        'traffic-truongtien',
      ).transitions,
    ).toEqual([
      [1, 'firing'],
      [4, 'resolved'],
    ]);
  });

  it('takes a flood level threshold from the station, and ignores stations without levels', () => {
    const r = rule({ floodLevel: 2, hysteresis: 0.1, selector: { kinds: ['water'] } });
    const kimLong = run(r, [
      [0, 1.95],
      [1, 2.0],
      [2, 1.92],
      [3, 1.89],
    ]);
    expect(kimLong.transitions).toEqual([
      [1, 'firing'],
      [3, 'resolved'],
    ]);
    expect(run(r, [[0, 3.1]], 'water-phuoc').transitions).toEqual([[0, 'firing']]);
    expect(run(r, [[0, 9]], 'water-truongtien').transitions).toEqual([]);
  });

  it('compares a window aggregate when given one (rain in the last hour)', () => {
    const r = rule({
      metric: 'precipitation',
      above: 50,
      aggregate: 'sum',
      window: '1h',
      clearBelow: 30,
      selector: { sensorIds: ['rain-aluoi'] },
    });
    const series: Array<[number, number]> = [
      [0, 10],
      [15, 15],
      [30, 20],
      [45, 10],
      [60, 0],
      [75, 0],
      [90, 0],
      [105, 0],
    ];
    // sums: 10, 25, 45, 55 (fires), 45 (0 -> window drops the 10), 30, 10 (clears below 30), 0
    expect(run(r, series, 'rain-aluoi').transitions).toEqual([
      [45, 'firing'],
      [90, 'resolved'],
    ]);
  });

  it('ignores readings without the metric', () => {
    expect(run(rule({ above: 1 }), [[0, 5]]).transitions).toEqual([[0, 'firing']]);
    const sensor = hueCity().sensorsById.get('water-kimlong')!;
    const step = evaluateThreshold(
      rule({ above: 1 }),
      sensor,
      initialThresholdState,
      reading('water-kimlong', { flow: 900 }, T0),
      T0,
    );
    expect(step.transition).toBe('none');
  });

  it('keeps the state object while a reading changes nothing, and makes a new one when it does', () => {
    const sensor = hueCity().sensorsById.get('water-kimlong')!;
    const r = rule({ above: 2.0 });
    const at = (value: number, min: number, state: ThresholdState) =>
      evaluateThreshold(
        r,
        sensor,
        state,
        reading('water-kimlong', { [r.metric]: value }, T0 + min * MIN),
        T0 + min * MIN,
      );
    const quiet = at(1.0, 0, initialThresholdState);
    expect(quiet.state).toBe(initialThresholdState);
    expect(initialThresholdState).toEqual({ cond: { phase: 'inactive' } });
    const fired = at(2.5, 1, quiet.state);
    expect(fired.transition).toBe('firing');
    expect(fired.state).not.toBe(initialThresholdState);
    expect(initialThresholdState.cond.phase).toBe('inactive');
  });
});
