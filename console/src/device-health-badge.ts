import type { Alert } from './api-types.ts';

/**
 * Tells a real flood from a broken gauge (issue 16 item 6): a sensor with an open device-health task
 * (alert type `deviceHealth`, rule type device-health) is suspect, and every alert from it carries a
 * badge saying its readings may be wrong. Scans the open alerts the console holds; rows in view only.
 */
export const DEVICE_HEALTH_TYPE = 'deviceHealth';

export function isSuspectSensor(alerts: Iterable<Alert>, sensorId: string): boolean {
  for (const a of alerts)
    if (a.sensorId === sensorId && a.subCategory === DEVICE_HEALTH_TYPE && a.state !== 'resolved') return true;
  return false;
}
