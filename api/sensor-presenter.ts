import type { City, Sensor } from '../config/city-config.ts';
import { z } from 'zod';
import type { DeviceStateTracker } from '../ingest/device-state.ts';
import type { LatestValue } from '../store/time-series-store.ts';
import { emptyTable } from '../config/lookup-table.ts';

/** How a sensor looks over the API: its configuration, its live state and its latest values. */
export const sensorBody = z.object({
  id: z.string(),
  kind: z.string(),
  name: z.string(),
  lat: z.number(),
  lon: z.number(),
  district: z.string(),
  tags: z.record(z.string(), z.string()),
  floodLevels: z.array(z.number()).optional(),
  status: z.enum(['online', 'offline', 'unknown']),
  statusSince: z.number().optional(),
  batteryLevel: z.number().optional(),
  lastSeen: z.number().optional(),
  latest: z.record(z.string(), z.object({ value: z.number(), ts: z.number() })),
});

export const metricBody = z.object({
  name: z.string(),
  unit: z.string(),
  unitCode: z.string(),
  min: z.number(),
  max: z.number(),
  label: z.object({ vi: z.string(), en: z.string() }),
});

export type SensorBody = z.infer<typeof sensorBody>;

export function presentSensor(sensor: Sensor, states: DeviceStateTracker, latest: readonly LatestValue[]): SensorBody {
  const state = states.get(sensor.id);
  const values: SensorBody['latest'] = emptyTable();
  // only the sensor's readings (measurement = its kind, derived values such as vnAqi included), not the
  // numeric fields of other measurements tagged with its id (alert events, status)
  for (const v of latest)
    if (v.sensorId === sensor.id && v.measurement === sensor.kind) values[v.field] = { value: v.value, ts: v.ts };
  return {
    id: sensor.id,
    kind: sensor.kind,
    name: sensor.name,
    lat: sensor.lat,
    lon: sensor.lon,
    district: sensor.district,
    tags: { ...sensor.tags },
    ...(sensor.floodLevels ? { floodLevels: [...sensor.floodLevels] } : {}),
    status: state?.status ?? 'unknown',
    ...(state?.statusSince !== undefined ? { statusSince: state.statusSince } : {}),
    ...(state?.batteryLevel !== undefined ? { batteryLevel: state.batteryLevel } : {}),
    ...(state?.lastSeen !== undefined ? { lastSeen: state.lastSeen } : {}),
    latest: values,
  };
}

export function presentMetrics(city: City, sensor: Sensor): z.infer<typeof metricBody>[] {
  const kind = city.kinds.get(sensor.kind);
  return kind
    ? Object.values(kind.metrics).map((m) => ({
        name: m.name,
        unit: m.unit,
        unitCode: m.unitCode,
        min: m.min,
        max: m.max,
        label: m.label,
      }))
    : [];
}
