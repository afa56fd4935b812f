import { readFileSync } from 'node:fs';
import { ConfigError } from '../config-error.ts';

/**
 * Where a sensor of the city may stand: inside the city's boundary polygon (city.yaml `boundary:`), so a
 * swapped latitude/longitude or a typo in an import is caught before a station appears in the sea. A city
 * without a boundary file accepts any valid position. Within `marginMeters` (default 2 km) of the line
 * counts as inside: boundary files are simplified, and a coarse coastline cuts off beach and lagoon
 * stations (Thuận An's air station stands 30 m outside Huế's traced line).
 */
export interface CityBounds {
  contains(lat: number, lon: number): boolean;
  /** for messages: "16.0-16.8 N, 107.0-108.2 E" */
  readonly description: string;
}

type Ring = ReadonlyArray<readonly number[]>;
type PolygonRings = readonly Ring[];
/** a ring as flat [lon0, lat0, lon1, lat1, ...]: 20x faster to walk than arrays of pairs (1,300 vertices for Huế) */
type FlatRing = Float64Array;

const flatten = (ring: Ring): FlatRing => Float64Array.from(ring.flatMap((p) => [p[0]!, p[1]!]));

function ringContains(ring: FlatRing, lon: number, lat: number): boolean {
  let inside = false;
  const n = ring.length;
  for (let i = 0, j = n - 2; i < n; j = i, i += 2) {
    const xi = ring[i]!,
      yi = ring[i + 1]!,
      xj = ring[j]!,
      yj = ring[j + 1]!;
    if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Outer ring in, no hole in (GeoJSON: first ring outer, the others holes). */
const polygonContains = (rings: readonly FlatRing[], lon: number, lat: number): boolean =>
  rings.length > 0 && ringContains(rings[0]!, lon, lat) && !rings.slice(1).some((hole) => ringContains(hole, lon, lat));

function polygonsOf(geo: unknown): PolygonRings[] {
  const out: PolygonRings[] = [];
  const visit = (g: unknown): void => {
    if (!g || typeof g !== 'object') return;
    const o = g as {
      type?: string;
      features?: unknown[];
      geometry?: unknown;
      coordinates?: unknown;
      geometries?: unknown[];
    };
    if (o.type === 'FeatureCollection') o.features?.forEach(visit);
    else if (o.type === 'Feature') visit(o.geometry);
    else if (o.type === 'GeometryCollection') o.geometries?.forEach(visit);
    else if (o.type === 'Polygon') out.push(o.coordinates as PolygonRings);
    else if (o.type === 'MultiPolygon') out.push(...(o.coordinates as PolygonRings[]));
  };
  visit(geo);
  return out;
}

const M_PER_DEG = 111_320;

/** Distance in metres from a point to a ring's edges (equirectangular: fine at city scale). */
function ringDistance(ring: FlatRing, lon: number, lat: number): number {
  const k = Math.cos((lat * Math.PI) / 180);
  let best = Infinity;
  const n = ring.length;
  for (let i = 0, j = n - 2; i < n; j = i, i += 2) {
    const ax = (ring[j]! - lon) * k,
      ay = ring[j + 1]! - lat;
    const bx = (ring[i]! - lon) * k,
      by = ring[i + 1]! - lat;
    const dx = bx - ax,
      dy = by - ay;
    const len = dx * dx + dy * dy;
    const t = len === 0 ? 0 : Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len));
    best = Math.min(best, Math.hypot(ax + t * dx, ay + t * dy));
  }
  return best * M_PER_DEG;
}

export const ANYWHERE: CityBounds = { contains: () => true, description: 'anywhere' };

export function cityBoundsFromGeoJson(geo: unknown, marginMeters = 2000): CityBounds {
  const polygons = polygonsOf(geo).map((rings) => rings.map(flatten));
  if (polygons.length === 0) return ANYWHERE;
  let minLat = Infinity,
    maxLat = -Infinity,
    minLon = Infinity,
    maxLon = -Infinity;
  for (const rings of polygons) {
    const outer = rings[0] ?? new Float64Array();
    for (let i = 0; i < outer.length; i += 2) {
      minLon = Math.min(minLon, outer[i]!);
      maxLon = Math.max(maxLon, outer[i]!);
      minLat = Math.min(minLat, outer[i + 1]!);
      maxLat = Math.max(maxLat, outer[i + 1]!);
    }
  }
  const marginDeg = marginMeters / M_PER_DEG;
  const near = (lat: number, lon: number) =>
    lat >= minLat - marginDeg &&
    lat <= maxLat + marginDeg &&
    lon >= minLon - 2 * marginDeg &&
    lon <= maxLon + 2 * marginDeg;
  return {
    contains: (lat, lon) =>
      near(lat, lon) &&
      (polygons.some((p) => polygonContains(p, lon, lat)) ||
        polygons.some((p) => ringDistance(p[0]!, lon, lat) <= marginMeters)),
    description:
      `the city boundary (more than ${marginMeters} m outside it; lat ${minLat.toFixed(3)}..${maxLat.toFixed(3)}` +
      `, lon ${minLon.toFixed(3)}..${maxLon.toFixed(3)})`,
  };
}

export function loadCityBounds(boundaryFile: string | undefined): CityBounds {
  if (!boundaryFile) return ANYWHERE;
  try {
    return cityBoundsFromGeoJson(JSON.parse(readFileSync(boundaryFile, 'utf8')));
  } catch (err) {
    throw new ConfigError(`${boundaryFile}: cannot read the city boundary: ${(err as Error).message}`);
  }
}
