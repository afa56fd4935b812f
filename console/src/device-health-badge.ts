import type { Alert, SensorInfo } from './api-types.ts';
import { h } from './dom.ts';
import type { I18n } from './i18n.ts';

/**
 * Tells a real flood from a broken gauge (issue 16 item 6): a sensor with an open device-health task
 * (alert type `deviceHealth`, rule type device-health) is suspect, and a sensor in a maintenance window in
 * force (`POST /api/silences` with `maintenance: true` naming it, its kind or its district) is being worked on. Both
 * show as a badge on the sensor's map marker and on every other alert from it.
 */
export const DEVICE_HEALTH_TYPE = 'deviceHealth';

export type DeviceCondition = 'suspect' | 'maintenance';

/** what the console reads of GET /api/silences?active=true */
export interface ActiveSilence {
  readonly maintenance: boolean;
  readonly active: boolean;
  readonly match: {
    readonly sensorId?: readonly string[];
    readonly sensorKind?: readonly string[];
    readonly district?: readonly string[];
    /** rules only: such a window mutes alerts and holds no sensor */
    readonly ruleId?: readonly string[];
    readonly ruleType?: readonly string[];
  };
}

export function isSuspectSensor(alerts: Iterable<Alert>, sensorId: string): boolean {
  for (const a of alerts)
    if (a.sensorId === sensorId && a.subCategory === DEVICE_HEALTH_TYPE && a.state !== 'resolved') return true;
  return false;
}

const fits = (list: readonly string[] | undefined, value: string): boolean => !list?.length || list.includes(value);

/**
 * sensors under a maintenance window in force: one that names sensors by id, kind or district (each list
 * "any of", combined with "and", as the server matches them); a window naming only rules holds no sensor
 */
export function sensorsUnderMaintenance(
  silences: readonly ActiveSilence[],
  sensors: Iterable<Pick<SensorInfo, 'id' | 'kind' | 'district'>>,
): Set<string> {
  const out = new Set<string>();
  const namesSensors = (m: ActiveSilence['match']): boolean =>
    Boolean(m.sensorId?.length || m.sensorKind?.length || m.district?.length);
  const windows = silences.filter((s) => s.maintenance && s.active && namesSensors(s.match));
  if (!windows.length) return out;
  for (const sensor of sensors) {
    const held = windows.some(
      ({ match: m }) =>
        fits(m.sensorId, sensor.id) && fits(m.sensorKind, sensor.kind) && fits(m.district, sensor.district),
    );
    if (held) out.add(sensor.id);
  }
  return out;
}

/** The conditions shown for a sensor; `version` changes when the maintenance set does (redraw then). */
export interface DeviceConditions {
  of(sensorId: string): DeviceCondition[];
  setMaintenance(ids: Set<string>): boolean;
  readonly version: number;
}

export function createDeviceConditions(alerts: { all(): Iterable<Alert> }): DeviceConditions {
  let maintenance = new Set<string>();
  let version = 0;
  return {
    of(sensorId) {
      const out: DeviceCondition[] = [];
      if (isSuspectSensor(alerts.all(), sensorId)) out.push('suspect');
      if (maintenance.has(sensorId)) out.push('maintenance');
      return out;
    },
    setMaintenance(ids) {
      if (ids.size === maintenance.size && [...ids].every((id) => maintenance.has(id))) return false;
      maintenance = ids;
      version++;
      return true;
    },
    get version() {
      return version;
    },
  };
}

const BADGE_TEXT = {
  suspect: ['health.badge', 'health.badgeTitle'],
  maintenance: ['health.maintenance', 'health.maintenanceTitle'],
} as const;

export function healthBadgeText(condition: DeviceCondition, i18n: I18n): string {
  return i18n.t(BADGE_TEXT[condition][0]);
}

export function healthBadge(condition: DeviceCondition, i18n: I18n): HTMLElement {
  const [text, title] = BADGE_TEXT[condition];
  return h('span', { class: `health-badge health-${condition}`, title: i18n.t(title) }, i18n.t(text));
}
