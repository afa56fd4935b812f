import { readFileSync } from 'node:fs';
import { ConfigError } from '../config-error.ts';

/**
 * Where a sensor of the city may stand: inside the city's boundary polygon (city.yaml `boundary:`), so a
 * swapped latitude/longitude or a typo in an import is caught before a station appears in the sea. A city
 * without a boundary file accepts any valid position.
 */
export interface CityBounds {
  contains(lat: number, lon: number): boolean;
  /** for messages: "16.0-16.8 N, 107.0-108.2 E" */
  readonly description: string;
}

type Ring = ReadonlyArray<readonly number[]>;
type PolygonRings = readonly Ring[];

function ringContains(ring: Ring, lon: number, lat: number): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i] as [number, number];
    const [xj, yj] = ring[j] as [number, number];
    if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Outer ring in, no hole in (GeoJSON: first ring outer, the others holes). */
const polygonContains = (rings: PolygonRings, lon: number, lat: number): boolean =>
  rings.length > 0 && ringContains(rings[0]!, lon, lat) && !rings.slice(1).some((hole) => ringContains(hole, lon, lat));

function polygonsOf(geo: unknown): PolygonRings[] {
  const out: PolygonRings[] = [];
  const visit = (g: unknown): void => {
    if (!g || typeof g !== 'object') return;
    const o = g as { type?: string; features?: unknown[]; geometry?: unknown; coordinates?: unknown; geometries?: unknown[] };
    if (o.type === 'FeatureCollection') o.features?.forEach(visit);
    else if (o.type === 'Feature') visit(o.geometry);
    else if (o.type === 'GeometryCollection') o.geometries?.forEach(visit);
    else if (o.type === 'Polygon') out.push(o.coordinates as PolygonRings);
    else if (o.type === 'MultiPolygon') out.push(...(o.coordinates as PolygonRings[]));
  };
  visit(geo);
  return out;
}

export const ANYWHERE: CityBounds = { contains: () => true, description: 'anywhere' };

export function cityBoundsFromGeoJson(geo: unknown): CityBounds {
  const polygons = polygonsOf(geo);
  if (polygons.length === 0) return ANYWHERE;
  let minLat = Infinity, maxLat = -Infinity, minLon = Infinity, maxLon = -Infinity;
  for (const rings of polygons) {
    for (const [lon, lat] of rings[0] ?? []) {
      minLat = Math.min(minLat, lat!); maxLat = Math.max(maxLat, lat!);
      minLon = Math.min(minLon, lon!); maxLon = Math.max(maxLon, lon!);
    }
  }
  return {
    contains: (lat, lon) => lat >= minLat && lat <= maxLat && lon >= minLon && lon <= maxLon && polygons.some((p) => polygonContains(p, lon, lat)),
    description: `the city boundary (lat ${minLat.toFixed(3)}..${maxLat.toFixed(3)}, lon ${minLon.toFixed(3)}..${maxLon.toFixed(3)})`,
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
