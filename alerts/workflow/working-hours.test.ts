import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../alert-model.ts';
import { hueCity } from '../alert-test-kit.ts';
import { loadOperations } from '../../config/operations-config.ts';
import { coverOf, isOffHours, withinHours } from './working-hours.ts';
import { HUE_DIR, hueRules, startWorkflowHarness, type WorkflowHarness } from './workflow-test-kit.ts';

let w: WorkflowHarness | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const MIN = 60_000;
const HOUR = 60 * MIN;
// Thursday 15 Oct 2026 in Huế (UTC+7): 03:00 is outside a ward's office hours, 10:00 inside
const THU_0300 = Date.UTC(2026, 9, 14, 20, 0);
const THU_1000 = Date.UTC(2026, 9, 15, 3, 0);
const level1 = (x: WorkflowHarness): Alert => x.h.service.open().find((a) => a.ruleId === 'flood-level-1')!;
const notices = (x: WorkflowHarness) =>
  x.published
    .filter((p) => p.payload.event.alert.ruleId === 'flood-level-1')
    .map((p) => [p.topic, p.payload.reason, p.payload.level, p.payload.offHours, p.payload.onBehalfOf]);
async function minutes(x: WorkflowHarness, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    x.h.clock.advance(MIN);
    await x.h.settle();
    await new Promise((r) => setImmediate(r));
    await x.h.settle();
  }
}

describe('working hours: off-hours notices go to the duty desk at once (simulated time)', { timeout: 180_000 }, () => {
  it('at 03:00 the ward is told (off hours), the duty desk covers at once and gets the first rung', async () => {
    w = await startWorkflowHarness(hueRules('flood-levels.yaml'), { start: THU_0300 });
    await w.waterLevel('water-kimlong', 1.2); // alarm level I: medium, 30 min to acknowledge
    const a = level1(w);
    expect(a.workflow).toMatchObject({ agencyId: 'ubnd-kim-long' });
    expect(a.workflow!.log[0]).toMatchObject({ action: 'assigned', agencyId: 'ubnd-kim-long', offHours: true });
    await minutes(w, 30);
    // rung 2 is the command's (24 h a day): it gets it itself
    await minutes(w, 30);
    expect(notices(w)).toEqual([
      ['ioc/agencies/ubnd-kim-long', 'assigned', undefined, true, undefined],
      ['ioc/agencies/ioc-duty', 'covering', undefined, true, 'ubnd-kim-long'],
      ['ioc/agencies/ioc-duty', 'escalated', 1, true, undefined],
      ['ioc/agencies/bch-pctt', 'escalated', 2, undefined, undefined],
    ]);
    const rungs = level1(w).workflow!.log.filter((e) => e.action === 'escalated');
    expect(rungs.map((e) => [e.level, e.agencyId, e.offHours, e.note])).toEqual([
      [1, 'ioc-duty', true, 'not acknowledged within 30 min; ubnd-kim-long is off hours'],
      [2, 'bch-pctt', undefined, 'not acknowledged within 60 min'],
    ]);
  });

  it('at 10:00 on a weekday the ward alone is told, and the first rung re-notifies the ward', async () => {
    w = await startWorkflowHarness(hueRules('flood-levels.yaml'), { start: THU_1000 });
    await w.waterLevel('water-kimlong', 1.2);
    expect(level1(w).workflow!.log[0]!.offHours).toBeUndefined();
    await minutes(w, 30);
    expect(notices(w)).toEqual([
      ['ioc/agencies/ubnd-kim-long', 'assigned', undefined, undefined, undefined],
      ['ioc/agencies/ubnd-kim-long', 'escalated', 1, undefined, undefined],
    ]);
  });
});

describe('working hours in the city time zone', () => {
  const ops = loadOperations(HUE_DIR, hueCity());
  const ward = ops.agenciesById.get('ubnd-kim-long')!; // default hours: Monday to Friday, 07:00-17:00
  it('agrees with the Huế wall clock (UTC+7, no daylight saving) at any instant', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2030, 0, 1) }), (t) => {
        const local = new Date(t + 7 * HOUR);
        const day = local.getUTCDay();
        const minute = local.getUTCHours() * 60 + local.getUTCMinutes();
        const open = day >= 1 && day <= 5 && minute >= 7 * 60 && minute < 17 * 60;
        expect(withinHours(ward, t, ops.timezone)).toBe(open);
        expect(isOffHours(ops, ward.id, t)).toBe(!open);
        expect(coverOf(ops, ward.id, t)).toBe(open ? undefined : ops.dutyDesk);
        // the duty desk covers for others, never for itself
        expect(coverOf(ops, ops.dutyDesk, t)).toBeUndefined();
      }),
      { seed: 16, numRuns: 500 },
    );
  });
});
