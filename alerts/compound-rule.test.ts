import { describe, expect, it } from 'vitest';
import { hueCity, reading, T0 } from './alert-test-kit.ts';
import { evaluateCompound, initialCompoundState, type CompoundState } from './compound-rule.ts';
import type { Transition } from './condition.ts';
import { compoundRuleSchema } from './rule-schema.ts';
import { conditionSensorSets } from './compound-rule.ts';

const MIN = 60_000;
const rule = compoundRuleSchema.parse({
  id: 'rain-and-river',
  type: 'compound',
  severity: 'high',
  category: 'naturalDisaster',
  subCategory: 'flood',
  alertSensor: 'water-kimlong',
  conditions: [
    {
      selector: { tags: { role: 'rain', basin: 'Hương' } },
      metric: 'precipitation',
      aggregate: 'sum',
      window: '1h',
      above: 50,
    },
    { selector: { sensorIds: ['water-kimlong'] }, metric: 'waterLevel', rise: 0.2, window: '1h' },
  ],
});

describe('compound rule', () => {
  it('fires only while heavy rain upstream and a rising river coincide', () => {
    const sets = conditionSensorSets(rule, hueCity());
    expect([...sets[0]!].sort()).toEqual(['rain-aluoi', 'rain-binhdien', 'rain-kimlong', 'rain-phubai']);
    let state: CompoundState = initialCompoundState(rule);
    const out: Array<[number, Transition]> = [];
    const feed = (min: number, sensorId: string, values: Record<string, number>) => {
      const ts = T0 + min * MIN;
      const step = evaluateCompound(rule, sets, state, reading(sensorId, values, ts), ts);
      state = step.state;
      if (step.transition !== 'none') out.push([min, step.transition]);
    };
    feed(0, 'water-kimlong', { waterLevel: 1.0 });
    feed(10, 'water-kimlong', { waterLevel: 1.3 }); // river rising, no rain yet
    feed(15, 'rain-namdong', { precipitation: 90 }); // Tả Trạch basin: not selected
    expect(out).toEqual([]);
    feed(20, 'rain-aluoi', { precipitation: 30 });
    feed(30, 'rain-aluoi', { precipitation: 25 }); // 55 mm within the hour at A Lưới
    expect(out).toEqual([[30, 'firing']]);
    feed(50, 'water-kimlong', { waterLevel: 1.45 });
    expect(out).toEqual([[30, 'firing']]);
    // still rising at 95, but the A Lưới rain (20', 30') has left the hour's window
    feed(95, 'water-kimlong', { waterLevel: 1.7 });
    expect(out).toEqual([
      [30, 'firing'],
      [95, 'resolved'],
    ]);
  });
});
