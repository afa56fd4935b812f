import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CredentialsFile } from '../config/credentials.ts';
import { InfluxHttp } from '../store/influxdb/influx-http.ts';
import { freshDatabase, influxConfig } from '../store/influxdb/influx-test-helpers.ts';
import {
  checkStoredOnce,
  clusterNodeEnv,
  makeClusterAccounts,
  readyCount,
  streamReadings,
  waitUntil,
  workerPids,
} from '../test-support/cluster-fixture.ts';
import { freePort } from '../test-support/free-port.ts';
import { startInfluxd, type InfluxServer } from '../test-support/influxd.ts';
import { spawnPlatform, type PlatformProcess } from '../test-support/platform-process.ts';
import { startRedis, type RedisServer } from '../test-support/redis-server.ts';

/** GET on a new connection each time, so the primary hands each one to the next worker. */
function getFresh(url: string, token: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * `cluster.workers: 2` as `npm start` runs it: one primary, two platform processes on the same MQTT and
 * HTTP ports, real Redis and InfluxDB, real MQTT devices.
 */
describe('cluster.workers: platform processes of one box behind the same ports', () => {
  let redis: RedisServer;
  let influx: InfluxServer;
  let proc: PlatformProcess;
  let creds: CredentialsFile;
  let http: InfluxHttp;
  const dir = mkdtempSync(join(tmpdir(), 'ioc-workers-'));
  const database = freshDatabase('workers');

  beforeAll(async () => {
    [redis, influx] = await Promise.all([startRedis(), startInfluxd()]);
    http = new InfluxHttp(influxConfig({ url: influx.url, database }));
    creds = makeClusterAccounts(dir);
    const [mqttPort, httpPort] = [await freePort(), await freePort()];
    const env = clusterNodeEnv({
      redisUrl: redis.url,
      influxUrl: influx.url,
      database,
      dataDir: dir,
      mqttPort,
      httpPort,
      nodeId: 'box',
      workers: '2',
    });
    proc = await spawnPlatform(env, 90_000, 'npm start');
    await waitUntil('both workers ready', () => readyCount(proc.output) >= 2, 60_000);
  }, 120_000);
  afterAll(async () => {
    if (proc && proc.child.exitCode === null && proc.child.signalCode === null) {
      proc.child.kill('SIGKILL');
      for (const pid of workerPids(proc.output).values()) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    await redis?.dispose();
    await influx?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers HTTP from both workers on one port, each a node with its own data directory', async () => {
    const nodes = new Set<string>();
    for (let i = 0; i < 12 && nodes.size < 2; i++) {
      const text = await getFresh(`${proc.httpUrl}/metrics`, creds.operator.token);
      const node = /node="([^"]+)"/.exec(text)?.[1];
      if (node) nodes.add(node);
    }
    expect([...nodes].sort()).toEqual(['box-w0', 'box-w1']);
    expect(existsSync(join(dir, 'workers', 'w0', 'log', 'box-w0'))).toBe(true);
    expect(existsSync(join(dir, 'workers', 'w1', 'log', 'box-w1'))).toBe(true);
    expect(existsSync(join(dir, 'workers', 'w1', 'auth.json'))).toBe(true);
  });

  it('restarts a worker killed mid-stream: its devices go on, every acknowledged reading is stored once', async () => {
    const firstTs = Date.now() - 600_000;
    const devices = creds.devices.filter((d) => d.kind === 'air').slice(0, 6);
    const stream = streamReadings({ url: proc.mqttUrl, devices, firstTs, gapMs: 5 });
    const ackedTotal = () => [...stream.acked.values()].reduce((n, s) => n + s.size, 0);
    try {
      await waitUntil('readings acknowledged before the kill', () => ackedTotal() >= 150, 30_000);
      process.kill(workerPids(proc.output).get('box-w0')!, 'SIGKILL');
      const atKill = ackedTotal();
      await waitUntil('the primary restarting the worker', () => readyCount(proc.output) >= 3, 60_000);
      await waitUntil('readings acknowledged after the kill', () => ackedTotal() >= atKill + 150, 30_000);
    } finally {
      await stream.stop();
    }
    expect(stream.connects()).toBeGreaterThan(devices.length); // some devices lost their worker and came back
    expect(proc.output.join('')).toMatch(/worker box-w0 \(pid \d+\) exited \(SIGKILL\)/);
    let result = await checkStoredOnce(http, stream, firstTs);
    await waitUntil('every acknowledged reading in InfluxDB', async () => {
      result = await checkStoredOnce(http, stream, firstTs);
      return result.missing.length === 0;
    });
    expect(result.doubled).toEqual([]);
  }, 120_000);

  it('stops every worker and itself on SIGTERM, cleanly', async () => {
    const pids = [...workerPids(proc.output).values()].filter(alive);
    expect(pids).toHaveLength(2);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
    const text = proc.output.join('');
    expect(text).toMatch(/ioc workers: SIGTERM received: stopping 2 workers/);
    expect(text.match(/"msg":"stopped"/g)).toHaveLength(2);
  }, 60_000);

  it('refuses to start workers without Redis, saying what is missing', async () => {
    const other = mkdtempSync(join(tmpdir(), 'ioc-workers-refused-'));
    try {
      await expect(spawnPlatform({ IOC_DATA_DIR: other, IOC_WORKERS: '2' }, 30_000, 'npm start')).rejects.toThrow(
        /cluster\.workers \(IOC_WORKERS, --workers\) needs cluster\.redis and store\.engine: influxdb/,
      );
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  }, 40_000);
});
