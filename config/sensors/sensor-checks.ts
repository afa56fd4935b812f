import { formatZodIssues } from '../config-error.ts';
import { sensorSchema, type Sensor, type SensorKind } from '../city-config.ts';
import type { CityBounds } from './city-bounds.ts';

/**
 * The checks every way into the registry shares (API create and edit, CSV/GeoJSON/YAML import): the shape
 * of the sensor config, a known kind, a position inside the city. Each problem is one sentence naming the
 * field, so an import can list them by row and an API answer can show them all at once.
 */
export interface SensorCheckContext {
  readonly kinds: ReadonlyMap<string, SensorKind>;
  readonly bounds: CityBounds;
}

export type SensorCheck = { ok: true; sensor: Sensor } | { ok: false; problems: string[] };

export function checkSensor(raw: unknown, ctx: SensorCheckContext): SensorCheck {
  const parsed = sensorSchema.safeParse(raw);
  const problems: string[] = [];
  if (!parsed.success) problems.push(...formatZodIssues(parsed.error));
  const candidate = (parsed.success ? parsed.data : raw) as Partial<Sensor> | undefined;
  const kind = candidate?.kind;
  if (typeof kind === 'string' && !ctx.kinds.has(kind))
    problems.push(`kind: unknown kind "${kind.slice(0, 64)}" (known: ${[...ctx.kinds.keys()].join(', ')})`);
  const { lat, lon } = candidate ?? {};
  if (
    typeof lat === 'number' &&
    typeof lon === 'number' &&
    Number.isFinite(lat) &&
    Number.isFinite(lon) &&
    Math.abs(lat) <= 90 &&
    Math.abs(lon) <= 180 &&
    !ctx.bounds.contains(lat, lon)
  ) {
    problems.push(`lat/lon: ${lat}, ${lon} is outside ${ctx.bounds.description}`);
  }
  const floods = candidate?.floodLevels;
  if (parsed.success && floods && !(floods[0]! < floods[1]! && floods[1]! < floods[2]!)) {
    problems.push('floodLevels: alarm levels I, II, III must rise');
  }
  if (problems.length || !parsed.success) return { ok: false, problems };
  return { ok: true, sensor: parsed.data };
}
