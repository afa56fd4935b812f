import fc from 'fast-check';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPlatformConfig } from '../config/platform-config.ts';
import { readAuthFile, writeAuthFile, type AuthFile } from '../config/accounts/auth-file.ts';
import { makeHash } from '../config/accounts/secrets.ts';
import {
  boxAuthChanges,
  checkSharedAccounts,
  copySharedFiles,
  passSharedFiles,
  planWorkers,
  workerCount,
  workersArgument,
} from './workers-plan.ts';
import { TEST_CLUSTER_SECRET } from '../test-support/cluster-fixture.ts';

describe('workers of one box: the plan', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-workers-plan-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads --workers N|auto from any command line, and refuses anything else with the accepted forms', () => {
    expect(workersArgument([])).toBeUndefined();
    expect(workersArgument(['start', '--workers', '4'])).toBe(4);
    expect(workersArgument(['--workers=auto'])).toBe('auto');
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 4 }), fc.string(), (rest, value) => {
        const argv = [...rest.filter((a) => !a.startsWith('--workers')), '--workers', value];
        const valid = value === 'auto' || (/^\d{1,3}$/.test(value) && Number(value) >= 1 && Number(value) <= 256);
        if (valid) expect(workersArgument(argv)).toBe(value === 'auto' ? 'auto' : Number(value));
        else expect(() => workersArgument(argv)).toThrow(/--workers: a number from 1 to 256 or "auto"/);
      }),
      { seed: 17, numRuns: 300 },
    );
  });

  it('gives each worker its own node id and data directory, one demo fleet per box', () => {
    const plans = planWorkers({ cluster: { nodeId: 'box' }, dataDir: dir }, 3);
    expect(plans.map((p) => p.nodeId)).toEqual(['box-w0', 'box-w1', 'box-w2']);
    expect(plans[1]!.env).toEqual({
      IOC_NODE_ID: 'box-w1',
      IOC_DATA_DIR: join(dir, 'workers', 'w1'),
      IOC_WORKERS: '1',
      IOC_DEMO: '0',
    });
    expect(plans[0]!.env.IOC_DEMO).toBeUndefined();
    // a configured id at its longest still gives valid worker ids (63 characters at most)
    const long = planWorkers({ cluster: { nodeId: 'n'.repeat(63) }, dataDir: dir }, 256);
    expect(long.every((p) => /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(p.nodeId))).toBe(true);
    expect(workerCount('auto', 16)).toBe(16);
    expect(workerCount(3, 16)).toBe(3);
  });

  it('accepts workers only with Redis and InfluxDB, and IOC_WORKERS=auto', () => {
    expect(() => loadPlatformConfig({ env: { IOC_WORKERS: '2' }, overrides: { dataDir: dir } })).toThrow(
      /cluster\.workers \(IOC_WORKERS, --workers\) needs cluster\.redis and store\.engine: influxdb.*\(got no redis/,
    );
    const config = loadPlatformConfig({
      env: {
        IOC_WORKERS: 'auto',
        IOC_REDIS_URL: 'redis://127.0.0.1:6379',
        IOC_STORE: 'influxdb',
        IOC_CLUSTER_SECRET: TEST_CLUSTER_SECRET,
      },
      overrides: { dataDir: dir },
    });
    expect(config.cluster.workers).toBe('auto');
    expect(() => loadPlatformConfig({ env: { IOC_WORKERS: 'many' }, overrides: { dataDir: dir } })).toThrow(
      /IOC_WORKERS/,
    );
  });

  it('refuses to start without the shared accounts, and copies them privately into a worker', () => {
    const box = join(dir, 'box');
    expect(() => checkSharedAccounts(box)).toThrow(/auth\.json does not exist.*credentials init --data-dir/);
    copySharedFiles(dir, join(box, 'x')); // nothing to copy yet: no error
    writeFileSync(join(dir, 'auth.json'), '{"v":1}');
    const worker = join(dir, 'workers', 'w0');
    copySharedFiles(dir, worker);
    expect(readFileSync(join(worker, 'auth.json'), 'utf8')).toBe('{"v":1}');
    expect(statSync(join(worker, 'auth.json')).mode & 0o777).toBe(0o600);
    expect(statSync(worker).mode & 0o777).toBe(0o700);
  });

  it("passes a change of the box's accounts to a running worker without undoing what the cluster changed there", () => {
    const at = '2026-12-01T00:00:00.000Z';
    const boxDir = join(dir, 'box-accounts');
    const workerDir = join(boxDir, 'workers', 'w0');
    const box: AuthFile = {
      version: 2,
      devices: { 'air-a': makeHash('old-secret') },
      accounts: [{ name: 'admin', role: 'admin', disabled: false, passwordSetAt: at, createdAt: at, iocDuty: true }],
      tokens: [],
    };
    mkdirSync(boxDir, { recursive: true });
    writeAuthFile(join(boxDir, 'auth.json'), box);
    passSharedFiles(boxDir, workerDir, undefined); // first start: the whole file
    // the cluster rotated the device's secret through another node: the worker's copy has the new hash
    const rotated = makeHash('new-secret');
    const worker = readAuthFile(join(workerDir, 'auth.json'));
    worker.devices['air-a'] = rotated;
    writeAuthFile(join(workerDir, 'auth.json'), worker);
    // `ioc accounts add` on the box: only the new account reaches the worker; the old secret stays refused
    const next: AuthFile = {
      ...box,
      accounts: [...box.accounts, { ...box.accounts[0]!, name: 'lan', role: 'operator', iocDuty: false }],
    };
    writeAuthFile(join(boxDir, 'auth.json'), next);
    passSharedFiles(boxDir, workerDir, boxAuthChanges(box, next));
    const after = readAuthFile(join(workerDir, 'auth.json'));
    expect(after.accounts.map((a) => a.name)).toEqual(['admin', 'lan']);
    expect(after.devices['air-a']).toEqual(rotated);
  });
});
