import type { SensorAlertSummary } from './alert-store.ts';
import type { SensorInfo, Severity } from './api-types.ts';
import { aqiCategory } from './vn-aqi.ts';

export type MarkerState = 'ok' | 'alerting' | 'acknowledged' | 'offline' | 'unknown';

export interface MarkerStyle {
  state: MarkerState;
  fillColor: string;
  color: string;
  weight: number;
  dashArray: string | null;
  radius: number;
}

/** Colours shared with the CSS (styles.css --sev-*): one palette for badges, markers and the legend. */
export const SEVERITY_COLORS: Record<Severity, string> = {
  critical: '#d32f2f',
  high: '#ef6c00',
  medium: '#f9a825',
  low: '#1e88e5',
  informational: '#78909c',
};
export const STATE_COLORS: Record<MarkerState, string> = {
  ok: '#2e7d32',
  alerting: '#d32f2f',
  acknowledged: '#ef6c00',
  offline: '#6b7280',
  unknown: '#9ca3af',
};

export function markerState(sensor: SensorInfo, alerts: SensorAlertSummary | undefined): MarkerState {
  if (alerts) return alerts.unacknowledged ? 'alerting' : 'acknowledged';
  if (sensor.status === 'offline') return 'offline';
  if (sensor.status === 'online' || Object.keys(sensor.latest).length > 0) return 'ok';
  return 'unknown';
}

/**
 * Fill says what the place is like (air: its VN_AQI colour), the ring says what the operator must do:
 * a thick solid ring in the severity colour while an alert waits, dashed once acknowledged.
 */
export function markerStyle(sensor: SensorInfo, alerts: SensorAlertSummary | undefined, large: boolean): MarkerStyle {
  const state = markerState(sensor, alerts);
  const aqi = sensor.kind === 'air' ? sensor.latest.vnAqi?.value : undefined;
  const radius = large ? 5 : 9;
  let fillColor = STATE_COLORS[state];
  if (aqi !== undefined && state !== 'offline') fillColor = aqiCategory(aqi).color;
  else if (alerts && state !== 'offline') fillColor = SEVERITY_COLORS[alerts.severity];
  switch (state) {
    case 'alerting':
      return {
        state,
        fillColor,
        color: alerts ? SEVERITY_COLORS[alerts.severity] : STATE_COLORS.alerting,
        weight: large ? 3 : 5,
        dashArray: null,
        radius: radius + 2,
      };
    case 'acknowledged':
      return { state, fillColor, color: '#ffffff', weight: large ? 2 : 3, dashArray: '4 3', radius: radius + 1 };
    case 'offline':
      return { state, fillColor, color: '#d1d5db', weight: 2, dashArray: '2 3', radius };
    default:
      return { state, fillColor, color: '#0b1520', weight: 1.5, dashArray: null, radius };
  }
}
