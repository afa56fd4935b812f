import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { reading, startHarness, T0, type Harness } from './alert-test-kit.ts';

const jam = {
  id: 'jam',
  type: 'threshold',
  severity: 'medium',
  category: 'traffic',
  subCategory: 'trafficJam',
  selector: { sensorIds: ['traffic-phuxuan'] },
  metric: 'occupancy',
  above: 0.5,
};

describe('rules CRUD', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('validates, persists as YAML in the data dir, applies at once and survives a restart', async () => {
    h = await startHarness([jam]);
    await expect(h.service.rules.put({ ...jam, id: 'bad', above: 'high' }, 'admin')).rejects.toMatchObject({
      category: 'invalid',
      code: 'rule_invalid',
      message: expect.stringContaining('above:'),
    });
    await expect(h.service.rules.put({ ...jam, id: 'bad2', metric: 'pm25' }, 'admin')).rejects.toMatchObject({
      message: expect.stringContaining('metric: kind traffic has no metric "pm25"'),
    });
    const created = await h.service.rules.put(
      { ...jam, id: 'slow-bridge', metric: 'averageVehicleSpeed', above: undefined, below: 10 },
      'admin',
    );
    expect(created).toMatchObject({ id: 'slow-bridge', enabled: true });
    const file = join(h.dataDir, 'rules', 'slow-bridge.yaml');
    expect(readFileSync(file, 'utf8')).toContain('changed through the API by admin');
    h.events.emit('readings', [reading('traffic-phuxuan', { averageVehicleSpeed: 8 }, T0)]);
    await h.service.idle();
    expect(h.service.open().map((a) => a.ruleId)).toEqual(['slow-bridge']);

    await h.restart();
    expect(h.service.rules.get('slow-bridge')).toMatchObject({ below: 10 });
    expect(
      h.service.rules
        .list()
        .map((r) => r.id)
        .sort(),
    ).toEqual(['jam', 'slow-bridge']);
  });

  it('removes a shipped rule, resolving its open alerts, and keeps it removed after a restart', async () => {
    h = await startHarness([jam]);
    h.events.emit('readings', [reading('traffic-phuxuan', { occupancy: 0.7 }, T0)]);
    await h.service.idle();
    const alert = h.service.open()[0]!;
    await h.service.rules.remove('jam', 'admin');
    expect(h.seen.at(-1)).toMatchObject({ type: 'resolved', alert: { id: alert.id, resolvedBy: 'admin' } });
    expect(existsSync(join(h.dataDir, 'rules', 'removed.json'))).toBe(true);
    await expect(h.service.rules.remove('jam', 'admin')).rejects.toMatchObject({ category: 'not_found' });
    await h.restart();
    expect(h.service.rules.list()).toEqual([]);
    // putting it back through the API brings it back
    await h.service.rules.put(jam, 'admin');
    await h.restart();
    expect(h.service.rules.list().map((r) => r.id)).toEqual(['jam']);
  });

  it('changing a rule keeps its open alert and announces a new severity', async () => {
    h = await startHarness([jam]);
    h.events.emit('readings', [reading('traffic-phuxuan', { occupancy: 0.7 }, T0)]);
    await h.service.idle();
    await h.service.rules.put({ ...jam, severity: 'high' }, 'admin');
    expect(h.seen.map((e) => [e.type, e.alert.severity])).toEqual([
      ['firing', 'medium'],
      ['updated', 'high'],
    ]);
    h.events.emit('readings', [reading('traffic-phuxuan', { occupancy: 0.8 }, T0 + 1000)]);
    h.events.emit('readings', [reading('traffic-phuxuan', { occupancy: 0.2 }, T0 + 2000)]);
    await h.service.idle();
    expect(h.seen.map((e) => e.type)).toEqual(['firing', 'updated', 'resolved']);
  });
});
