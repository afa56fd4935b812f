import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../alert-model.ts';
import { duty, hueRules, person, startWorkflowHarness, type WorkflowHarness } from '../workflow/workflow-test-kit.ts';
import { cityTime, parseCityTime, startOfMonth, startOfWeek } from './city-time.ts';
import { computeHandlingKpi, percentile } from './handling-kpi.ts';

let w: WorkflowHarness | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const MIN = 60_000;
const TZ = 'Asia/Ho_Chi_Minh';
const firing = (x: WorkflowHarness, ruleId: string): Alert =>
  x.h.service.open().find((a) => a.ruleId === ruleId && a.state !== 'pending')!;

describe('handling KPI against known times (real store, simulated time)', () => {
  it('gives time to acknowledge and to resolve per agency and severity: median, p90, share within target', async () => {
    w = await startWorkflowHarness(hueRules('flood-levels.yaml'));
    const x = w;
    const wf = x.operations.workflow;
    const t0 = x.h.clock.now();
    // Kim Long at 3.6 m: level I (medium, the ward), II (high) and III (critical) (the flood command)
    await x.waterLevel('water-kimlong', 3.6);
    const l1 = firing(x, 'flood-level-1');
    const l2 = firing(x, 'flood-level-2');
    const l3 = firing(x, 'flood-level-3');
    const firedAt = l3.firingAt!;
    x.h.clock.advance(3 * MIN);
    await wf.acknowledge(l2.id, person('pctt.truc')); // 3 min, target 15: met
    x.h.clock.advance(7 * MIN);
    await wf.acknowledge(l1.id, person('kimlong.truc')); // 10 min, target 30: met
    x.h.clock.advance(10 * MIN);
    await wf.acknowledge(l3.id, duty); // 20 min, target 5: missed
    x.h.clock.advance(20 * MIN);
    await wf.resolve(l3.id, person('pctt.pho'), 'handled'); // 40 min, target 60: met
    x.h.clock.advance(260 * MIN);
    await wf.resolve(l2.id, person('pctt.truc'), 'handled'); // 300 min, target 240: missed
    x.h.clock.advance(MIN);
    await x.h.settle();
    const alerts = await x.h.service.list({ from: t0 - MIN, to: x.h.clock.now() });
    const ruleTypeOf = (id: string) => x.h.service.rules.get(id)?.type;
    const now = x.h.clock.now();

    const bySeverity = computeHandlingKpi({
      alerts,
      ops: x.ops,
      from: t0,
      to: now + 1,
      groupBy: 'severity',
      ruleTypeOf,
      now,
    });
    expect(bySeverity.total).toMatchObject({ alerts: 3, open: 1, autoResolved: 0 });
    expect(bySeverity.total.acknowledge).toMatchObject({
      count: 3,
      medianMs: 10 * MIN,
      p90Ms: 20 * MIN,
      met: 2,
      missed: 1,
    });
    expect(bySeverity.total.acknowledge.withinTarget).toBeCloseTo(2 / 3);
    // level I is open after 301 min, past its 8 h resolve target? no (480): not judged yet
    expect(bySeverity.total.resolve).toMatchObject({
      count: 2,
      medianMs: 40 * MIN,
      p90Ms: 300 * MIN,
      met: 1,
      missed: 1,
      withinTarget: 0.5,
    });
    expect(bySeverity.groups.map((g) => g.key)).toEqual(['critical', 'high', 'medium']);

    const byAgency = computeHandlingKpi({
      alerts,
      ops: x.ops,
      from: t0,
      to: now + 1,
      groupBy: 'agency',
      ruleTypeOf,
      now,
    });
    const agency = Object.fromEntries(byAgency.groups.map((g) => [g.key, g]));
    expect(agency['bch-pctt']!.acknowledge).toMatchObject({
      count: 2,
      medianMs: 3 * MIN,
      p90Ms: 20 * MIN,
      withinTarget: 0.5,
    });
    expect(agency['ubnd-kim-long']!.acknowledge).toMatchObject({ count: 1, medianMs: 10 * MIN, withinTarget: 1 });
    expect(agency['ubnd-kim-long']!.resolve).toMatchObject({ count: 0, medianMs: null, withinTarget: null });

    // ten hours on, level I is still open past its 8 h resolve target: a miss, not a free pass
    const later = computeHandlingKpi({
      alerts,
      ops: x.ops,
      from: t0,
      to: firedAt + 10 * 60 * MIN,
      groupBy: 'agency',
      ruleTypeOf,
      now: firedAt + 10 * 60 * MIN,
    });
    expect(later.groups.find((g) => g.key === 'ubnd-kim-long')!.resolve).toMatchObject({
      met: 0,
      missed: 1,
      withinTarget: 0,
    });
    // a period that ends before they fired holds none of them
    expect(
      computeHandlingKpi({ alerts, ops: x.ops, from: t0 - 60 * MIN, to: firedAt, groupBy: 'rule', ruleTypeOf, now })
        .total.alerts,
    ).toBe(0);
  });
});

describe('percentiles and city time', () => {
  it('uses nearest rank', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
    expect(percentile([7], 90)).toBe(7);
  });

  it('reads dates in Huế time and finds the week (Monday) and month it is in', () => {
    expect(parseCityTime('2026-10-15', TZ, 'from')).toBe(Date.UTC(2026, 9, 14, 17));
    expect(parseCityTime('2026-10-15T07:30', TZ, 'from')).toBe(Date.UTC(2026, 9, 15, 0, 30));
    expect(parseCityTime('2026-10-15T07:30:00Z', TZ, 'from')).toBe(Date.UTC(2026, 9, 15, 7, 30));
    expect(() => parseCityTime('yesterday', TZ, 'from')).toThrow(/from: "yesterday" is not a date/);
    expect(() => parseCityTime('2026-13-01', TZ, 'to')).toThrow(/to:/);
    // Thursday 15 Oct 2026, 01:00 in Huế (still the 14th in UTC)
    const t = cityTime(2026, 10, 15, 1, 0, 0, TZ);
    expect(startOfWeek(t, TZ)).toBe(Date.UTC(2026, 9, 11, 17));
    expect(startOfMonth(t, TZ)).toBe(Date.UTC(2026, 8, 30, 17));
  });
});
