import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLogs } from '../test-support/log-capture.ts';
import { startTestPlatform } from '../test-support/platform-harness.ts';
import { ConfigError } from './config-error.ts';
import { DEFAULT_CONFIG_FILE, loadPlatformConfig, type PlatformConfigInput } from './platform-config.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The default platform file with its `store:` section's first key replaced by `line`. */
function configWith(line: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-renamed-'));
  dirs.push(dir);
  const text = readFileSync(DEFAULT_CONFIG_FILE, 'utf8').replace(/^store:\n {2}engine: embedded\b/m, `store:\n${line}`);
  expect(text).toContain(line);
  const file = join(dir, 'platform.yaml');
  // the file's relative paths now resolve in the temporary folder: loading only resolves them
  writeFileSync(file, text);
  return file;
}

describe('renamed configuration keys', () => {
  it('loads store.kind as store.engine, with one warning that names both', () => {
    const config = loadPlatformConfig({ env: { IOC_CONFIG: configWith('  kind: influxdb') } });
    expect(config.store.engine).toBe('influxdb');
    expect(config.store).not.toHaveProperty('kind');
    expect(config.deprecations).toEqual([expect.stringMatching(/^store\.kind is deprecated: use store\.engine/)]);
  });

  it('has no warning for a file that uses the new name', () => {
    const config = loadPlatformConfig({ env: { IOC_CONFIG: configWith('  engine: influxdb') } });
    expect(config.store.engine).toBe('influxdb');
    expect(config.deprecations).toEqual([]);
  });

  it('refuses both names with different values, naming both', () => {
    const file = configWith('  kind: influxdb\n  engine: embedded');
    expect(() => loadPlatformConfig({ env: { IOC_CONFIG: file } })).toThrow(ConfigError);
    expect(() => loadPlatformConfig({ env: { IOC_CONFIG: file } })).toThrow(
      /store\.kind \(deprecated\) and store\.engine disagree/,
    );
  });

  it('lets IOC_STORE win over the old name in the file, as it wins over the new one', () => {
    const config = loadPlatformConfig({ env: { IOC_CONFIG: configWith('  kind: influxdb'), IOC_STORE: 'embedded' } });
    expect(config.store.engine).toBe('embedded');
    expect(config.deprecations).toHaveLength(1);
  });

  it('takes the old name in overrides too (the CLI and tests pass them)', () => {
    const overrides = { store: { kind: 'influxdb' } } as unknown as PlatformConfigInput;
    const config = loadPlatformConfig({ env: {}, overrides });
    expect(config.store.engine).toBe('influxdb');
    expect(overrides).toEqual({ store: { kind: 'influxdb' } }); // the caller's object is left as it was
  });

  it('the platform logs each deprecation once at start and reports the engine on /api/health', async () => {
    const logs = captureLogs('warn');
    const overrides = { store: { kind: 'embedded' } } as unknown as PlatformConfigInput;
    const platform = await startTestPlatform({ overrides, logger: logs.logger });
    try {
      const warnings = logs.lines.filter((l) => String(l.msg).startsWith('store.kind is deprecated'));
      expect(warnings).toHaveLength(1);
      const health = await platform.request('GET', '/api/health');
      expect(health.json).toMatchObject({ store: { engine: 'embedded', kind: 'embedded' } });
    } finally {
      await platform.stop();
    }
  });
});
