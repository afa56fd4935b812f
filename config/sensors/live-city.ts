import type { City } from '../city-config.ts';
import type { SensorRegistry } from './sensor-registry.ts';

/**
 * The city as the running platform sees it: everything from the city's files, but `sensors` and
 * `sensorsById` read the registry's enabled sensors at each access. Ingest, the broker's topic ACL and
 * client-id checks, rule targeting and the API all look sensors up per message or request, so a sensor
 * created, disabled or deleted through the registry is seen by every one of them at once, no restart.
 */
export function liveCity(city: City, registry: Pick<SensorRegistry, 'sensors' | 'sensorsById'>): City {
  const { sensors: _sensors, sensorsById: _byId, ...fixed } = city;
  return Object.freeze(
    Object.defineProperties({ ...fixed } as City, {
      sensors: { get: () => registry.sensors, enumerable: true },
      sensorsById: { get: () => registry.sensorsById, enumerable: true },
    }),
  );
}
