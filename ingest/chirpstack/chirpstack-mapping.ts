import type { City, Sensor } from '../../config/city-config.ts';
import { ConfigError } from '../../config/config-error.ts';
import type { ChirpstackConfig, FieldMappingInput } from '../../config/integrations-config.ts';
import { ownValue } from '../../config/lookup-table.ts';
import { reject, type Rejection } from '../rejection.ts';

/**
 * DevEUI -> sensor, and decoded `object` fields -> metrics (docs/lorawan.md). Resolved once at start
 * against the city, so a DevEUI mapped to an unknown sensor or a field mapped to a metric its kind does
 * not have stops the platform with every such mistake named.
 */
export interface FieldRule {
  readonly path: readonly string[];
  readonly metric: string;
  readonly scale: number;
  readonly offset: number;
}

export interface LorawanDevice {
  readonly devEui: string;
  readonly sensor: Sensor;
  readonly fields: readonly FieldRule[];
}

function rulesOf(fields: FieldMappingInput): Map<string, FieldRule> {
  const rules = new Map<string, FieldRule>();
  for (const [path, spec] of Object.entries(fields)) {
    const { metric, scale = 1, offset = 0 } = typeof spec === 'string' ? { metric: spec } : spec;
    rules.set(path, { path: path.split('.'), metric, scale, offset });
  }
  return rules;
}

export function resolveLorawanDevices(config: ChirpstackConfig, city: City): Map<string, LorawanDevice> {
  const errors: string[] = [];
  const devices = new Map<string, LorawanDevice>();
  const shared = rulesOf(config.fields);
  for (const [i, d] of config.devices.entries()) {
    const where = `integrations.chirpstack.devices[${i}] (${d.devEui})`;
    const sensor = city.sensorsById.get(d.sensorId);
    if (!sensor) {
      errors.push(`${where}: unknown sensor "${d.sensorId}"`);
      continue;
    }
    const rules = new Map([...shared, ...rulesOf(d.fields)]);
    if (rules.size === 0)
      errors.push(`${where}: no fields mapped to metrics (set fields here or integrations.chirpstack.fields)`);
    const kind = city.kinds.get(sensor.kind)!;
    for (const [path, rule] of rules) {
      if (!ownValue(kind.metrics, rule.metric)) {
        errors.push(
          `${where}: field "${path}" maps to "${rule.metric}", not a metric of kind ${sensor.kind} ` +
            `(known: ${Object.keys(kind.metrics).join(', ')})`,
        );
      }
    }
    devices.set(d.devEui, { devEui: d.devEui, sensor, fields: [...rules.values()] });
  }
  if (errors.length) throw new ConfigError(`invalid ChirpStack mapping:\n  - ${errors.join('\n  - ')}`);
  return devices;
}

function valueAt(object: Readonly<Record<string, unknown>>, path: readonly string[]): unknown {
  let node: unknown = object;
  for (const key of path) {
    if (typeof node !== 'object' || node === null || Array.isArray(node) || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** 0.01 x 380 is 3.8000000000000003 in binary: twelve significant digits is more than any sensor has. */
const tidy = (n: number): number => Number(n.toPrecision(12));

/**
 * One reading from a decoded uplink: each mapped field present becomes its metric (fields the uplink does
 * not carry are skipped: devices send different fields on different ports). Validation of the values
 * (range, type, unit) is ingest's, as for every device.
 */
export function mapDecodedObject(
  device: LorawanDevice,
  object: Readonly<Record<string, unknown>>,
): { values: Record<string, number | boolean> } | Rejection {
  const values: Record<string, number | boolean> = Object.create(null) as Record<string, number | boolean>;
  let found = 0;
  for (const rule of device.fields) {
    const value = valueAt(object, rule.path);
    if (value === undefined || value === null) continue;
    found++;
    if (typeof value === 'number') values[rule.metric] = tidy(value * rule.scale + rule.offset);
    else if (typeof value === 'boolean') values[rule.metric] = value;
    else
      return reject(
        'wrong_type',
        `decoded field "${rule.path.join('.')}" (${rule.metric}) is a ${typeof value}, not a number`,
        { metric: rule.metric },
      );
  }
  if (found === 0) {
    const has = Object.keys(object).slice(0, 20).join(', ') || 'nothing';
    return reject(
      'no_metrics',
      `no mapped field in the decoded object of ${device.devEui} (mapped: ` +
        `${device.fields.map((f) => f.path.join('.')).join(', ')}; it has: ${has})`,
    );
  }
  return { values };
}
