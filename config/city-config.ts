import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, formatZodIssues } from './config-error.ts';
import { deepFreeze } from './platform-config.ts';
import { emptyTable } from './lookup-table.ts';

/** Sensor ids and kinds are MQTT topic levels: no wildcards, separators or spaces. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const idSchema = z
  .string()
  .regex(ID_PATTERN, 'letters, digits, "_", "-" or "." (at most 64), starting with a letter or digit');
const i18nText = z.object({ vi: z.string().min(1), en: z.string().min(1) }).strict();

const metricSchema = z
  .object({
    unit: z.string().min(1),
    unitCode: z.string().min(1),
    min: z.number(),
    max: z.number(),
    integer: z.boolean().default(false),
    label: i18nText,
  })
  .strict()
  .refine((m) => m.min < m.max, { message: 'min must be below max' });

const kindSchema = z
  .object({
    kind: idSchema,
    model: z.string().min(1),
    category: z.enum(['environment', 'weather', 'traffic', 'naturalDisaster', 'security']),
    metrics: z
      .record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'metric names are identifiers'), metricSchema)
      .refine((m) => Object.keys(m).length > 0, { message: 'a kind needs at least one metric' }),
    eventTypes: z.array(z.string().min(1)).default([]),
  })
  .strict();

export const sensorSchema = z
  .object({
    id: idSchema,
    kind: idSchema,
    name: z.string().min(1),
    lat: z.number().min(-90).max(90),
    lon: z.number().min(-180).max(180),
    district: z.string().min(1),
    tags: z.record(z.string(), z.string()).default({}),
    floodLevels: z.array(z.number()).length(3).optional(),
  })
  .strict();

const cityFileSchema = z
  .object({
    id: idSchema,
    name: i18nText,
    timezone: z.string().min(1),
    center: z.object({ lat: z.number(), lon: z.number() }).strict(),
    zoom: z.number().min(1).max(20).default(12),
    boundary: z.string().optional(),
    boundaryAttribution: z.string().optional(),
    rivers: z.string().optional(),
    sensors: z.string(),
    rules: z.string().default('rules'),
  })
  .strict();

/** [lon, lat] (and an optional height), as GeoJSON orders them. */
const position = z
  .array(z.number())
  .min(2)
  .max(3)
  .refine(([lon, lat]) => Math.abs(lon!) <= 180 && Math.abs(lat!) <= 90, {
    message: 'a position is [longitude, latitude] in degrees',
  });
const lineString = z.array(position).min(2);

/**
 * The rivers the console draws on its offline map: GeoJSON lines, each named in both languages. Loose
 * objects: the file may carry more (a note, a source, styling hints such as `rank`) and the API passes
 * it through.
 */
export const riversGeoJson = z.looseObject({
  type: z.literal('FeatureCollection'),
  features: z
    .array(
      z.looseObject({
        type: z.literal('Feature'),
        properties: z.looseObject({ name: z.string().min(1), name_en: z.string().min(1) }),
        geometry: z.discriminatedUnion('type', [
          z.looseObject({ type: z.literal('LineString'), coordinates: lineString }),
          z.looseObject({ type: z.literal('MultiLineString'), coordinates: z.array(lineString).min(1) }),
        ]),
      }),
    )
    .min(1),
});
export type RiversGeoJson = z.output<typeof riversGeoJson>;

export type MetricSpec = z.output<typeof metricSchema> & { name: string };
export type SensorKind = Omit<z.output<typeof kindSchema>, 'metrics'> & {
  metrics: Readonly<Record<string, MetricSpec>>;
};
export type Sensor = z.output<typeof sensorSchema>;

export interface City {
  readonly id: string;
  readonly name: { vi: string; en: string };
  readonly timezone: string;
  readonly center: { lat: number; lon: number };
  readonly zoom: number;
  readonly boundaryFile?: string;
  readonly boundaryAttribution?: string;
  /** optional: a city without one draws no rivers (the boundary file may still hold river lines) */
  readonly riversFile?: string;
  readonly rivers?: RiversGeoJson;
  readonly rulesDir: string;
  readonly sensors: readonly Sensor[];
  readonly sensorsById: ReadonlyMap<string, Sensor>;
  readonly kinds: ReadonlyMap<string, SensorKind>;
}

/** Reads and parses a config file; a missing file or bad syntax is a ConfigError naming the file. */
function readConfigFile(file: string, format: 'YAML' | 'JSON', parse: (text: string) => unknown): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return parse(text);
  } catch (err) {
    throw new ConfigError(`${file}: invalid ${format}: ${(err as Error).message}`);
  }
}

