import type { City, Sensor } from '../../config/city-config.ts';
import { ConfigError } from '../../config/config-error.ts';
import type { CameraSourceConfig } from '../../config/camera-sources-config.ts';

/**
 * A camera source resolved against the city: its camera names -> our camera sensors, its labels or
 * topics -> the event types of those sensors' kind (config/kinds/camera.yaml `eventTypes`, which a city
 * extends without code), or `ignore`. Every mistake is named at start.
 */
export const IGNORE = 'ignore';

export interface ResolvedCameraSource {
  readonly config: CameraSourceConfig;
  readonly cameras: ReadonlyMap<string, Sensor>;
  /** external label or topic -> our event type, or IGNORE */
  readonly events: ReadonlyMap<string, string>;
}

export function resolveCameraSource(source: CameraSourceConfig, city: City, index: number): ResolvedCameraSource {
  const where = `integrations.cameras.sources[${index}] (${source.id})`;
  const errors: string[] = [];
  const cameras = new Map<string, Sensor>();
  const types = new Set<string>();
  for (const [name, sensorId] of Object.entries(source.cameras)) {
    const sensor = city.sensorsById.get(sensorId);
    if (!sensor) {
      errors.push(`${where}.cameras.${name}: unknown sensor "${sensorId}"`);
      continue;
    }
    const kind = city.kinds.get(sensor.kind)!;
    if (kind.eventTypes.length === 0)
      errors.push(`${where}.cameras.${name}: sensor ${sensorId} is of kind ${sensor.kind}, which sends no events`);
    for (const t of kind.eventTypes) types.add(t);
    cameras.set(name, sensor);
  }
  if (cameras.size === 0) errors.push(`${where}: no camera mapped to a sensor (cameras: { <its name>: <sensor id> })`);
  const events = new Map<string, string>();
  for (const [label, type] of Object.entries(source.events)) {
    if (type !== IGNORE && cameras.size && !types.has(type)) {
      errors.push(
        `${where}.events.${label}: "${type}" is not an event type of its cameras ` +
          `(known: ${[...types].join(', ')}, or ignore); add new types to the camera kind's eventTypes`,
      );
    }
    events.set(label, type);
  }
  if (errors.length) throw new ConfigError(`invalid camera source:\n  - ${errors.join('\n  - ')}`);
  return { config: source, cameras, events };
}

/** The operator's snapshot link for an event, when the source says where snapshots are. */
export function snapshotUrlOf(template: string | undefined, id: string, camera: string): string | undefined {
  if (!template) return undefined;
  return template.replaceAll('{id}', encodeURIComponent(id)).replaceAll('{camera}', encodeURIComponent(camera));
}
