import { afterEach, describe, expect, it } from 'vitest';
import { reading, startHarness, T0, type Harness } from './alert-test-kit.ts';

const MIN = 60_000;
const rules = [
  {
    id: 'flood-3',
    type: 'threshold',
    severity: 'critical',
    category: 'naturalDisaster',
    subCategory: 'flood',
    selector: { kinds: ['water'] },
    metric: 'waterLevel',
    floodLevel: 3,
    hysteresis: 0.1,
  },
  {
    id: 'jam',
    type: 'threshold',
    severity: 'medium',
    category: 'traffic',
    subCategory: 'trafficJam',
    selector: { tags: { road: 'bridge' } },
    metric: 'occupancy',
    above: 0.8,
    clearBelow: 0.6,
    for: '15m',
  },
];

describe('restart', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('restores open alerts and `for` state from the store without repeating a notification', async () => {
    h = await startHarness(rules);
    h.events.emit('readings', [
      reading('water-kimlong', { waterLevel: 3.6 }, T0),
      reading('traffic-truongtien', { occupancy: 0.9 }, T0),
    ]);
    await h.service.idle();
    const firing = h.service.open().find((a) => a.ruleId === 'flood-3')!;
    h.clock.advance(MIN);
    await h.service.acknowledge(firing.id, 'operator', 'đã nhận');
    expect(h.seen.map((e) => `${e.seq}:${e.type}:${e.alert.ruleId}`)).toEqual([
      '1:firing:flood-3',
      '2:pending:jam',
      '3:acknowledged:flood-3',
    ]);

    h.clock.advance(4 * MIN);
    await h.restart();
    const before = h.seen.length;
    expect(
      h.service
        .open()
        .map((a) => `${a.ruleId}:${a.state}`)
        .sort(),
    ).toEqual(['flood-3:acknowledged', 'jam:pending']);
    const restored = h.service.open().find((a) => a.ruleId === 'flood-3')!;
    expect(restored).toMatchObject({ id: firing.id, acknowledgedBy: 'operator', ackNote: 'đã nhận' });

    // the river is still above level III and the bridge still jammed: nothing new to announce...
    h.events.emit('readings', [
      reading('water-kimlong', { waterLevel: 3.7 }, T0 + 6 * MIN),
      reading('traffic-truongtien', { occupancy: 0.85 }, T0 + 6 * MIN),
    ]);
    await h.service.idle();
    expect(h.seen.length).toBe(before);
    // ...until the jam has held for 15 minutes counted from before the restart (T0), not from the restart
    h.clock.set(T0 + 15 * MIN);
    await h.service.idle();
    expect(h.seen.slice(before).map((e) => `${e.seq}:${e.type}:${e.alert.ruleId}`)).toEqual(['4:firing:jam']);
    expect(h.seen.at(-1)!.alert.startsAt).toBe(T0);

    // a second restart, then the river falls: the restored alert resolves (seq continues)
    await h.restart();
    h.events.emit('readings', [reading('water-kimlong', { waterLevel: 3.3 }, T0 + 20 * MIN)]);
    await h.service.idle();
    expect(h.seen.at(-1)).toMatchObject({ seq: 5, type: 'resolved', alert: { id: firing.id, resolvedBy: 'system' } });
  });
});
