import { existsSync } from 'node:fs';
import { authFilePath, readAuthFile, updateAuthFile } from '../config/accounts/auth-file.ts';
import { loadCity, type City } from '../config/city-config.ts';
import { systemClock } from '../core/clock.ts';
import type { PlatformConfig } from '../config/platform-config.ts';
import { preparePrivateDataDir } from '../config/private-files.ts';
import { loadCityBounds } from '../config/sensors/city-bounds.ts';
import { registryFilePath } from '../config/sensors/registry-file.ts';
import { createSensorAdmin, type SensorAdmin } from '../config/sensors/sensor-admin.ts';
import { SensorRegistry } from '../config/sensors/sensor-registry.ts';

/**
 * The device registry as the command line reaches it: the same files the platform uses (sensors.json,
 * auth.json), written atomically; a running platform notices and follows (platform-registry.ts). Before
 * the platform's first start there is no sensors.json: it is seeded from the city's YAML here, as the
 * platform would.
 */
export interface CliRegistry {
  city: City;
  registry: SensorRegistry;
  admin: SensorAdmin;
}

export function openCliRegistry(config: PlatformConfig, dataDir: string): CliRegistry {
  const city = loadCity(config.cityFile, config.kindsDir);
  preparePrivateDataDir(dataDir);
  // account names from auth.json (none yet on a fresh data dir): a sensor id must not share an account's MQTT lanes
  const accountNames = () =>
    existsSync(authFilePath(dataDir)) ? readAuthFile(authFilePath(dataDir)).accounts.map((a) => a.name) : [];
  const registry = new SensorRegistry({
    dataDir,
    city,
    bounds: loadCityBounds(city.boundaryFile),
    clock: systemClock,
    accountNames,
  });
  const admin = createSensorAdmin({ registry, changeAuth: (fn) => updateAuthFile(dataDir, fn) });
  return { city, registry, admin };
}

/** Whether the sensor exists: the registry once there is one, else the city's YAML (a fresh data dir). */
export function sensorKnown(config: PlatformConfig, dataDir: string, sensorId: string): boolean {
  if (existsSync(registryFilePath(dataDir)))
    return openCliRegistry(config, dataDir).registry.entry(sensorId) !== undefined;
  return loadCity(config.cityFile, config.kindsDir).sensorsById.has(sensorId);
}
