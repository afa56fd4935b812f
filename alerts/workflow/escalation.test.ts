import { afterEach, describe, expect, it } from 'vitest';
import { queryAudit } from '../../audit/audit-query.ts';
import { join } from 'node:path';
import type { Alert } from '../alert-model.ts';
import { hueRules, person, startWorkflowHarness, type WorkflowHarness } from './workflow-test-kit.ts';

let w: WorkflowHarness | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const MIN = 60_000;
const level3 = (x: WorkflowHarness): Alert => x.h.service.open().find((a) => a.ruleId === 'flood-level-3')!;
const escalations = (a: Alert) =>
  a.workflow!.log.filter((e) => e.action === 'escalated').map((e) => [e.level, e.agencyId]);
/** advances simulated time a minute at a time, letting each escalation be stored */
async function minutes(x: WorkflowHarness, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    x.h.clock.advance(MIN);
    await x.h.settle();
    await new Promise((r) => setImmediate(r));
    await x.h.settle();
  }
}

// each test opens a real store (and restarts it): generous on a shared, loaded machine
describe('escalation on the injected clock (critical: 5 min to acknowledge, 60 min to resolve)', {
  timeout: 180_000,
}, () => {
  it('re-notifies, then the next level, then the duty desk; recorded in history, audit log and on MQTT', async () => {
    w = await startWorkflowHarness(hueRules('flood-levels.yaml'));
    await w.waterLevel('water-kimlong', 3.7);
    await minutes(w, 4);
    expect(escalations(level3(w))).toEqual([]);
    await minutes(w, 1);
    expect(escalations(level3(w))).toEqual([[1, 'bch-pctt']]);
    await minutes(w, 5);
    expect(escalations(level3(w))).toEqual([
      [1, 'bch-pctt'],
      [2, 'ioc-duty'],
    ]);
    await minutes(w, 5);
    expect(escalations(level3(w))).toEqual([
      [1, 'bch-pctt'],
      [2, 'ioc-duty'],
      [3, 'ioc-duty'],
    ]);
    await minutes(w, 30);
    expect(escalations(level3(w))).toHaveLength(3); // the top of the ladder: nothing more
    const notices = w.published
      .filter((p) => p.payload.event.alert.ruleId === 'flood-level-3')
      .map((p) => [p.topic, p.payload.reason, p.payload.level]);
    expect(notices).toEqual([
      ['ioc/agencies/bch-pctt', 'assigned', undefined],
      ['ioc/agencies/bch-pctt', 'escalated', 1],
      ['ioc/agencies/ioc-duty', 'escalated', 2],
      ['ioc/agencies/ioc-duty', 'escalated', 3],
    ]);
    await w.audit.idle();
    const audited = queryAudit(join(w.h.dataDir, 'audit'), { action: ['alert.escalate'] }, 50).entries;
    expect(
      audited
        .filter((e) => e.target === level3(w!).id)
        .map((e) => e.details?.level)
        .sort(),
    ).toEqual([1, 2, 3]);
  });

  it('stops the acknowledge ladder on acknowledgement and climbs the resolve ladder from the bottom', async () => {
    w = await startWorkflowHarness(hueRules('flood-levels.yaml'));
    await w.waterLevel('water-kimlong', 3.7);
    await minutes(w, 3);
    await w.operations.workflow.acknowledge(level3(w).id, person('pctt.truc'));
    await minutes(w, 50);
    expect(escalations(level3(w))).toEqual([]);
    await minutes(w, 10);
    expect(escalations(level3(w))).toEqual([[1, 'bch-pctt']]);
    expect(level3(w).workflow!.escalation).toMatchObject({ phase: 'resolve', level: 1 });
  });

  it('re-arms from the stored alert on restart and climbs once to the rung an overdue alert has reached', async () => {
    w = await startWorkflowHarness(hueRules('flood-levels.yaml'));
    await w.waterLevel('water-kimlong', 3.7);
    await minutes(w, 6);
    expect(escalations(level3(w))).toEqual([[1, 'bch-pctt']]);
    await w.restart();
    expect(w.operations.escalation.nextAt(level3(w).id)).toBe(level3(w).firingAt! + 10 * MIN);
    // down for a while (no escalation running): found overdue at start, straight to the duty desk, once
    await w.operations.stop();
    w.h.clock.advance(20 * MIN);
    await w.restart();
    await minutes(w, 1);
    expect(escalations(level3(w))).toEqual([
      [1, 'bch-pctt'],
      [3, 'ioc-duty'],
    ]);
  });

  it("a ward's alert climbs to a third agency: the ward, its next level (flood command), the duty desk", async () => {
    // alarm level I at Kim Long is the ward's (route flood-ward); medium: 30 min to acknowledge per rung.
    // T0 is a Thursday, 07:00 in Huế, so every rung is within office hours and goes where the ladder says.
    w = await startWorkflowHarness(hueRules('flood-levels.yaml'));
    expect(w.ops.agenciesById.get('ubnd-kim-long')?.escalatesTo).toBe('bch-pctt');
    await w.waterLevel('water-kimlong', 1.2);
    const level1 = () => w!.h.service.open().find((a) => a.ruleId === 'flood-level-1')!;
    expect(level1().workflow).toMatchObject({ agencyId: 'ubnd-kim-long', route: 'flood-ward' });
    const firedAt = level1().firingAt!;
    expect(w.operations.escalation.nextAt(level1().id)).toBe(firedAt + 30 * MIN);
    await minutes(w, 29);
    expect(escalations(level1())).toEqual([]);
    await minutes(w, 1);
    expect(escalations(level1())).toEqual([[1, 'ubnd-kim-long']]);
    await minutes(w, 30);
    expect(escalations(level1())).toEqual([
      [1, 'ubnd-kim-long'],
      [2, 'bch-pctt'],
    ]);
    await minutes(w, 30);
    expect(escalations(level1())).toEqual([
      [1, 'ubnd-kim-long'],
      [2, 'bch-pctt'],
      [3, 'ioc-duty'],
    ]);
    // each step recorded: when, by whom, why, in the alert's history, on the clock the test drives
    const steps = level1().workflow!.log.filter((e) => e.action === 'escalated');
    expect(steps.map((e) => [e.at - firedAt, e.by, e.offHours])).toEqual([
      [30 * MIN, 'system', undefined],
      [60 * MIN, 'system', undefined],
      [90 * MIN, 'system', undefined],
    ]);
    expect(steps.map((e) => e.note)).toEqual([
      'not acknowledged within 30 min',
      'not acknowledged within 60 min',
      'not acknowledged within 90 min',
    ]);
    expect(level1().workflow!.escalation).toMatchObject({ phase: 'acknowledge', level: 3, at: firedAt + 90 * MIN });
    expect(w.operations.escalation.nextAt(level1().id)).toBeUndefined();
    // each agency told on its own channel, in order
    expect(
      w.published
        .filter((p) => p.payload.event.alert.ruleId === 'flood-level-1')
        .map((p) => [p.topic, p.payload.reason, p.payload.level]),
    ).toEqual([
      ['ioc/agencies/ubnd-kim-long', 'assigned', undefined],
      ['ioc/agencies/ubnd-kim-long', 'escalated', 1],
      ['ioc/agencies/bch-pctt', 'escalated', 2],
      ['ioc/agencies/ioc-duty', 'escalated', 3],
    ]);
    await w.audit.idle();
    const audited = queryAudit(join(w.h.dataDir, 'audit'), { action: ['alert.escalate'] }, 50).entries;
    expect(
      audited
        .filter((e) => e.target === level1().id)
        .map((e) => [e.details?.level, e.details?.to])
        .sort(),
    ).toEqual([
      [1, 'ubnd-kim-long'],
      [2, 'bch-pctt'],
      [3, 'ioc-duty'],
    ]);
  });
});
