import { describe, expect, it } from 'vitest';
import type { Alert, AlertEvent } from '../../alerts/alert-model.ts';
import { AlertStore } from '../src/alert-store.ts';

let counter = 0;
function makeAlert(overrides: Partial<Alert> = {}): Alert {
  counter++;
  return {
    id: `alert-${counter}`,
    ruleId: 'rule',
    sensorId: 'water-kimlong',
    kind: 'water',
    district: 'Kim Long',
    severity: 'high',
    category: 'naturalDisaster',
    subCategory: 'flood',
    state: 'firing',
    title: { vi: 'Nước dâng', en: 'Rising water' },
    message: { vi: 'm', en: 'm' },
    startsAt: 1000,
    firingAt: 1000,
    updatedAt: 1000,
    ...overrides,
  };
}
const event = (type: AlertEvent['type'], alert: Alert, seq = counter): AlertEvent => ({
  seq,
  type,
  ts: alert.updatedAt,
  alert,
});

describe('AlertStore', () => {
  it('reports a newly firing critical alert once, not its later updates or other severities', () => {
    const store = new AlertStore();
    const critical = makeAlert({ severity: 'critical' });
    expect(store.applyEvent(event('firing', critical))).toBe(true);
    expect(store.applyEvent(event('updated', { ...critical, updatedAt: 2000 }))).toBe(false);
    expect(store.applyEvent(event('firing', makeAlert({ severity: 'high' })))).toBe(false);
    expect(store.applyEvent(event('pending', makeAlert({ severity: 'critical', state: 'pending' })))).toBe(false);
  });

  it('reports an alert escalated to critical while firing', () => {
    const store = new AlertStore();
    const alert = makeAlert({ severity: 'high' });
    store.applyEvent(event('firing', alert));
    expect(store.applyEvent(event('updated', { ...alert, severity: 'critical', updatedAt: 2000 }))).toBe(true);
  });

  it('ignores an event older than what it holds (a late stream event after our own ack reply)', () => {
    const store = new AlertStore();
    const alert = makeAlert();
    store.applyAlert({ ...alert, state: 'acknowledged', updatedAt: 3000 });
    store.applyEvent(event('firing', { ...alert, updatedAt: 2000 }));
    expect(store.get(alert.id)?.state).toBe('acknowledged');
  });

  it('summarises a sensor: worst severity, and whether anything waits for acknowledgement', () => {
    const store = new AlertStore();
    const low = makeAlert({ severity: 'low', sensorId: 's1' });
    const high = makeAlert({ severity: 'high', sensorId: 's1', state: 'acknowledged' });
    store.applySnapshot([low, high, makeAlert({ sensorId: 's2', state: 'resolved' })]);
    expect(store.summaryForSensor('s1')).toEqual({ severity: 'high', unacknowledged: true });
    expect(store.summaryForSensor('s2')).toBeUndefined();
    store.applyEvent(event('acknowledged', { ...low, state: 'acknowledged', updatedAt: 5000 }));
    expect(store.summaryForSensor('s1')).toEqual({ severity: 'high', unacknowledged: false });
    expect(store.summariesBySensor().get('s1')).toEqual({ severity: 'high', unacknowledged: false });
  });

  it('drops open alerts missing from a fresh snapshot (resolved while offline) and marks their sensors dirty', () => {
    const store = new AlertStore();
    const gone = makeAlert({ sensorId: 'gone' });
    const kept = makeAlert({ sensorId: 'kept' });
    store.applySnapshot([gone, kept]);
    store.takeDirtySensors();
    store.applySnapshot([kept]);
    expect(store.get(gone.id)).toBeUndefined();
    expect(store.takeDirtySensors()).toEqual(new Set(['gone', 'kept']));
    expect(store.openCountsBySeverity()).toMatchObject({ high: 1, critical: 0 });
  });

  it('keeps at most 500 resolved alerts, dropping the oldest', () => {
    const store = new AlertStore();
    for (let i = 0; i < 520; i++)
      store.applyEvent(event('resolved', makeAlert({ state: 'resolved', resolvedAt: i, updatedAt: i })));
    const resolved = [...store.all()].filter((a) => a.state === 'resolved');
    expect(resolved).toHaveLength(500);
    expect(Math.min(...resolved.map((a) => a.resolvedAt!))).toBe(20);
  });
});
