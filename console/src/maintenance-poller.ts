import type { ApiClient } from './api-client.ts';
import { sensorsUnderMaintenance, type ActiveSilence, type DeviceConditions } from './device-health-badge.ts';
import { startPoller } from './poller.ts';
import type { SensorStore } from './sensor-store.ts';

/** Maintenance windows open and close on the server's clock; a minute late on a badge is fine. */
const MAINTENANCE_EVERY_MS = 30_000;

/**
 * Reads the maintenance windows in force (`GET /api/silences?active=true`, viewers may) and tells the
 * device conditions; `changed` redraws the map and the alert list when the set of sensors moved.
 * Returns the stop function.
 */
export function startMaintenancePoller(
  api: ApiClient,
  sensors: SensorStore,
  conditions: DeviceConditions,
  changed: () => void,
): () => void {
  return startPoller(
    MAINTENANCE_EVERY_MS,
    async (signal) => {
      const { silences } = await api.get<{ silences: ActiveSilence[] }>('/api/silences?active=true', signal);
      if (conditions.setMaintenance(sensorsUnderMaintenance(silences, sensors.all()))) changed();
    },
    // a badge that is late is no reason to alarm the operator: the next poll tries again
    () => undefined,
  );
}
