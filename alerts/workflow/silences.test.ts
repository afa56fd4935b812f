import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../core/clock.ts';
import { DomainError } from '../../core/domain-error.ts';
import { hueCity, reading, status } from '../alert-test-kit.ts';
import { hueRules, startWorkflowHarness, type WorkflowHarness } from './workflow-test-kit.ts';
import { SilenceStore } from './silence-store.ts';
import { subjectOf } from './silence-model.ts';

let w: WorkflowHarness | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const MIN = 60_000;
async function minutes(x: WorkflowHarness, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    x.h.clock.advance(MIN);
    await x.h.settle();
  }
}

// each test opens a real store (and restarts it): generous on a shared, loaded machine
describe('silences and maintenance windows', { timeout: 180_000 }, () => {
  it('records a silenced alert, marked, not notified or escalated; ending the silence resumes escalation', async () => {
    w = await startWorkflowHarness(hueRules('flood-levels.yaml'));
    const silence = w.operations.silences.add(
      {
        match: { district: ['Kim Long'], ruleId: ['flood-level-3'] },
        reason: 'diễn tập',
        endsAt: w.h.clock.now() + 30 * MIN,
      },
      'ioc.truc',
    );
    await w.waterLevel('water-kimlong', 3.7);
    const alert = () => w!.h.service.open().find((a) => a.ruleId === 'flood-level-3')!;
    expect(alert().workflow).toMatchObject({
      agencyId: 'bch-pctt',
      silence: { id: silence.id, reason: 'diễn tập', until: w.h.clock.now() + 30 * MIN },
    });
    // level II is not silenced: it is announced to the command
    const notices = () => w!.published.map((p) => p.payload.event.alert.ruleId);
    expect(notices()).toContain('flood-level-2');
    expect(notices()).not.toContain('flood-level-3');
    await minutes(w, 20);
    expect(alert().workflow!.log.filter((e) => e.action === 'escalated')).toEqual([]);
    w.operations.silences.end(silence.id, 'ioc.truc');
    await expect.poll(() => alert().workflow!.silence).toBeUndefined();
    expect(alert().workflow!.log.at(-1)).toMatchObject({ action: 'unsilenced', by: 'system' });
    // the command hears of it now that it is no longer silenced
    expect(notices()).toContain('flood-level-3');
    await minutes(w, 1);
    await expect.poll(() => alert().workflow!.log.filter((e) => e.action === 'escalated').length).toBe(1);
    // overdue by now: it climbs to the rung the elapsed time has reached, once
    expect(
      alert()
        .workflow!.log.filter((e) => e.action === 'escalated')
        .map((e) => e.level),
    ).toEqual([3]);
  });

  it('a device in a scheduled maintenance window (cron, city time) raises no no-data alert until it ends', async () => {
    w = await startWorkflowHarness([
      {
        id: 'gauge-offline',
        type: 'noData',
        selector: { sensorIds: ['water-kimlong', 'water-phuoc'] },
        offline: true,
        for: '5m',
        severity: 'medium',
        category: 'naturalDisaster',
        subCategory: 'deviceOffline',
      },
    ]);
    // T0 is Thursday 07:00 in Huế: the window opens every Thursday at 07:00 for two hours
    w.operations.silences.add(
      {
        match: { sensorId: ['water-kimlong'] },
        reason: 'bảo trì định kỳ',
        maintenance: true,
        cron: '0 7 * * 4',
        durationMinutes: 120,
      },
      'ioc.truc',
    );
    w.h.events.emit('status', status('water-kimlong', 'offline', w.h.clock.now()));
    w.h.events.emit('status', status('water-phuoc', 'offline', w.h.clock.now()));
    await minutes(w, 10);
    const offline = () =>
      w!.h.service
        .open()
        .filter((a) => a.ruleId === 'gauge-offline')
        .map((a) => a.sensorId);
    expect(offline()).toEqual(['water-phuoc']);
    expect(w.operations.silences.list()[0]).toMatchObject({ cron: '0 7 * * 4' });
    // back online after the work, offline again once the window has closed: that one is raised
    await minutes(w, 120);
    w.h.events.emit('status', status('water-kimlong', 'online', w.h.clock.now()));
    await minutes(w, 1);
    w.h.events.emit('status', status('water-kimlong', 'offline', w.h.clock.now()));
    await minutes(w, 10);
    expect(offline().sort()).toEqual(['water-kimlong', 'water-phuoc']);
  });

  it('keeps silences across a restart', async () => {
    w = await startWorkflowHarness(hueRules('flood-levels.yaml'));
    const s = w.operations.silences.add(
      { match: { sensorId: ['water-phuoc'] }, reason: 'thay cảm biến', endsAt: w.h.clock.now() + 60 * MIN },
      'ioc.truc',
    );
    await w.restart();
    expect(w.operations.silences.get(s.id)).toMatchObject({ reason: 'thay cảm biến', createdBy: 'ioc.truc' });
    expect(w.operations.silences.isActive(s.id, w.h.clock.now())).toBe(true);
    expect(w.operations.silences.isActive(s.id, w.h.clock.now() + 61 * MIN)).toBe(false);
  });

  it('refuses bad input with a clear error naming the field, and stores nothing (property, seed fixed)', () => {
    const clock = createManualClock();
    const store = new SilenceStore(undefined, clock, 'Asia/Ho_Chi_Minh');
    expect(() =>
      store.add({ match: { sensorId: ['x'] }, reason: 'r', cron: '61 * * * *', durationMinutes: 5 }, 'a'),
    ).toThrow(/cron: invalid cron expression/);
    expect(() => store.add({ match: { sensorId: ['x'] }, reason: 'r' }, 'a')).toThrow(
      /endsAt: an ad hoc silence needs endsAt/,
    );
    expect(() => store.add({ match: {}, reason: 'r', endsAt: clock.now() + 1 }, 'a')).toThrow(/name at least one of/);
    expect(() => store.add({ match: { sensorId: ['x'] }, reason: 'r', endsAt: clock.now() - 1 }, 'a')).toThrow(
      /endsAt: must be in the future/,
    );
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.record(
          { match: fc.jsonValue(), reason: fc.jsonValue(), cron: fc.string(), durationMinutes: fc.jsonValue() },
          { requiredKeys: [] },
        ),
        (a, b) => {
          for (const input of [a, b]) {
            const before = store.list().length;
            try {
              store.add(input, 'prop');
            } catch (err) {
              expect(err).toBeInstanceOf(DomainError);
              expect((err as DomainError).category).toBe('invalid');
              expect(store.list().length).toBe(before);
            }
          }
        },
      ),
      { seed: 16, numRuns: 300 },
    );
  });

  it('a silence by sensor kind mutes a water alert, not an air one; both are recorded and shown', async () => {
    w = await startWorkflowHarness([
      ...hueRules('flood-levels.yaml'),
      {
        id: 'pm25-high',
        type: 'threshold',
        selector: { kinds: ['air'] },
        metric: 'pm25',
        above: 100,
        severity: 'medium',
        category: 'environment',
        subCategory: 'airPollution',
      },
    ]);
    const silence = w.operations.silences.add(
      { match: { sensorKind: ['water'] }, reason: 'hiệu chuẩn trạm thủy văn', endsAt: w.h.clock.now() + 60 * MIN },
      'ioc.truc',
    );
    await w.waterLevel('water-kimlong', 1.2);
    w.h.events.emit('readings', [reading('air-ngomon', { pm25: 180 }, w.h.clock.now())]);
    await w.h.settle();
    const open = (ruleId: string) => w!.h.service.open().find((a) => a.ruleId === ruleId);
    // both recorded and open: the water one marked silenced, the air one not
    expect(open('flood-level-1')).toMatchObject({ kind: 'water', state: 'firing' });
    expect(open('flood-level-1')!.workflow).toMatchObject({
      agencyId: 'ubnd-kim-long',
      silence: { id: silence.id, reason: 'hiệu chuẩn trạm thủy văn' },
    });
    expect(open('pm25-high')).toMatchObject({ kind: 'air', state: 'firing', workflow: { agencyId: 'so-tnmt' } });
    expect(open('pm25-high')!.workflow!.silence).toBeUndefined();
    // only the air alert is announced to its agency
    const notices = w.published.map((p) => [p.topic, p.payload.event.alert.ruleId]);
    expect(notices).toContainEqual(['ioc/agencies/so-tnmt', 'pm25-high']);
    expect(notices.filter(([, ruleId]) => ruleId === 'flood-level-1')).toEqual([]);
    // and only the air alert escalates (medium: 30 min to acknowledge)
    await minutes(w, 31);
    const escalated = (ruleId: string) => open(ruleId)!.workflow!.log.filter((e) => e.action === 'escalated');
    await expect.poll(() => escalated('pm25-high').length).toBe(1);
    expect(escalated('flood-level-1')).toEqual([]);
  });

  it('refuses a sensor kind the city does not have, naming the field and the kinds', () => {
    const clock = createManualClock();
    const kinds = [...hueCity().kinds.keys()];
    const store = new SilenceStore(undefined, clock, 'Asia/Ho_Chi_Minh', undefined, kinds);
    const add = () =>
      store.add({ match: { sensorKind: ['water', 'submarine'] }, reason: 'r', endsAt: clock.now() + MIN }, 'a');
    expect(add).toThrow(/^match\.sensorKind: unknown sensor kind "submarine" \(the city's kinds: .*water/);
    expect(store.list()).toEqual([]);
  });

  it('matches by rule type; the old name match.ruleKind is read as ruleType, from the API and from an old file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ioc-silences-'));
    try {
      const clock = createManualClock();
      const file = join(dir, 'silences.json');
      const alert = { sensorId: 'water-kimlong', kind: 'water', ruleId: 'gauge-offline', district: 'Kim Long' };
      const subject = (ruleType: string) => subjectOf(alert, ruleType);
      const store = new SilenceStore(file, clock, 'Asia/Ho_Chi_Minh');
      const byType = store.add({ match: { ruleType: ['noData'] }, reason: 'new', endsAt: clock.now() + MIN }, 'a');
      expect(store.activeFor(subject('noData'), clock.now())?.id).toBe(byType.id);
      expect(store.activeFor(subject('threshold'), clock.now())).toBeUndefined();
      store.end(byType.id, 'a');

      const old = store.add({ match: { ruleKind: ['noData'] }, reason: 'old', endsAt: clock.now() + MIN }, 'a');
      expect(old.match).toEqual({ ruleType: ['noData'] });
      expect(store.activeFor(subject('noData'), clock.now())?.id).toBe(old.id);
      const both = { match: { ruleKind: ['noData'], ruleType: ['threshold'] }, reason: 'x', endsAt: clock.now() + MIN };
      expect(() => store.add(both, 'a')).toThrow(
        'match: ruleKind (deprecated) ["noData"] and ruleType ["threshold"] disagree: keep only ruleType',
      );
      expect(store.list()).toHaveLength(2);
      store.close();

      // a file written before the rename: its silences load, by their new name
      const written = JSON.parse(readFileSync(file, 'utf8')) as { silences: Array<{ match: object }> };
      written.silences[1]!.match = { ruleKind: ['noData'] };
      writeFileSync(file, JSON.stringify(written));
      const reloaded = new SilenceStore(file, clock, 'Asia/Ho_Chi_Minh');
      expect(reloaded.get(old.id)?.match).toEqual({ ruleType: ['noData'] });
      expect(reloaded.activeFor(subject('noData'), clock.now())?.id).toBe(old.id);
      reloaded.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
