import { afterEach, describe, expect, it } from 'vitest';
import { cameraEvent, reading, startHarness, status, T0, type Harness } from './alert-test-kit.ts';
import { evaluateNoData, initialNoDataState, noDataRuleSchema } from './no-data-rule.ts';

const MIN = 60_000;
const offlineRule = {
  id: 'air-offline',
  type: 'noData',
  selector: { sensorIds: ['air-ngomon'] },
  offline: true,
  silence: '30m',
  for: '5m',
  severity: 'low',
  category: 'environment',
  subCategory: 'deviceOffline',
};

describe('no-data / device offline rule (clock timers)', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('fires after silence plus `for` with no event at all, and clears on the next reading', async () => {
    h = await startHarness([offlineRule]);
    h.events.emit('readings', [reading('air-ngomon', { pm25: 20 }, T0)]);
    h.clock.advance(30 * MIN - 1);
    await h.service.idle();
    expect(h.seen).toEqual([]);
    h.clock.advance(1);
    await h.service.idle();
    expect(h.seen.map((e) => [e.type, e.ts - T0])).toEqual([['pending', 30 * MIN]]);
    expect(h.seen[0]!.alert.message.vi).toBe(
      'Không nhận dữ liệu từ Quan trắc không khí Ngọ Môn trong 30 phút (ngưỡng 30 phút)',
    );
    h.clock.advance(5 * MIN);
    await h.service.idle();
    expect(h.seen.map((e) => [e.type, e.ts - T0])).toEqual([
      ['pending', 30 * MIN],
      ['firing', 35 * MIN],
    ]);
    h.events.emit('readings', [reading('air-ngomon', { pm25: 21 }, T0 + 36 * MIN)]);
    await h.service.idle();
    expect(h.seen.at(-1)!.type).toBe('resolved');
    // readings every 10 minutes keep it quiet for hours
    for (let i = 1; i <= 30; i++) {
      h.clock.advance(10 * MIN);
      h.events.emit('readings', [reading('air-ngomon', { pm25: 20 }, h.clock.now())]);
    }
    await h.service.idle();
    expect(h.seen).toHaveLength(3);
  });

  it('fires on the offline status (last will) after `for`; a quick reconnect inside `for` never fires', async () => {
    h = await startHarness([offlineRule]);
    h.events.emit('status', status('air-ngomon', 'offline', T0));
    h.clock.advance(2 * MIN);
    h.events.emit('status', status('air-ngomon', 'online', T0 + 2 * MIN));
    await h.service.idle();
    expect(h.seen.map((e) => e.type)).toEqual(['pending', 'resolved']);
    h.events.emit('status', status('air-ngomon', 'offline', T0 + 3 * MIN));
    h.clock.advance(5 * MIN);
    await h.service.idle();
    expect(h.seen.map((e) => e.type)).toEqual(['pending', 'resolved', 'pending', 'firing']);
    expect(h.seen.at(-1)!.alert.message.en).toBe('Device Quan trắc không khí Ngọ Môn reported offline');
  });
});

describe('device offline across a restart', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('takes the last stored status of each device: offline devices raise their alert after `for`', async () => {
    h = await startHarness([{ ...offlineRule, selector: { kinds: ['air'] } }]);
    // what ingest stores for the broker's last will of a device, and a device that came back online
    await h.store.write([
      {
        measurement: 'device_status',
        tags: { sensorId: 'air-ngomon', kind: 'air', district: 'Phú Xuân' },
        fields: { status: 'offline', source: 'will' },
        ts: T0 - 60 * MIN,
      },
      {
        measurement: 'device_status',
        tags: { sensorId: 'air-dongba', kind: 'air', district: 'Phú Xuân' },
        fields: { status: 'offline', source: 'will' },
        ts: T0 - 60 * MIN,
      },
      {
        measurement: 'device_status',
        tags: { sensorId: 'air-dongba', kind: 'air', district: 'Phú Xuân' },
        fields: { status: 'online', source: 'device' },
        ts: T0 - 50 * MIN,
      },
    ]);
    await h.restart();
    h.clock.advance(5 * MIN);
    await h.service.idle();
    expect(h.seen.map((e) => `${e.type}:${e.alert.sensorId}`)).toEqual(['pending:air-ngomon', 'firing:air-ngomon']);
    // and a second restart repeats nothing
    const before = h.seen.length;
    await h.restart();
    h.clock.advance(10 * MIN);
    await h.service.idle();
    expect(h.seen.length).toBe(before);
  });
});

describe('camera event rule in the service', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('fires on one smoke/fire detection and clears by the clock when the window passes', async () => {
    h = await startHarness([
      {
        id: 'smoke-fire',
        type: 'cameraEvent',
        selector: { kinds: ['camera'] },
        eventTypes: ['smokeFire'],
        count: 1,
        window: '10m',
        severity: 'critical',
        category: 'security',
        subCategory: 'fire',
      },
    ]);
    h.events.emit('cameraEvent', cameraEvent('cam-dongba', 'vehicleCount', T0));
    h.events.emit('cameraEvent', cameraEvent('cam-dongba', 'smokeFire', T0));
    h.clock.advance(4 * MIN);
    h.events.emit('cameraEvent', cameraEvent('cam-dongba', 'smokeFire', T0 + 4 * MIN));
    await h.service.idle();
    expect(h.seen.map((e) => e.type)).toEqual(['firing']);
    expect(h.seen[0]!.alert).toMatchObject({ sensorId: 'cam-dongba', severity: 'critical', subCategory: 'fire' });
    expect(h.seen[0]!.alert.message.vi).toBe(
      'Phát hiện khói/cháy tại Camera chợ Đông Ba: 1 sự kiện trong 10 phút (ngưỡng 1)',
    );
    h.clock.advance(10 * MIN - 1);
    await h.service.idle();
    expect(h.seen).toHaveLength(1);
    h.clock.advance(1);
    await h.service.idle();
    expect(h.seen.map((e) => [e.type, e.ts - T0])).toEqual([
      ['firing', 0],
      ['resolved', 14 * MIN],
    ]);
  });
});

describe('no-data state', () => {
  const rule = noDataRuleSchema.parse(offlineRule);

  it("moves a fine device's last-seen in place, never back, and takes a new state when anything else changes", () => {
    const state = initialNoDataState(T0);
    const seen = evaluateNoData(rule, state, { type: 'reading' }, T0 + 1000);
    expect(seen).toEqual({ state, transition: 'none' });
    expect(state.lastSeen).toBe(T0 + 1000);
    expect(evaluateNoData(rule, state, { type: 'reading' }, T0 + 500).state.lastSeen).toBe(T0 + 1000);
    const offline = evaluateNoData(rule, state, { type: 'status', status: 'offline' }, T0 + 2000);
    expect(offline.state).not.toBe(state);
    expect(offline.state.offline).toBe(true);
    expect(state.offline).toBe(false);
  });
});
