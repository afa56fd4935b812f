import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { City, Sensor } from '../config/city-config.ts';
import { ConfigError, formatZodIssues } from '../config/config-error.ts';
import { SIMULATORS_DIR } from './simulator-registry.ts';
import type { AnySimulator } from './simulator-contract.ts';
import { scenarioSchema, type ScenarioEffect, type ScenarioFile, type SensorSelector } from './scenario-schema.ts';

export const SCENARIOS_DIR = join(SIMULATORS_DIR, 'scenarios');

export function listScenarios(dir: string = SCENARIOS_DIR): string[] {
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => f.slice(0, -5))
        .sort()
    : [];
}

/** Parses a scenario given by name (a file in the scenarios folder) or by path; every problem at once. */
export function loadScenario(nameOrPath: string, dir: string = SCENARIOS_DIR): ScenarioFile {
  const isPath = nameOrPath.includes('/') || /\.ya?ml$/.test(nameOrPath);
  const file = isPath ? resolve(nameOrPath) : join(dir, `${nameOrPath}.yaml`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    const known = listScenarios(dir);
    throw new ConfigError(
      `unknown scenario "${nameOrPath}" (no ${file}); known scenarios: ${known.join(', ') || 'none'}`,
    );
  }
  return parseScenario(text, file);
}

export function parseScenario(text: string, source: string): ScenarioFile {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${source}: invalid YAML: ${(err as Error).message}`);
  }
  const parsed = scenarioSchema.safeParse(raw);
  if (!parsed.success)
    throw new ConfigError(`${source}: invalid scenario:\n  - ${formatZodIssues(parsed.error).join('\n  - ')}`);
  return parsed.data;
}

export interface ResolvedScenario {
  readonly scenario: ScenarioFile;
  /** the selected sensors, in city order */
  readonly sensors: readonly Sensor[];
  /** the effects that touch a sensor, in file order (later ones win where they overlap) */
  effectsFor(sensorId: string): readonly ScenarioEffect[];
}

function matches(sensor: Sensor, sel: SensorSelector): boolean {
  if (sel.sensors && !sel.sensors.includes(sensor.id)) return false;
  if (sel.kinds && !sel.kinds.includes(sensor.kind)) return false;
  if (sel.tags && !Object.entries(sel.tags).every(([k, v]) => sensor.tags[k] === v)) return false;
  return true;
}

function checkSelector(sel: SensorSelector, city: City, label: string, errors: string[]): void {
  for (const id of sel.sensors ?? [])
    if (!city.sensorsById.has(id)) errors.push(`${label}.sensors: no sensor "${id}" in city ${city.id}`);
  for (const kind of sel.kinds ?? [])
    if (!city.kinds.has(kind))
      errors.push(`${label}.kinds: unknown kind "${kind}" (known: ${[...city.kinds.keys()].join(', ')})`);
}

/** Checks a parsed scenario against a city and the simulators: ids, kinds, driver names and ranges. */
export function resolveScenario(
  scenario: ScenarioFile,
  city: City,
  simulators: ReadonlyMap<string, AnySimulator>,
): ResolvedScenario {
  const errors: string[] = [];
  checkSelector(scenario.sensors, city, 'sensors', errors);
  const sensors = city.sensors.filter((s) => matches(s, scenario.sensors));
  if (sensors.length === 0 && errors.length === 0) errors.push('sensors: the selection matches no sensor of the city');
  const missing = [...new Set(sensors.map((s) => s.kind).filter((k) => !simulators.has(k)))];
  if (missing.length)
    errors.push(`sensors: no simulator for kind ${missing.join(', ')} (add simulators/<kind>-simulator.ts)`);

  const byEffect: Sensor[][] = scenario.effects.map((effect, i) => {
    const label = `effects[${i}]`;
    checkSelector(effect, city, label, errors);
    const targets = sensors.filter((s) => matches(s, effect));
    if (targets.length === 0) errors.push(`${label}: selects none of the scenario's sensors`);
    const kinds = [...new Set(targets.map((s) => s.kind))];
    for (const [driver, value] of Object.entries(effect.set)) {
      const specs = kinds.map((k) => simulators.get(k)?.drivers[driver]).filter((d) => d !== undefined);
      if (specs.length === 0) {
        const known = kinds.map((k) => `${k}: ${Object.keys(simulators.get(k)?.drivers ?? {}).join(', ')}`).join('; ');
        errors.push(`${label}.set.${driver}: no simulator of the selected kinds has this driver (${known})`);
      }
      for (const spec of specs) {
        if (value < spec.min || value > spec.max)
          errors.push(`${label}.set.${driver}: ${value} is outside ${spec.min}..${spec.max} ${spec.unit}`);
      }
      if (effect.until !== undefined && effect.ramp !== undefined && 2 * effect.ramp > effect.until - effect.at) {
        errors.push(`${label}.ramp: longer than half the effect`);
      }
    }
    return targets;
  });
  if (errors.length) throw new ConfigError(`scenario "${scenario.name}":\n  - ${[...new Set(errors)].join('\n  - ')}`);

  const effectsById = new Map<string, ScenarioEffect[]>();
  scenario.effects.forEach((effect, i) => {
    for (const s of byEffect[i]!) {
      const list = effectsById.get(s.id) ?? [];
      list.push(effect);
      effectsById.set(s.id, list);
    }
  });
  return { scenario, sensors, effectsFor: (id) => effectsById.get(id) ?? [] };
}

/** Driver values for one sensor at `offsetMs` after the scenario start: defaults, then effects in order. */
export function driversAt(
  simulator: AnySimulator,
  effects: readonly ScenarioEffect[],
  offsetMs: number,
): Record<string, number> {
  const drivers: Record<string, number> = {};
  for (const [name, spec] of Object.entries(simulator.drivers)) drivers[name] = spec.default;
  for (const effect of effects) {
    if (offsetMs < effect.at || (effect.until !== undefined && offsetMs >= effect.until)) continue;
    let weight = 1;
    if (effect.ramp) {
      weight = Math.min(weight, (offsetMs - effect.at) / effect.ramp);
      if (effect.until !== undefined) weight = Math.min(weight, (effect.until - offsetMs) / effect.ramp);
    }
    weight = Math.max(0, Math.min(1, weight));
    for (const [name, value] of Object.entries(effect.set)) {
      const spec = simulator.drivers[name];
      if (spec) drivers[name] = spec.default + (value - spec.default) * weight;
    }
  }
  return drivers;
}
