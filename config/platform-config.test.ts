import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCity } from './city-config.ts';
import { ConfigError } from './config-error.ts';
import { loadCredentials } from './credentials.ts';
import { DEFAULT_CONFIG_FILE, loadPlatformConfig } from './platform-config.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'ioc-config-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('platform configuration', () => {
  it('loads the documented defaults and resolves paths against the config file', () => {
    const config = loadPlatformConfig({ env: {} });
    expect(config.configFile).toBe(DEFAULT_CONFIG_FILE);
    expect(config.mqtt.port).toBe(1883);
    expect(config.http.port).toBe(8080);
    expect(config.store.engine).toBe('embedded');
    expect(config.store.embedded.flushIntervalMs).toBe(1000);
    expect(config.dataDir).toMatch(/\/data$/);
    expect(Object.isFrozen(config.mqtt)).toBe(true);
  });

  it('applies IOC_* environment overrides', () => {
    const config = loadPlatformConfig({
      env: {
        IOC_MQTT_PORT: '11883',
        IOC_HTTP_PORT: '18080',
        IOC_DATA_DIR: '/var/lib/ioc',
        IOC_INSECURE: '1',
        IOC_DEMO: 'false',
        IOC_STORE: 'influxdb',
        IOC_INFLUX_URL: 'http://influx.local:8086',
        IOC_EMBEDDED_FLUSH_INTERVAL_MS: '250',
      },
    });
    expect(config.mqtt.port).toBe(11883);
    expect(config.http.port).toBe(18080);
    expect(config.dataDir).toBe('/var/lib/ioc');
    expect(config.security.insecure).toBe(true);
    expect(config.demo.enabled).toBe(false);
    expect(config.store.engine).toBe('influxdb');
    expect(config.store.influxdb?.url).toBe('http://influx.local:8086');
    expect(config.store.embedded.flushIntervalMs).toBe(250);
  });

  it('refuses an embedded flush interval that is not a whole number of ms from 0 to 10,000', () => {
    for (const bad of ['abc', '-1', '10001', '1.5', '__proto__']) {
      expect(() => loadPlatformConfig({ env: { IOC_EMBEDDED_FLUSH_INTERVAL_MS: bad } })).toThrow(
        /store\.embedded\.flushIntervalMs/,
      );
    }
  });

  it('reports every problem at once, naming the file and the key', () => {
    const dir = tempDir();
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'mqtt:\n  port: 99999\nhttp:\n  prot: 1\nprofile: staging\n');
    let error: unknown;
    try {
      loadPlatformConfig({ env: { IOC_CONFIG: file, IOC_HTTP_PORT: 'eighty' } });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain(file);
    expect(message).toMatch(/IOC_HTTP_PORT: expected a number, got "eighty"/);
    expect(message).toMatch(/mqtt\.port/);
    expect(message).toMatch(/profile/);
    expect(message).toMatch(/prot/);
  });

  it('reads the default city: every sensor has a known kind, a district and a position in Huế', () => {
    const config = loadPlatformConfig({ env: {} });
    const city = loadCity(config.cityFile, config.kindsDir);
    expect([...city.kinds.keys()].sort()).toEqual(['air', 'camera', 'traffic', 'water']);
    expect(city.sensors.length).toBeGreaterThanOrEqual(25);
    for (const s of city.sensors) {
      expect(s.lat).toBeGreaterThan(15.9);
      expect(s.lat).toBeLessThan(16.8);
      expect(s.lon).toBeGreaterThan(107);
      expect(s.lon).toBeLessThan(108.3);
    }
    expect(city.sensorsById.get('water-kimlong')?.floodLevels).toEqual([1.0, 2.0, 3.5]);
  });

  it('refuses to start a production platform without credentials, saying how to make them', () => {
    const config = loadPlatformConfig({ env: {} });
    const city = loadCity(config.cityFile, config.kindsDir);
    const dir = tempDir();
    expect(() => loadCredentials(dir, city, 'production')).toThrow(
      /no credentials: .*auth\.json does not exist.*credentials init/s,
    );
  });

  it('generates credentials once in demo, stores only hashes, and verifies them', () => {
    const config = loadPlatformConfig({ env: {} });
    const city = loadCity(config.cityFile, config.kindsDir);
    const dir = tempDir();
    const first = loadCredentials(dir, city, 'demo');
    expect(first.generated?.devices).toHaveLength(city.sensors.length);
    const again = loadCredentials(dir, city, 'demo');
    expect(again.generated).toBeUndefined();
    const device = first.generated!.devices[0]!;
    expect(again.auth.verifyDevice(device.username, device.password)).toMatchObject({
      role: 'device',
      sensorId: device.sensorId,
    });
    expect(again.auth.verifyDevice(device.username, `${device.password}x`)).toBeUndefined();
    expect(again.auth.verifyToken(first.generated!.admin.token)).toMatchObject({ role: 'admin' });
    const hashes = readFileSync(join(dir, 'auth.json'), 'utf8');
    expect(hashes).not.toContain(device.password);
    expect(statSync(join(dir, 'credentials.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'auth.json')).mode & 0o777).toBe(0o600);
  });
});
