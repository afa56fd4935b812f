import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPlatformConfig } from '../config/platform-config.ts';
import { TEST_CLUSTER_SECRET } from '../test-support/cluster-fixture.ts';
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
        IOC_CLUSTER_SECRET: TEST_CLUSTER_SECRET,
      },
      overrides: { dataDir: dir },
    });
    expect(nodeIdOf(clustered)).toBe('ioc-a');
    expect(clustered.cluster.secret).toBe(TEST_CLUSTER_SECRET);
    expect(commitLogDirOf(clustered)).toBe(join(dir, 'log', 'ioc-a'));
    const single = loadPlatformConfig({ env: {}, overrides: { dataDir: dir } });
    expect(single.cluster.redis).toBeUndefined();
    expect(commitLogDirOf(single)).toBe(join(dir, 'log'));
  });

  it('refuses cluster mode without cluster.secret or with a short one, naming its length and never its text', () => {
    const env = { IOC_REDIS_URL: 'redis://127.0.0.1:6379', IOC_STORE: 'influxdb' };
    expect(() => loadPlatformConfig({ env, overrides: { dataDir: dir } })).toThrow(
      /cluster\.secret \(IOC_CLUSTER_SECRET\).*at least 32 characters.*\(got none\)/s,
    );
    const short = 'kh\u00f4ng-\u0111\u1ee7-d\u00e0i-31-k\u00fd-t\u1ef1-xxxxxxxxxx'.slice(0, 31);
    let message = '';
    try {
      loadPlatformConfig({ env: { ...env, IOC_CLUSTER_SECRET: short }, overrides: { dataDir: dir } });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/cluster\.secret.*\(got 31 characters\)/s);
    expect(message).not.toContain(short);
    expect(message).not.toContain(short.slice(0, 8));
    // one node alone (no Redis) needs none
    expect(loadPlatformConfig({ env: {}, overrides: { dataDir: dir } }).cluster.secret).toBeUndefined();
  });
});
