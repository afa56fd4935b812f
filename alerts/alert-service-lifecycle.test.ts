import { afterEach, describe, expect, it } from 'vitest';
import { DomainError } from '../core/domain-error.ts';
import { reading, startHarness, T0, type Harness } from './alert-test-kit.ts';
import { ALERT_EVENTS_MEASUREMENT } from './alert-journal.ts';
import { writeThrough } from './write-through-store.ts';

const MIN = 60_000;
const floodII = {
  id: 'flood-2',
  type: 'threshold',
  severity: 'high',
  category: 'naturalDisaster',
  subCategory: 'flood',
  selector: { kinds: ['water'] },
  metric: 'waterLevel',
  floodLevel: 2,
  hysteresis: 0.1,
  for: '10m',
};

describe('alert service lifecycle (simulated time)', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('announces an event the moment it is raised, and reports it durable only once its write is done', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    h = await startHarness([{ ...floodII, for: undefined }], {
      wrapStore: (store) =>
        writeThrough(store, async (points) => {
          await gate;
          await store.write(points);
        }),
    });
    h.events.emit('readings', [reading('water-kimlong', { waterLevel: 2.3 }, T0)]);
    expect(h.seen.map((e) => e.type)).toEqual(['firing']); // on the bus before any write finished
    let durable = false;
    const idle = h.service.idle().then(() => {
      durable = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(durable).toBe(false);
    expect(
      await h.store.queryPoints({ measurement: ALERT_EVENTS_MEASUREMENT, from: T0 - 1, to: T0 + MIN }),
    ).toHaveLength(0);
    open();
    await idle;
    expect(
      await h.store.queryPoints({ measurement: ALERT_EVENTS_MEASUREMENT, from: T0 - 1, to: T0 + MIN }),
    ).toHaveLength(1);
  });

  it('goes pending -> firing by the clock -> acknowledged -> resolved, persisting each event in order', async () => {
    h = await startHarness([floodII]);
    h.events.emit('readings', [reading('water-kimlong', { waterLevel: 2.15 }, T0)]);
    await h.service.idle();
    expect(h.seen.map((e) => e.type)).toEqual(['pending']);
    const pending = h.seen[0]!.alert;
    expect(pending).toMatchObject({
      ruleId: 'flood-2',
      sensorId: 'water-kimlong',
      severity: 'high',
      category: 'naturalDisaster',
      subCategory: 'flood',
      state: 'pending',
      value: 2.15,
      threshold: 2,
      unit: 'm',
      startsAt: T0,
    });
    expect(pending.message.vi).toBe('Mực nước 2,15 m tại Trạm thủy văn Kim Long (sông Hương) vượt báo động II (2 m)');
    expect(pending.message.en).toBe(
      'Water level 2.15 m at Trạm thủy văn Kim Long (sông Hương) is above flood alarm level II (2 m)',
    );
    await expect(h.service.acknowledge(pending.id, 'operator')).rejects.toMatchObject({
      category: 'conflict',
      code: 'alert_pending',
    });

    // no further reading: the `for` timer fires it at exactly T0 + 10 min
    h.clock.advance(10 * MIN - 1);
    await h.service.idle();
    expect(h.seen).toHaveLength(1);
    h.clock.advance(1);
    await h.service.idle();
    expect(h.seen.map((e) => e.type)).toEqual(['pending', 'firing']);
    expect(h.seen[1]!.alert).toMatchObject({ id: pending.id, state: 'firing', firingAt: T0 + 10 * MIN, startsAt: T0 });

    h.clock.advance(MIN);
    const acked = await h.service.acknowledge(pending.id, 'nguyen.van.a', 'Đã báo Ban chỉ huy PCTT');
    expect(acked).toMatchObject({
      state: 'acknowledged',
      acknowledgedBy: 'nguyen.van.a',
      ackNote: 'Đã báo Ban chỉ huy PCTT',
      acknowledgedAt: T0 + 11 * MIN,
    });
    await expect(h.service.acknowledge(pending.id, 'someone')).rejects.toMatchObject({ code: 'alert_acknowledged' });

    // hysteresis: 1.95 is below level II but above 2.0 - 0.1, so it stays; 1.85 clears
    h.events.emit('readings', [reading('water-kimlong', { waterLevel: 1.95 }, T0 + 12 * MIN)]);
    h.clock.advance(MIN);
    h.events.emit('readings', [reading('water-kimlong', { waterLevel: 1.85 }, T0 + 13 * MIN)]);
    await h.service.idle();
    expect(h.seen.map((e) => e.type)).toEqual(['pending', 'firing', 'acknowledged', 'resolved']);
    expect(h.seen.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(h.seen[3]!.alert).toMatchObject({ state: 'resolved', resolvedBy: 'system', acknowledgedBy: 'nguyen.van.a' });
    expect(h.service.open()).toEqual([]);
    await expect(h.service.resolve(pending.id, 'x')).rejects.toMatchObject({ code: 'alert_resolved' });
    await expect(h.service.acknowledge('no-such-id', 'x')).rejects.toBeInstanceOf(DomainError);

    const points = await h.store.queryPoints({ measurement: ALERT_EVENTS_MEASUREMENT, from: T0, to: T0 + 60 * MIN });
    expect(points.map((p) => [p.fields.type, p.fields.state, p.fields.seq])).toEqual([
      ['pending', 'pending', 1],
      ['firing', 'firing', 2],
      ['acknowledged', 'acknowledged', 3],
      ['resolved', 'resolved', 4],
    ]);
    expect(points[0]!.tags).toEqual({
      ruleId: 'flood-2',
      sensorId: 'water-kimlong',
      kind: 'water',
      district: 'Kim Long',
      severity: 'high',
    });
    expect(await h.service.get(pending.id)).toMatchObject({ state: 'resolved' });
    const history = await h.service.list({ state: ['resolved'], from: T0 });
    expect(history.map((a) => a.id)).toEqual([pending.id]);
  });

  it('keeps an alert resolved by an operator quiet until its condition clears, then raises a new one', async () => {
    h = await startHarness([{ ...floodII, for: undefined }]);
    h.events.emit('readings', [reading('water-kimlong', { waterLevel: 2.3 }, T0)]);
    await h.service.idle();
    const first = h.service.open()[0]!;
    await h.service.resolve(first.id, 'operator', 'cảm biến đang hiệu chỉnh');
    for (let i = 1; i <= 5; i++)
      h.events.emit('readings', [reading('water-kimlong', { waterLevel: 2.3 + i / 100 }, T0 + i * MIN)]);
    await h.service.idle();
    expect(h.seen.map((e) => e.type)).toEqual(['firing', 'resolved']);
    expect(h.seen[1]!.alert).toMatchObject({ resolvedBy: 'operator', resolveNote: 'cảm biến đang hiệu chỉnh' });
    h.events.emit('readings', [reading('water-kimlong', { waterLevel: 1.5 }, T0 + 6 * MIN)]);
    h.events.emit('readings', [reading('water-kimlong', { waterLevel: 2.2 }, T0 + 7 * MIN)]);
    await h.service.idle();
    expect(h.seen.map((e) => e.type)).toEqual(['firing', 'resolved', 'firing']);
    expect(h.seen[2]!.alert.id).not.toBe(first.id);
  });

  it('lists open and past alerts with filters', async () => {
    h = await startHarness([{ ...floodII, for: undefined }]);
    h.events.emit('readings', [
      reading('water-kimlong', { waterLevel: 2.3 }, T0),
      reading('water-phuoc', { waterLevel: 3.2 }, T0),
    ]);
    await h.service.idle();
    expect((await h.service.list({ district: ['Kim Long'] })).map((a) => a.sensorId)).toEqual(['water-kimlong']);
    expect(await h.service.list({ sensorId: 'water-phuoc', state: ['firing'] })).toHaveLength(1);
    expect(await h.service.list({ severity: ['critical'] })).toEqual([]);
    expect(await h.service.list({ limit: 1 })).toHaveLength(1);
  });
});
