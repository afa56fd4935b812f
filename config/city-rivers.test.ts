import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCity, loadRivers, type RiversGeoJson } from './city-config.ts';
import { ConfigError } from './config-error.ts';
import { CONFIG_DIR } from './platform-config.ts';

const HUE = join(CONFIG_DIR, 'cities/hue/city.yaml');
const KINDS = join(CONFIG_DIR, 'kinds');
/** The shipped rivers are a hand trace: a river station must sit within this of its river's line. */
const ON_RIVER_METRES = 300;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

type Position = readonly number[];

/** Metres from a point to a segment, on a local flat projection (fine at city scale). */
function distanceToSegment(p: Position, a: Position, b: Position): number {
  const metresPerDegLat = 111_320;
  const metresPerDegLon = metresPerDegLat * Math.cos((p[1]! * Math.PI) / 180);
  const [ax, ay] = [(a[0]! - p[0]!) * metresPerDegLon, (a[1]! - p[1]!) * metresPerDegLat];
  const [bx, by] = [(b[0]! - p[0]!) * metresPerDegLon, (b[1]! - p[1]!) * metresPerDegLat];
  const [dx, dy] = [bx - ax, by - ay];
  const t = Math.max(0, Math.min(1, -(ax * dx + ay * dy) / (dx * dx + dy * dy || 1)));
  return Math.hypot(ax + t * dx, ay + t * dy);
}

function linesOf(feature: RiversGeoJson['features'][number]): Position[][] {
  return feature.geometry.type === 'LineString' ? [feature.geometry.coordinates] : feature.geometry.coordinates;
}

function distanceToFeature(point: Position, feature: RiversGeoJson['features'][number]): number {
  let best = Infinity;
  for (const line of linesOf(feature)) {
    for (let i = 1; i < line.length; i++) best = Math.min(best, distanceToSegment(point, line[i - 1]!, line[i]!));
  }
  return best;
}

describe('the rivers on the offline map of Huế', () => {
  const city = loadCity(HUE, KINDS);

  it('ships named river lines, labelled as an approximate hand trace', () => {
    const rivers = city.rivers!;
    expect(rivers.type).toBe('FeatureCollection');
    expect(String(rivers.note)).toMatch(/approximate hand trace/i);
    expect(String(rivers.note)).toMatch(/not survey data/i);
    expect(
      rivers.features.every((f) => f.geometry.type === 'LineString' || f.geometry.type === 'MultiLineString'),
    ).toBe(true);
    const names = rivers.features.map((f) => f.properties.name);
    expect(names).toEqual(expect.arrayContaining(['Sông Hương', 'Sông Bồ', 'Sông Như Ý']));
    for (const feature of rivers.features) {
      expect(feature.properties.name_en).not.toBe('');
      for (const [lon, lat] of linesOf(feature).flat()) {
        expect(lat).toBeGreaterThan(16.3);
        expect(lat).toBeLessThan(16.7);
        expect(lon).toBeGreaterThan(107.3);
        expect(lon).toBeLessThan(107.8);
      }
    }
  });

  it('passes every river-level station on the river the station is tagged with', () => {
    const stations = city.sensors.filter((s) => s.tags.role === 'river-level');
    expect(stations.length).toBeGreaterThanOrEqual(4);
    for (const station of stations) {
      const river = city.rivers!.features.find(
        (f) => f.properties.name.toLowerCase() === `sông ${station.tags.river}`.toLowerCase(),
      );
      expect(river, `a river named after ${station.id}'s tag "${station.tags.river}"`).toBeDefined();
      const metres = distanceToFeature([station.lon, station.lat], river!);
      expect(metres, `${station.id} is ${metres.toFixed(0)} m from ${river!.properties.name}`).toBeLessThan(
        ON_RIVER_METRES,
      );
    }
  });

  it('refuses a rivers file that is not named GeoJSON lines, saying where', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ioc-rivers-'));
    dirs.push(dir);
    const file = join(dir, 'rivers.geojson');
    writeFileSync(
      file,
      JSON.stringify({
        type: 'FeatureCollection',
        features: [
          {
            type: 'Feature',
            properties: { name: 'Sông Hương' },
            geometry: { type: 'Point', coordinates: [107.58, 16.46] },
          },
        ],
      }),
    );
    expect(() => loadRivers(file)).toThrow(ConfigError);
    expect(() => loadRivers(file)).toThrow(/rivers\.geojson: invalid rivers GeoJSON/);
    writeFileSync(file, '{ not json');
    expect(() => loadRivers(file)).toThrow(/invalid JSON/);
  });
});
