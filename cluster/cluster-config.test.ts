import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPlatformConfig } from '../config/platform-config.ts';
import { commitLogDirOf, nodeIdOf } from './cluster-node.ts';

describe('cluster configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-cluster-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses the embedded store in cluster mode with a clear start-up error', () => {
    expect(() =>
      loadPlatformConfig({
        env: { IOC_REDIS_URL: 'redis://127.0.0.1:6379' },
        overrides: { dataDir: dir },
      }),
    ).toThrow(/cluster mode \(cluster.redis \/ IOC_REDIS_URL\) needs store.engine: influxdb/);
  });

  it('refuses a malformed Redis URL or node id, naming the key', () => {
    expect(() =>
      loadPlatformConfig({
        env: {},
        overrides: { dataDir: dir, cluster: { redis: 'localhost:6379' } },
      }),
    ).toThrow(/cluster.redis.*redis:\/\//s);
    expect(() =>
      loadPlatformConfig({
        env: { IOC_NODE_ID: 'a/../b' },
        overrides: { dataDir: dir },
      }),
    ).toThrow(/cluster.nodeId/);
  });

  it('gives each node its own commit log folder, and keeps the single-process layout otherwise', () => {
    const clustered = loadPlatformConfig({
      env: {
        IOC_REDIS_URL: 'redis://127.0.0.1:6379/2',
        IOC_NODE_ID: 'ioc-a',
        IOC_STORE: 'influxdb',
      },
      overrides: { dataDir: dir },
    });
    expect(nodeIdOf(clustered)).toBe('ioc-a');
    expect(commitLogDirOf(clustered)).toBe(join(dir, 'log', 'ioc-a'));
    const single = loadPlatformConfig({ env: {}, overrides: { dataDir: dir } });
    expect(single.cluster.redis).toBeUndefined();
    expect(commitLogDirOf(single)).toBe(join(dir, 'log'));
  });
});
