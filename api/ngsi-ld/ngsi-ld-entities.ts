import type { Alert } from '../../alerts/alert-model.ts';
import type { City, Sensor } from '../../config/city-config.ts';
import type { DeviceState } from '../../ingest/device-state.ts';
import type { LatestValue } from '../../store/time-series-store.ts';
import { entityUrn } from './ngsi-ld-context.ts';

/**
 * The platform's state as Smart Data Models entities in NGSI-LD normalized form: per sensor a Device
 * and, for kinds whose `model` is an observation (AirQualityObserved, WaterObserved, TrafficFlowObserved),
 * the observed entity with the latest value of each metric (observedAt, unitCode); open and recently
 * resolved alerts as Alert. Plain functions of what they are given: the routes and the push share them.
 */
export type Entity = Record<string, unknown> & { id: string; type: string };

/** Where our metric name differs from the model's attribute (the rest already use the model's names). */
const ATTRIBUTE_NAMES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  // WaterObserved has no waterLevel: `height` is its observed water height (FloodMonitoring's currentLevel)
  WaterObserved: { waterLevel: 'height' },
  // VN_AQI (QĐ 1459/QĐ-TCMT), derived by the platform: the model's overall index
  AirQualityObserved: { vnAqi: 'airQualityIndex' },
};
/** TrafficFlowObserved.congested is a boolean; devices send it as 0/1 */
const BOOLEAN_ATTRIBUTES: Readonly<Record<string, ReadonlySet<string>>> = {
  TrafficFlowObserved: new Set(['congested']),
};
/** models that are observations of a sensor; any other model (Device for cameras) gets the Device only */
const OBSERVED_MODELS: ReadonlySet<string> = new Set([
  'AirQualityObserved',
  'WaterObserved',
  'TrafficFlowObserved',
  'WaterQualityObserved',
]);
/** a battery level among a sensor's latest values, from whichever measurement carries it (device status) */
const BATTERY_FIELDS: readonly string[] = ['batteryLevel', 'battery'];

export const attributeNameOf = (model: string, metric: string): string => ATTRIBUTE_NAMES[model]?.[metric] ?? metric;

const iso = (ms: number): string => new Date(ms).toISOString();
const property = (value: unknown, extra: Record<string, unknown> = {}) => ({ type: 'Property', value, ...extra });
const dateTime = (ms: number) => property({ '@type': 'DateTime', '@value': iso(ms) });
const point = (lat: number, lon: number) => ({
  type: 'GeoProperty',
  value: { type: 'Point', coordinates: [lon, lat] },
});
const relationship = (object: string) => ({ type: 'Relationship', object });

export interface EntityInputs {
  readonly city: City;
  readonly sensors: readonly Sensor[];
  readonly stateOf: (sensorId: string) => DeviceState | undefined;
  /** the newest value of every field of every sensor */
  readonly latest: readonly LatestValue[];
  readonly alerts: readonly Alert[];
}

export const deviceUrn = (city: City, sensorId: string): string => entityUrn('Device', city.id, sensorId);

function place(city: City, sensor: Sensor): Record<string, unknown> {
  return {
    name: property(sensor.name),
    location: point(sensor.lat, sensor.lon),
    areaServed: property(sensor.district),
    address: property({
      type: 'PostalAddress',
      addressCountry: 'VN',
      addressRegion: city.name.vi,
      addressLocality: sensor.district,
    }),
  };
}

function observedEntity(city: City, sensor: Sensor, values: readonly LatestValue[]): Entity | undefined {
  const kind = city.kinds.get(sensor.kind);
  if (!kind || !OBSERVED_MODELS.has(kind.model)) return undefined;
  const readings = values.filter((v) => v.measurement === sensor.kind);
  if (readings.length === 0) return undefined;
  const attributes: Record<string, unknown> = {};
  let newest = 0;
  for (const v of readings) {
    const name = attributeNameOf(kind.model, v.field);
    const spec = kind.metrics[v.field];
    const value = BOOLEAN_ATTRIBUTES[kind.model]?.has(name) ? v.value !== 0 : v.value;
    attributes[name] = property(value, { observedAt: iso(v.ts), ...(spec ? { unitCode: spec.unitCode } : {}) });
    newest = Math.max(newest, v.ts);
  }
  return {
    id: entityUrn(kind.model, city.id, sensor.id),
    type: kind.model,
    dateObserved: dateTime(newest),
    ...place(city, sensor),
    refDevice: relationship(deviceUrn(city, sensor.id)),
    ...attributes,
  };
}

