import { describe, expect, it } from 'vitest';
import { reading, T0 } from './alert-test-kit.ts';
import type { Transition } from './condition.ts';
import { evaluateRateOfChange, initialRateOfChangeState } from './rate-of-change-rule.ts';
import { rateOfChangeRuleSchema } from './rule-schema.ts';

const MIN = 60_000;
const base = {
  id: 'kimlong-rising',
  type: 'rateOfChange',
  severity: 'medium',
  category: 'naturalDisaster',
  subCategory: 'riverRise',
  selector: { sensorIds: ['water-kimlong'] },
  metric: 'waterLevel',
  window: '1h',
};

function run(
  overrides: Record<string, unknown>,
  series: Array<[number, number]>,
): Array<[number, Transition, number | undefined]> {
  const rule = rateOfChangeRuleSchema.parse({ ...base, ...overrides });
  let state = initialRateOfChangeState;
  const out: Array<[number, Transition, number | undefined]> = [];
  for (const [min, value] of series) {
    const ts = T0 + min * MIN;
    const step = evaluateRateOfChange(rule, state, reading('water-kimlong', { waterLevel: value }, ts), ts);
    state = step.state;
    if (step.transition !== 'none') out.push([min, step.transition, step.state.cond.value]);
  }
  return out;
}

describe('rate-of-change rule', () => {
  it("fires when the value rose by the amount within the window, measured from the window's lowest", () => {
    const out = run({ rise: 0.3 }, [
      [0, 1.0],
      [20, 0.9],
      [40, 1.1],
      [60, 1.25],
      [70, 1.3],
    ]);
    // at 70 the window (10, 70] holds 0.9 .. 1.3: a rise of 0.4
    expect(out.map(([m, t]) => [m, t])).toEqual([[60, 'firing']]);
    expect(out[0]![2]).toBeCloseTo(0.35, 10);
  });

  it('clears when the rise leaves the window, with hysteresis against flapping', () => {
    const out = run({ rise: 0.3, hysteresis: 0.1 }, [
      [0, 1.0],
      [30, 1.3],
      [60, 1.32],
      [89, 1.32],
      [100, 1.32],
    ]);
    // at 60: window (0,60] = 1.3, 1.32: rise 0.02 -> below 0.3 - 0.1
    expect(out.map(([m, t]) => [m, t])).toEqual([
      [30, 'firing'],
      [60, 'resolved'],
    ]);
  });

  it('detects falls and honours `for`', () => {
    const out = run({ fall: 0.5, for: '10m' }, [
      [0, 3.0],
      [5, 2.4],
      [10, 2.3],
      [15, 2.2],
    ]);
    expect(out.map(([m, t]) => [m, t])).toEqual([
      [5, 'pending'],
      [15, 'firing'],
    ]);
  });
});