const readYaml = (file: string): unknown => readConfigFile(file, 'YAML', parseYaml);
const readJson = (file: string): unknown => readConfigFile(file, 'JSON', JSON.parse);

/** Parses a rivers GeoJSON file, so a broken file stops the platform at start rather than the map later. */
export function loadRivers(file: string): RiversGeoJson {
  const parsed = riversGeoJson.safeParse(readJson(file));
  if (!parsed.success)
    throw new ConfigError(`${file}: invalid rivers GeoJSON:\n  - ${formatZodIssues(parsed.error).join('\n  - ')}`);
  return parsed.data;
}

/** Loads every `*.yaml` in the kinds folder: adding a sensor kind is adding a file there. */
export function loadSensorKinds(kindsDir: string): Map<string, SensorKind> {
  const kinds = new Map<string, SensorKind>();
  const errors: string[] = [];
  const files = readdirSync(kindsDir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  for (const file of files) {
    const path = join(kindsDir, file);
    const parsed = kindSchema.safeParse(readYaml(path));
    if (!parsed.success) {
      errors.push(...formatZodIssues(parsed.error, file));
      continue;
    }
    // no prototype: a device or a query naming "constructor" or "__proto__" must find no metric spec
    const metrics = emptyTable<MetricSpec>();
    for (const [name, spec] of Object.entries(parsed.data.metrics)) metrics[name] = { ...spec, name };
    if (kinds.has(parsed.data.kind)) errors.push(`${file}: kind "${parsed.data.kind}" is defined twice`);
    kinds.set(parsed.data.kind, { ...parsed.data, metrics });
  }
  if (errors.length) throw new ConfigError(`invalid sensor kinds in ${kindsDir}:\n  - ${errors.join('\n  - ')}`);
  if (kinds.size === 0) throw new ConfigError(`no sensor kinds (*.yaml) in ${kindsDir}`);
  return kinds;
}

/** Validates a sensor list against the known kinds; used by the city loader and the sensors API. */
export function parseSensors(raw: unknown, kinds: ReadonlyMap<string, SensorKind>, source: string): Sensor[] {
  const list = z.object({ sensors: z.array(z.unknown()) }).safeParse(raw);
  if (!list.success) throw new ConfigError(`${source}: expected a top-level "sensors:" list`);
  const errors: string[] = [];
  const seen = new Set<string>();
  const sensors: Sensor[] = [];
  list.data.sensors.forEach((entry, index) => {
    const parsed = sensorSchema.safeParse(entry);
    const label = `sensors[${index}]${
      typeof entry === 'object' && entry && 'id' in entry ? ` (${String(entry.id)})` : ''
    }`;
    if (!parsed.success) {
      errors.push(...formatZodIssues(parsed.error, label));
      return;
    }
    const sensor = parsed.data;
    if (!kinds.has(sensor.kind))
      errors.push(`${label}.kind: unknown kind "${sensor.kind}" (known: ${[...kinds.keys()].join(', ')})`);
    if (seen.has(sensor.id)) errors.push(`${label}.id: duplicate sensor id "${sensor.id}"`);
    seen.add(sensor.id);
    sensors.push(sensor);
  });
  if (errors.length) throw new ConfigError(`${source}: invalid sensors:\n  - ${errors.join('\n  - ')}`);
  return sensors;
}

export function loadCity(cityFile: string, kindsDir: string): City {
  const parsed = cityFileSchema.safeParse(readYaml(cityFile));
  if (!parsed.success) {
    throw new ConfigError(`${cityFile}: invalid city:\n  - ${formatZodIssues(parsed.error).join('\n  - ')}`);
  }
  const base = dirname(cityFile);
  const kinds = loadSensorKinds(kindsDir);
  const sensorsFile = resolve(base, parsed.data.sensors);
  const sensors = parseSensors(readYaml(sensorsFile), kinds, sensorsFile);
  const riversFile = parsed.data.rivers ? resolve(base, parsed.data.rivers) : undefined;
  const city: City = {
    id: parsed.data.id,
    name: parsed.data.name,
    timezone: parsed.data.timezone,
    center: parsed.data.center,
    zoom: parsed.data.zoom,
    boundaryFile: parsed.data.boundary ? resolve(base, parsed.data.boundary) : undefined,
    boundaryAttribution: parsed.data.boundaryAttribution,
    riversFile,
    rivers: riversFile ? loadRivers(riversFile) : undefined,
    rulesDir: resolve(base, parsed.data.rules),
    sensors,
    sensorsById: new Map(sensors.map((s) => [s.id, s])),
    kinds,
  };
  return deepFreeze(city);
}
