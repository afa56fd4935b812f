import { parse as parseYaml } from 'yaml';
import type { Sensor } from '../city-config.ts';
import { parseCsvSteps } from './csv-table.ts';
import { checkSensor, type SensorCheckContext } from './sensor-checks.ts';
import type { ImportPlanEntry } from './sensor-registry.ts';

/**
 * Bulk import from CSV, GeoJSON or the city's own YAML. Every row is checked and every problem listed with
 * where it is (CSV: the file's line; GeoJSON: features[i]; YAML: sensors[i]) before anything changes; the
 * caller applies the plan only when there is no problem (all or nothing) and never on a dry run.
 *
 * CSV columns: id, kind, name, lat, lon, district (required); floodLevels ("1.0;2.0;3.5"); tags
 * ("river=Hương;role=rain") and/or one column per tag named `tag.<name>`. GeoJSON: Point features, [lon, lat],
 * with the same names in `properties` (tags as an object, floodLevels as an array).
 */
export type ImportFormat = 'csv' | 'geojson' | 'yaml';
export interface ImportProblem {
  readonly where: string;
  readonly id?: string;
  readonly message: string;
}
export interface ImportCheck {
  readonly rows: number;
  readonly problems: ImportProblem[];
  readonly plan: ImportPlanEntry[];
}
export interface ImportOptions {
  /** what the registry holds now */
  exists(id: string): boolean;
  /** true: a row for an existing sensor updates it (re-import); false: it is a problem (duplicate id) */
  updateExisting: boolean;
  maxRows?: number;
}

interface Candidate {
  where: string;
  raw: Record<string, unknown>;
  problems: string[];
}

const REQUIRED = ['id', 'kind', 'name', 'lat', 'lon', 'district'] as const;
const ROWS_PER_SLICE = 250;

function numberOf(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const n = Number(text.trim());
  return Number.isFinite(n) ? n : Number.NaN;
}

function* csvCandidates(text: string): Generator<void, { candidates: Candidate[]; problems: ImportProblem[] }> {
  const { records, error } = yield* parseCsvSteps(text);
  const problems: ImportProblem[] = error ? [{ where: 'file', message: error }] : [];
  const [header, ...rows] = records;
  if (!header)
    return {
      candidates: [],
      problems: [
        ...problems,
        {
          where: 'file',
          message: 'empty CSV: the first line must name the columns (id,kind,name,lat,lon,district,...)',
        },
      ],
    };
  const names = header.fields.map((f) => f.trim());
  const missing = REQUIRED.filter((r) => !names.includes(r));
  if (missing.length)
    return {
      candidates: [],
      problems: [...problems, { where: `line ${header.line}`, message: `missing columns: ${missing.join(', ')}` }],
    };
  const candidates: Candidate[] = [];
  for (const row of rows) {
    if (candidates.length % ROWS_PER_SLICE === ROWS_PER_SLICE - 1) yield;
    const get = (name: string) => {
      const i = names.indexOf(name);
      return i < 0 ? undefined : row.fields[i]?.trim();
    };
    const rowProblems: string[] = [];
    if (row.fields.length !== names.length)
      rowProblems.push(`has ${row.fields.length} fields, the header has ${names.length}`);
    // pairs, then fromEntries: a tag named "__proto__" becomes an own key, never the object's prototype
    const tags: Array<[string, string]> = [];
    for (const pair of (get('tags') ?? '').split(';').filter((p) => p.trim())) {
      const eq = pair.indexOf('=');
      if (eq <= 0) rowProblems.push(`tags: "${pair.slice(0, 40)}" is not key=value`);
      else tags.push([pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()]);
    }
    names.forEach((n, i) => {
      if (n.startsWith('tag.') && row.fields[i]?.trim()) tags.push([n.slice(4), row.fields[i]!.trim()]);
    });
    const floods = get('floodLevels');
    const raw: Record<string, unknown> = { tags: Object.fromEntries(tags) };
    for (const key of ['id', 'kind', 'name', 'district'] as const) {
      const v = get(key);
      if (v) raw[key] = v;
    }
    for (const key of ['lat', 'lon'] as const) {
      const v = numberOf(get(key));
      if (v !== undefined) raw[key] = v;
    }
    if (floods) raw.floodLevels = floods.split(/[;|]/).map((f) => numberOf(f) ?? Number.NaN);
    candidates.push({ where: `line ${row.line}`, raw, problems: rowProblems });
  }
  return { candidates, problems };
}

