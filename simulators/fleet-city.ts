import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import type { City, Sensor } from '../config/city-config.ts';

/**
 * A city sized for load: the base city's sensors plus clones up to `devices` (ids `<base id>-f00042`),
 * spread a few hundred metres around their originals. The platform needs every device in its sensor
 * list (and credentials for it), so sizing a deployment starts by writing such a city and pointing the
 * platform at it: `ioc simulate --write-fleet-city DIR --devices 10000`, then `IOC_CITY=DIR/city.yaml`.
 * Clones carry no flood levels, so ten thousand gauges do not raise ten thousand flood alerts.
 */
export function fleetSensors(base: readonly Sensor[], devices: number): Sensor[] {
  const sensors: Sensor[] = base.slice(0, devices).map((s) => ({ ...s }));
  for (let i = sensors.length; i < devices; i++) {
    const original = base[i % base.length]!;
    const { floodLevels: _dropped, ...rest } = original;
    const angle = i * 2.399963; // golden angle: clones spread evenly around their original
    const radius = 0.001 + 0.004 * ((i * 0.618034) % 1);
    sensors.push({
      ...rest,
      id: `${original.id}-f${String(i).padStart(5, '0')}`,
      name: `${original.name} #${i}`,
      lat: Math.round((original.lat + radius * Math.sin(angle)) * 1e5) / 1e5,
      lon: Math.round((original.lon + radius * Math.cos(angle)) * 1e5) / 1e5,
      tags: { ...original.tags, fleet: 'simulated' },
    });
  }
  return sensors;
}

/** Writes `<dir>/city.yaml` and `<dir>/sensors.yaml`; the map and rules stay the base city's. */
export function writeFleetCity(dir: string, base: City, baseCityFile: string, devices: number): string {
  mkdirSync(dir, { recursive: true });
  const raw = parseYaml(readFileSync(baseCityFile, 'utf8')) as Record<string, unknown>;
  const cityFile = join(dir, 'city.yaml');
  const city = {
    ...raw,
    id: `${base.id}-fleet`,
    name: {
      vi: `${base.name.vi} (đội thiết bị mô phỏng ${devices})`,
      en: `${base.name.en} (simulated fleet of ${devices})`,
    },
    sensors: 'sensors.yaml',
    rules: base.rulesDir,
    ...(base.boundaryFile ? { boundary: base.boundaryFile } : {}),
    ...(base.riversFile ? { rivers: base.riversFile } : {}),
  };
  writeFileSync(cityFile, `# Written by simulators/fleet-city.ts from ${baseCityFile}\n${stringify(city)}`);
  const sensors = fleetSensors(base.sensors, devices).map((s) => ({ ...s, tags: s.tags }));
  writeFileSync(join(dir, 'sensors.yaml'), stringify({ sensors }, { lineWidth: 0 }));
  return cityFile;
}
