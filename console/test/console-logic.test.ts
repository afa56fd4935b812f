import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../src/alert-stream.ts';
import type { SensorInfo } from '../src/api-types.ts';
import { sensorsUnderMaintenance, type ActiveSilence } from '../src/device-health-badge.ts';
import { markerStyle, SEVERITY_COLORS } from '../src/marker-style.ts';
import { aqiCategory } from '../src/vn-aqi.ts';

function sensor(overrides: Partial<SensorInfo> = {}): SensorInfo {
  return {
    id: 'air-ngomon',
    kind: 'air',
    name: 'Ngọ Môn',
    lat: 16.46,
    lon: 107.57,
    district: 'Phú Xuân',
    tags: {},
    status: 'online',
    latest: {},
    ...overrides,
  };
}

describe('map marker style', () => {
  it('colours air by its VN_AQI category and rings an unacknowledged alert in its severity colour', () => {
    const ok = markerStyle(sensor({ latest: { vnAqi: { value: 120, ts: 1 } } }), undefined, false);
    expect(ok).toMatchObject({ state: 'ok', fillColor: '#ff7e00' });
    const alerting = markerStyle(
      sensor({ latest: { vnAqi: { value: 120, ts: 1 } } }),
      { severity: 'critical', unacknowledged: true },
      false,
    );
    expect(alerting).toMatchObject({
      state: 'alerting',
      fillColor: '#ff7e00',
      color: SEVERITY_COLORS.critical,
      dashArray: null,
    });
  });

  it('dashes the ring once every alert of the sensor is acknowledged', () => {
    const style = markerStyle(sensor({ kind: 'water' }), { severity: 'high', unacknowledged: false }, false);
    expect(style.state).toBe('acknowledged');
    expect(style.dashArray).not.toBeNull();
  });

  it('greys an offline sensor and tells a sensor that never reported', () => {
    expect(
      markerStyle(sensor({ status: 'offline', latest: { vnAqi: { value: 20, ts: 1 } } }), undefined, false),
    ).toMatchObject({ state: 'offline', fillColor: '#6b7280' });
    expect(markerStyle(sensor({ status: 'unknown' }), undefined, false).state).toBe('unknown');
  });

  it('draws smaller markers for a large fleet', () => {
    expect(markerStyle(sensor(), undefined, true).radius).toBeLessThan(markerStyle(sensor(), undefined, false).radius);
  });
});

describe('VN_AQI categories', () => {
  it('follow QĐ 1459/QĐ-TCMT bounds, the top category past 500', () => {
    expect([0, 50, 51, 100, 101, 150, 151, 200, 201, 300, 301, 500, 650].map((v) => aqiCategory(v).en)).toEqual([
      'Good',
      'Good',
      'Moderate',
      'Moderate',
      'Poor',
      'Poor',
      'Bad',
      'Bad',
      'Very bad',
      'Very bad',
      'Hazardous',
      'Hazardous',
      'Hazardous',
    ]);
    expect(aqiCategory(75)).toMatchObject({ vi: 'Trung bình', color: '#ffff00', textColor: '#111111' });
  });
});

describe('alert stream reconnection', () => {
  it('backs off exponentially with jitter, capped at 30 s', () => {
    expect(backoffDelay(0, 1)).toBe(1000);
    expect(backoffDelay(0, 0)).toBe(500);
    expect(backoffDelay(3, 1)).toBe(8000);
    expect(backoffDelay(10, 1)).toBe(30_000);
    expect(backoffDelay(10, 0)).toBe(15_000);
  });
});

describe('sensors under a maintenance window', () => {
  const fleet = [
    sensor(),
    sensor({ id: 'water-kimlong', kind: 'water', district: 'Kim Long' }),
    sensor({ id: 'water-phuoc', kind: 'water', district: 'Hương Trà' }),
  ];
  const window = (match: ActiveSilence['match'], more: Partial<ActiveSilence> = {}): ActiveSilence => ({
    maintenance: true,
    active: true,
    match,
    ...more,
  });
  const held = (...silences: ActiveSilence[]) => [...sensorsUnderMaintenance(silences, fleet)].sort();

  it('holds the sensors a window names by id, kind or district, lists combined with "and" as on the server', () => {
    expect(held(window({ sensorKind: ['water'] }))).toEqual(['water-kimlong', 'water-phuoc']);
    expect(held(window({ sensorKind: ['water'], district: ['Kim Long'] }))).toEqual(['water-kimlong']);
    expect(held(window({ sensorId: ['air-ngomon'] }))).toEqual(['air-ngomon']);
    expect(held(window({ district: ['Hương Trà'] }))).toEqual(['water-phuoc']);
  });

  it('holds none for a window naming only rules, one not in force, or a silence that is no maintenance', () => {
    expect(held(window({ ruleId: ['flood-level-1'], ruleType: ['threshold'] }))).toEqual([]);
    expect(held(window({ sensorKind: ['water'] }, { active: false }))).toEqual([]);
    expect(held(window({ sensorKind: ['water'] }, { maintenance: false }))).toEqual([]);
  });
});
