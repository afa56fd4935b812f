import type { City, Sensor } from '../config/city-config.ts';
import type { CompoundRule, Rule, Selector } from './rule-schema.ts';
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

/** The sensors a rule raises alerts for (one open alert per rule and each of them). */
export function ruleTargets(rule: Rule, city: City): Sensor[] {
  if (rule.kind === 'compound') {
    const sensor = city.sensorsById.get(rule.alertSensor);
    return sensor ? [sensor] : [];
  }
  const selected = selectSensors(city, rule.selector);
  if (rule.kind === 'threshold' && rule.floodLevel !== undefined) return selected.filter((s) => s.floodLevels !== undefined);
  return selected;
}

export function conditionSensorSets(rule: CompoundRule, city: City): Array<Set<string>> {
  return rule.conditions.map((c) => new Set(selectSensors(city, c.selector).map((s) => s.id)));
}
