import { afterEach, describe, expect, it } from 'vitest';
import { DomainError } from '../../core/domain-error.ts';
import type { Alert } from '../alert-model.ts';
import { status } from '../alert-test-kit.ts';
import { duty, hueRules, person, startWorkflowHarness, type WorkflowHarness } from './workflow-test-kit.ts';

let w: WorkflowHarness | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const MIN = 60_000;
const firingOf = (x: WorkflowHarness, ruleId: string): Alert => {
  const a = x.h.service.open().find((o) => o.ruleId === ruleId && o.state !== 'pending');
  if (!a) throw new Error(`no open alert of ${ruleId}`);
  return a;
};
const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (err) {
    if (err instanceof DomainError) return `${err.category}:${err.code}`;
    throw err;
  }
  return 'ok';
};

// each test opens a real store (and restarts it): generous on a shared, loaded machine
describe('routing and the handling workflow (real store, simulated time)', { timeout: 180_000 }, () => {
  it('routes flood level I to the ward, levels II/III to the flood command; the default is the duty desk', async () => {
    w = await startWorkflowHarness([...hueRules('flood-levels.yaml'), ...hueRules('devices.yaml')]);
    await w.waterLevel('water-kimlong', 3.6);
    expect(firingOf(w, 'flood-level-1').workflow).toMatchObject({ agencyId: 'ubnd-kim-long', route: 'flood-ward' });
    expect(firingOf(w, 'flood-level-2').workflow).toMatchObject({ agencyId: 'bch-pctt', route: 'flood-severe' });
    expect(firingOf(w, 'flood-level-3').workflow).toMatchObject({ agencyId: 'bch-pctt', route: 'flood-severe' });
    // the ward has an MQTT channel: its member hears of it there
    expect(w.published.filter((p) => p.topic === 'ioc/agencies/ubnd-kim-long').map((p) => p.payload.reason)).toEqual([
      'assigned',
    ]);
    // a device going offline: nobody's route, so the duty desk's
    w.h.events.emit('status', status('air-ngomon', 'offline', w.h.clock.now()));
    w.h.clock.advance(6 * MIN);
    await w.h.settle();
    expect(firingOf(w, 'air-station-offline').workflow).toMatchObject({ agencyId: 'ioc-duty', route: 'default' });
  });

  it('goes firing -> acknowledged -> inProgress -> resolved (outcome), each step with who/when; else 409', async () => {
    w = await startWorkflowHarness(hueRules('flood-levels.yaml'));
    await w.waterLevel('water-kimlong', 2.2);
    const id = firingOf(w, 'flood-level-2').id;
    const wf = w.operations.workflow;
    const member = person('pctt.truc');
    expect(await codeOf(wf.start(id, member))).toBe('conflict:alert_not_acknowledged');
    w.h.clock.advance(2 * MIN);
    const acked = await wf.acknowledge(id, member, 'đã nhận');
    expect(acked).toMatchObject({
      state: 'acknowledged',
      acknowledgedBy: 'pctt.truc',
      acknowledgedAt: w.h.clock.now(),
      ackNote: 'đã nhận',
    });
    expect(await codeOf(wf.acknowledge(id, member))).toBe('conflict:alert_acknowledged');
    w.h.clock.advance(MIN);
    const started = await wf.start(id, person('pctt.pho'));
    expect(started).toMatchObject({
      state: 'inProgress',
      workflow: { inProgressBy: 'pctt.pho', inProgressAt: w.h.clock.now() },
    });
    expect(await codeOf(wf.start(id, member))).toBe('conflict:alert_in_progress');
    expect(await codeOf(wf.acknowledge(id, member))).toBe('conflict:alert_acknowledged');
    await wf.tickStep(id, member, 'verify');
    expect(await codeOf(wf.tickStep(id, member, 'verify'))).toBe('conflict:step_done');
    expect(await codeOf(wf.tickStep(id, member, 'no-such-step'))).toBe('invalid:unknown_step');
    w.h.clock.advance(10 * MIN);
    const resolved = await wf.resolve(id, member, 'falseAlarm', 'thước đo bị rác che');
    expect(resolved).toMatchObject({
      state: 'resolved',
      resolvedBy: 'pctt.truc',
      resolveNote: 'thước đo bị rác che',
      workflow: { outcome: 'falseAlarm' },
    });
    expect(resolved.workflow!.steps).toEqual([{ stepId: 'verify', by: 'pctt.truc', at: w.h.clock.now() - 10 * MIN }]);
    expect(resolved.workflow!.log.map((e) => e.action)).toEqual([
      'assigned',
      'acknowledged',
      'inProgress',
      'stepDone',
      'resolved',
    ]);
    expect(await codeOf(wf.resolve(id, member, 'handled'))).toBe('conflict:alert_resolved');
    expect(await codeOf(wf.tickStep(id, member, 'report'))).toBe('conflict:alert_resolved');
  });

  it('refuses a member of another agency, admits the IOC duty role and the person it was assigned to', async () => {
    w = await startWorkflowHarness(hueRules('flood-levels.yaml'));
    await w.waterLevel('water-kimlong', 1.2);
    const id = firingOf(w, 'flood-level-1').id; // the ward's
    const wf = w.operations.workflow;
    expect(await codeOf(wf.acknowledge(id, person('tnmt.truc')))).toBe('forbidden:not_your_agency');
    expect(await codeOf(wf.resolve(id, person('pctt.truc'), 'handled'))).toBe('forbidden:not_your_agency');
    expect(await codeOf(wf.acknowledge(id, person('nobody')))).toBe('forbidden:not_your_agency');
    expect((await w.h.service.get(id))!.state).toBe('firing'); // refused: nothing changed
    // the duty desk hands it to a person of the command, with a note
    const assigned = await wf.assign(id, duty, { assignee: 'pctt.pho' }, 'BCH theo dõi trực tiếp');
    expect(assigned.workflow).toMatchObject({ agencyId: 'ubnd-kim-long', assignee: 'pctt.pho' });
    expect(await codeOf(wf.acknowledge(id, person('pctt.pho')))).toBe('ok');
    // reassigned to an agency: the person assignment goes, the new agency's members may act
    await wf.assign(id, duty, { agencyId: 'bch-pctt' }, 'nâng cấp');
    expect(await codeOf(wf.start(id, person('pctt.truc')))).toBe('ok');
    expect(await codeOf(wf.assign(id, duty, { agencyId: 'no-such' }, 'x'))).toBe('invalid:unknown_agency');
    const log = (await w.h.service.get(id))!.workflow!.log;
    expect(log.filter((e) => e.action === 'reassigned').map((e) => [e.by, e.agencyId, e.assignee, e.note])).toEqual([
      ['ioc.truc', 'ubnd-kim-long', 'pctt.pho', 'BCH theo dõi trực tiếp'],
      ['ioc.truc', 'bch-pctt', undefined, 'nâng cấp'],
    ]);
    expect(wf.inScope((await w.h.service.get(id))!, person('pctt.truc'), 'agency')).toBe(true);
    expect(wf.inScope((await w.h.service.get(id))!, person('kimlong.truc'), 'agency')).toBe(false);
  });

  it('keeps assignment, steps and state across a restart', async () => {
    w = await startWorkflowHarness(hueRules('flood-levels.yaml'));
    await w.waterLevel('water-kimlong', 2.2);
    const id = firingOf(w, 'flood-level-2').id;
    const wf = w.operations.workflow;
    await wf.acknowledge(id, person('pctt.truc'));
    await wf.start(id, person('pctt.truc'));
    await wf.tickStep(id, person('pctt.truc'), 'verify');
    await wf.assign(id, duty, { assignee: 'pctt.pho' }, 'ca đêm');
    await w.restart();
    const back = w.h.service.open().find((a) => a.id === id)!;
    expect(back).toMatchObject({
      state: 'inProgress',
      workflow: { agencyId: 'bch-pctt', assignee: 'pctt.pho', steps: [{ stepId: 'verify', by: 'pctt.truc' }] },
    });
    await w.operations.workflow.tickStep(id, person('pctt.pho'), 'inform-command');
    const done = await w.operations.workflow.resolve(id, person('pctt.pho'), 'handled');
    expect(done.workflow!.steps.map((s) => s.stepId)).toEqual(['verify', 'inform-command']);
  });
});
