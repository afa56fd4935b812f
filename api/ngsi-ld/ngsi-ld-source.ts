import type { Alert } from '../../alerts/alert-model.ts';
import type { AlertFeed } from '../../alerts/delivery/alert-feed.ts';
import type { City } from '../../config/city-config.ts';
import type { Clock } from '../../core/clock.ts';
import type { DeviceStateTracker } from '../../ingest/device-state.ts';
import type { LatestQuery, LatestValue } from '../../store/time-series-store.ts';
import { buildEntities, type Entity } from './ngsi-ld-entities.ts';

/**
 * The live inputs of the NGSI-LD entities, all in memory (no store query per request or per push): the
 * latest values, the device states, the open alerts, and the alerts resolved within the last day (kept
 * from the alert bus, so a context broker sees an alert's validTo; a restart forgets them).
 */
export interface NgsiLdSource {
  entities(): Entity[];
  readonly city: City;
  stop(): void;
}

export interface NgsiLdSourceDeps {
  city: City;
  states: Pick<DeviceStateTracker, 'get'>;
  latest: { query(q: LatestQuery): LatestValue[] };
  alerts: AlertFeed;
  clock: Clock;
}

const RESOLVED_KEPT_MS = 86_400_000;
const RESOLVED_KEPT_MAX = 1000;

export function createNgsiLdSource(deps: NgsiLdSourceDeps): NgsiLdSource {
  const resolved = new Map<string, Alert>();
  const onAlert = ({ type, alert }: { type: string; alert: Alert }) => {
    if (type !== 'resolved') return;
    resolved.delete(alert.id);
    resolved.set(alert.id, alert);
    // oldest first (insertion order): bounded however many alerts a storm resolves
    if (resolved.size > RESOLVED_KEPT_MAX) resolved.delete(resolved.keys().next().value!);
  };
  deps.alerts.bus.on('alert', onAlert);
  return {
    city: deps.city,
    entities() {
      const since = deps.clock.now() - RESOLVED_KEPT_MS;
      for (const [id, a] of resolved) if ((a.resolvedAt ?? 0) < since) resolved.delete(id);
      const open = deps.alerts.open().filter((a) => !resolved.has(a.id));
      return buildEntities({
        city: deps.city,
        sensors: deps.city.sensors,
        stateOf: (id) => deps.states.get(id),
        latest: deps.latest.query({}),
        alerts: [...open, ...resolved.values()],
      });
    },
    stop() {
      deps.alerts.bus.off('alert', onAlert);
    },
  };
}