function geoJsonCandidates(doc: unknown): { candidates: Candidate[]; problems: ImportProblem[] } {
  const fc = doc as { type?: unknown; features?: unknown };
  if (!fc || typeof fc !== 'object' || fc.type !== 'FeatureCollection' || !Array.isArray(fc.features)) {
    return { candidates: [], problems: [{ where: 'file', message: 'expected a GeoJSON FeatureCollection' }] };
  }
  const candidates = fc.features.map((f: unknown, i): Candidate => {
    const feature = (f && typeof f === 'object' ? f : {}) as {
      geometry?: { type?: unknown; coordinates?: unknown };
      properties?: unknown;
    };
    const props = (feature.properties && typeof feature.properties === 'object' ? feature.properties : {}) as Record<
      string,
      unknown
    >;
    const problems: string[] = [];
    const raw: Record<string, unknown> = { tags: {} };
    for (const key of ['id', 'kind', 'name', 'district', 'tags', 'floodLevels'])
      if (props[key] !== undefined) raw[key] = props[key];
    const coords = feature.geometry?.coordinates;
    if (feature.geometry?.type !== 'Point' || !Array.isArray(coords) || coords.length < 2)
      problems.push('geometry: a sensor is a Point with [longitude, latitude]');
    else {
      raw.lon = coords[0];
      raw.lat = coords[1];
    }
    return { where: `features[${i}]`, raw, problems };
  });
  return { candidates, problems: [] };
}

function yamlCandidates(text: string): { candidates: Candidate[]; problems: ImportProblem[] } {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    return { candidates: [], problems: [{ where: 'file', message: `invalid YAML: ${(err as Error).message}` }] };
  }
  const list = (doc as { sensors?: unknown })?.sensors;
  if (!Array.isArray(list))
    return {
      candidates: [],
      problems: [{ where: 'file', message: 'expected a top-level "sensors:" list (the city\'s sensors file)' }],
    };
  return {
    candidates: list.map((raw, i) => ({
      where: `sensors[${i}]`,
      raw: (raw ?? {}) as Record<string, unknown>,
      problems: [],
    })),
    problems: [],
  };
}

/** Every row checked; the sync form for the CLI and tests. */
export function checkImport(
  format: ImportFormat,
  content: string | unknown,
  ctx: SensorCheckContext,
  options: ImportOptions,
): ImportCheck {
  const steps = checkSteps(format, content, ctx, options);
  for (let step = steps.next(); ; step = steps.next()) if (step.done) return step.value;
}

/**
 * The same, giving the event loop back every `ROWS_PER_SLICE` rows: checking 10,000 rows against a
 * 1,300-vertex boundary takes about half a second, which on the platform's main thread would hold every
 * MQTT acknowledgement and the alert stream for that long.
 */
export async function checkImportInSlices(
  format: ImportFormat,
  content: string | unknown,
  ctx: SensorCheckContext,
  options: ImportOptions,
): Promise<ImportCheck> {
  const steps = checkSteps(format, content, ctx, options);
  for (let step = steps.next(); ; step = steps.next()) {
    if (step.done) return step.value;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function* checkSteps(
  format: ImportFormat,
  content: string | unknown,
  ctx: SensorCheckContext,
  options: ImportOptions,
): Generator<void, ImportCheck> {
  let parsed: { candidates: Candidate[]; problems: ImportProblem[] };
  if (format === 'geojson') {
    let doc = content;
    if (typeof content === 'string') {
      try {
        doc = JSON.parse(content);
      } catch (err) {
        return { rows: 0, plan: [], problems: [{ where: 'file', message: `not JSON: ${(err as Error).message}` }] };
      }
    }
    parsed = geoJsonCandidates(doc);
  } else {
    parsed = format === 'csv' ? yield* csvCandidates(String(content)) : yamlCandidates(String(content));
  }
  const problems = [...parsed.problems];
  const max = options.maxRows ?? 10_000;
  if (parsed.candidates.length > max)
    problems.push({ where: 'file', message: `${parsed.candidates.length} sensors: at most ${max} per import` });
  const firstSeen = new Map<string, string>();
  const plan: ImportPlanEntry[] = [];
  let n = 0;
  for (const c of parsed.candidates.slice(0, max)) {
    if (++n % ROWS_PER_SLICE === 0) yield;
    const id = typeof c.raw.id === 'string' ? c.raw.id : undefined;
    const add = (message: string) => problems.push({ where: c.where, ...(id ? { id: id.slice(0, 64) } : {}), message });
    c.problems.forEach(add);
    for (const key of REQUIRED) if (c.raw[key] === undefined || c.raw[key] === '') add(`${key}: missing`);
    const checked = checkSensor(c.raw, ctx);
    if (!checked.ok)
      checked.problems
        .filter((p) => !REQUIRED.some((k) => p.startsWith(`${k}: Invalid input: expected`) && c.raw[k] === undefined))
        .forEach(add);
    if (id !== undefined) {
      const before = firstSeen.get(id);
      if (before) add(`id: duplicate sensor id "${id.slice(0, 64)}" (also at ${before})`);
      else firstSeen.set(id, c.where);
      if (!before && options.exists(id) && !options.updateExisting)
        add(`id: sensor "${id.slice(0, 64)}" exists already in the registry`);
    }
    if (checked.ok && !c.problems.length)
      plan.push({ sensor: checked.sensor as Sensor, existing: options.exists(checked.sensor.id) });
  }
  return { rows: parsed.candidates.length, problems, plan: problems.length ? [] : plan };
}