function deviceEntity(
  city: City,
  sensor: Sensor,
  state: DeviceState | undefined,
  values: readonly LatestValue[],
): Entity {
  const kind = city.kinds.get(sensor.kind);
  const battery = values.find((v) => BATTERY_FIELDS.includes(v.field));
  const model = kind?.model ?? 'Device';
  return {
    id: deviceUrn(city, sensor.id),
    type: 'Device',
    category: property(['sensor']),
    controlledProperty: property(Object.keys(kind?.metrics ?? {}).map((m) => attributeNameOf(model, m))),
    deviceState: property(
      state?.status ?? 'unknown',
      state?.statusSince !== undefined ? { observedAt: iso(state.statusSince) } : {},
    ),
    ...(state?.lastSeen !== undefined ? { dateLastValueReported: dateTime(state.lastSeen) } : {}),
    // the model's batteryLevel is a fraction (0..1); a device that reports percent is scaled
    ...(battery
      ? {
          batteryLevel: property(battery.value > 1 ? battery.value / 100 : battery.value, {
            observedAt: iso(battery.ts),
          }),
        }
      : {}),
    ...place(city, sensor),
    serialNumber: property(sensor.id),
  };
}

function alertEntity(city: City, alert: Alert): Entity {
  const from = alert.firingAt ?? alert.startsAt;
  return {
    id: entityUrn('Alert', city.id, alert.id),
    type: 'Alert',
    category: property(alert.category),
    subCategory: property(alert.subCategory),
    severity: property(alert.severity),
    dateIssued: dateTime(from),
    validFrom: dateTime(from),
    ...(alert.resolvedAt !== undefined ? { validTo: dateTime(alert.resolvedAt) } : {}),
    alertSource: relationship(deviceUrn(city, alert.sensorId)),
    // Vietnamese first: the people this city's alerts are written for
    name: property(alert.title.vi),
    description: property(alert.message.vi),
    areaServed: property(alert.district),
    ...(alert.location ? { location: point(alert.location.lat, alert.location.lon) } : {}),
    dateModified: dateTime(alert.updatedAt),
  };
}

/** Every entity, in a stable order (sensors as configured, each observation before its Device; alerts last). */
export function buildEntities(inputs: EntityInputs): Entity[] {
  const bySensor = new Map<string, LatestValue[]>();
  for (const v of inputs.latest) {
    const list = bySensor.get(v.sensorId);
    if (list) list.push(v);
    else bySensor.set(v.sensorId, [v]);
  }
  const out: Entity[] = [];
  for (const sensor of inputs.sensors) {
    const values = bySensor.get(sensor.id) ?? [];
    const observed = observedEntity(inputs.city, sensor, values);
    if (observed) out.push(observed);
    out.push(deviceEntity(inputs.city, sensor, inputs.stateOf(sensor.id), values));
  }
  for (const alert of inputs.alerts) if (alert.state !== 'pending') out.push(alertEntity(inputs.city, alert));
  return out;
}

/** options=keyValues: each attribute reduced to its value (a Relationship to its object). */
export function toKeyValues(entity: Entity): Entity {
  const out: Entity = { id: entity.id, type: entity.type };
  for (const [name, attr] of Object.entries(entity)) {
    if (name === 'id' || name === 'type' || name === '@context') continue;
    const a = attr as { type?: string; value?: unknown; object?: unknown };
    out[name] = a.type === 'Relationship' ? a.object : a.value;
  }
  return out;
}

/** attrs=a,b: only those attributes (id and type always). */
export function projectAttributes(entity: Entity, attrs: ReadonlySet<string>): Entity {
  const out: Entity = { id: entity.id, type: entity.type };
  for (const name of attrs)
    if (Object.hasOwn(entity, name) && name !== 'id' && name !== 'type') out[name] = entity[name];
  return out;
}
