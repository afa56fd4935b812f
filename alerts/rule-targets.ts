import type { City, Sensor } from '../config/city-config.ts';
import type { Selector } from './rule-fields.ts';
import { lookupTable } from '../config/lookup-table.ts';

/** Metrics the engine derives itself, usable in rules beside the kind's own metrics. */
export const DERIVED_METRICS: Readonly<Record<string, readonly string[]>> = lookupTable({ air: ['vnAqi'] });

export function hasMetric(city: City, kind: string, metric: string): boolean {
  return Boolean(city.kinds.get(kind)?.metrics[metric]) || (DERIVED_METRICS[kind]?.includes(metric) ?? false);
}

/** Every given field must match; within a field any listed value matches; tags must all be equal. */
export function matchesSelector(selector: Selector, sensor: Sensor): boolean {
  if (selector.sensorIds && !selector.sensorIds.includes(sensor.id)) return false;
  if (selector.kinds && !selector.kinds.includes(sensor.kind)) return false;
  if (selector.districts && !selector.districts.includes(sensor.district)) return false;
  if (selector.tags) for (const [k, v] of Object.entries(selector.tags)) if (sensor.tags[k] !== v) return false;
  return true;
}

export function selectSensors(city: City, selector: Selector): Sensor[] {
  return city.sensors.filter((s) => matchesSelector(selector, s));
}
