import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
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
  streamReadings,
  waitUntil,
} from '../test-support/cluster-fixture.ts';
import { freePort } from '../test-support/free-port.ts';
import { HAPROXY_SOURCE_ADDRESS, startHaproxy, type Haproxy, type HaproxyNode } from '../test-support/haproxy.ts';
import { startInfluxd, type InfluxServer } from '../test-support/influxd.ts';
import { spawnPlatform, type PlatformProcess } from '../test-support/platform-process.ts';
import { startRedis, type RedisServer } from '../test-support/redis-server.ts';

/**
 * Issue 17 item 3, the failure that matters: two node processes (`npm start`) behind the shipped
 * deploy/haproxy.cfg on a real HAProxy, real Redis and InfluxDB; devices connect through HAProxy only; one
 * node is SIGKILLed mid-stream and later restarted with its data directory.
 */
describe('a node killed behind HAProxy', () => {
  let redis: RedisServer;
  let influx: InfluxServer;
  let haproxy: Haproxy;
  let http: InfluxHttp;
  let creds: CredentialsFile;
  const nodes: HaproxyNode[] = [];
  const procs = new Map<string, PlatformProcess>();
  const envs = new Map<string, Record<string, string>>();
  const dirs: string[] = [];
  const database = freshDatabase('haproxy');

  beforeAll(async () => {
    [redis, influx] = await Promise.all([startRedis(), startInfluxd()]);
    http = new InfluxHttp(influxConfig({ url: influx.url, database }));
    for (const name of ['node-a', 'node-b']) {
      const dataDir = mkdtempSync(join(tmpdir(), `ioc-${name}-`));
      dirs.push(dataDir);
      const node = { name, mqttPort: await freePort(), httpPort: await freePort() };
      nodes.push(node);
      if (name === 'node-a') creds = makeClusterAccounts(dataDir);
      // the nodes of a cluster share their accounts and device secrets (docs/cluster.md)
      else for (const f of ['auth.json', 'credentials.json']) copyFileSync(join(dirs[0]!, f), join(dataDir, f));
      envs.set(
        name,
        clusterNodeEnv({
          redisUrl: redis.url,
          influxUrl: influx.url,
          database,
          dataDir,
          nodeId: name,
          // the shipped file sends a PROXY header to the MQTT ports: the nodes must trust HAProxy's address
          trustedProxy: HAPROXY_SOURCE_ADDRESS,
          ...node,
        }),
      );
    }
    await Promise.all(
      nodes.map(async (n) => procs.set(n.name, await spawnPlatform(envs.get(n.name)!, 60_000, 'npm start'))),
    );
    haproxy = await startHaproxy(nodes);
  }, 90_000);
  afterAll(async () => {
    await haproxy?.dispose();
    await Promise.all(
      [...procs.values()].map(async (p) => {
        if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
        await p.exited;
      }),
    );
    await redis?.dispose();
    await influx?.dispose();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('sends all of one device’s HTTP readings to one node, so its message budget is that node’s', async () => {
    const [first, second] = creds.devices.filter((d) => d.kind === 'air');
    // readings received by each node (no device publishes over MQTT before this test)
    const httpReceived = async (node: string) => {
      const text = await fetch(`${procs.get(node)!.httpUrl}/metrics`, {
        headers: { authorization: `Bearer ${creds.operator.token}` },
      }).then((r) => r.text());
      return Number(/^ioc_messages_received_total\{[^}]*channel="readings"[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
    };
    const before = [await httpReceived('node-a'), await httpReceived('node-b')];
    // the same path written other ways, as the nodes read it (decoded): it must not reach another node
    const spellings = (id: string) => {
      const hex = id.charCodeAt(0).toString(16);
      return [
        `/api/ingest/air/${id}/readings`,
        `/api/ingest/air/%${hex}${id.slice(1)}/readings`,
        `/api/ingest/air/%${hex.toUpperCase()}${id.slice(1)}/readings`,
        `/api/%69ngest/air/${id}/readings`,
        `/api/ingest/%61ir/${id}/readings?x=1`,
      ];
    };
    const post = async (device: typeof first, i: number) => {
      const path = spellings(device!.sensorId)[i % 5]!;
      const res = await fetch(`${haproxy.httpUrl}${path}`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${device!.sensorId}:${device!.password}`).toString('base64')}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ ts: Date.now() - 900_000 + i, pm25: 10 + i }),
      });
      expect(res.status, `${path}: ${await res.text()}`).toBe(200);
    };
    for (let i = 0; i < 10; i++) await post(first, i);
    const after = [await httpReceived('node-a'), await httpReceived('node-b')];
    // round robin would have split them 5 and 5; hashing the raw path, by spelling
    expect([after[0]! - before[0]!, after[1]! - before[1]!].sort((x, y) => x - y)).toEqual([0, 10]);
    for (let i = 0; i < 4; i++) await post(second, i);
    const total = (await httpReceived('node-a')) + (await httpReceived('node-b'));
    expect(total - before[0]! - before[1]!).toBe(14);
  });

  it("moves the killed node's devices to the other; after its restart each acked reading is stored once", async () => {
    const firstTs = Date.now() - 600_000;
    const devices = creds.devices.filter((d) => d.kind === 'air').slice(0, 6);
    const stream = streamReadings({ url: haproxy.mqttUrl, devices, firstTs, gapMs: 5 });
    const acked = (id: string) => stream.acked.get(id)?.size ?? 0;
    const total = () => devices.reduce((n, d) => n + acked(d.sensorId), 0);
    let atKill = new Map<string, number>();
    try {
      await waitUntil('readings acknowledged through HAProxy', () => devices.every((d) => acked(d.sensorId) >= 30));
      // leastconn spread the devices: node A had some of them when it was killed
      const metrics = await fetch(`${procs.get('node-a')!.httpUrl}/metrics`, {
        headers: { authorization: `Bearer ${creds.operator.token}` },
      }).then((r) => r.text());
      expect(Number(/^ioc_mqtt_clients\{[^}]*\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
      procs.get('node-a')!.child.kill('SIGKILL');
      atKill = new Map(devices.map((d) => [d.sensorId, acked(d.sensorId)]));
      expect(await procs.get('node-a')!.exited).toBe('SIGKILL');
      // every device, those that were on node A too, goes on through HAProxy to node B
      await waitUntil(
        'every device acknowledged again after the kill',
        () => devices.every((d) => acked(d.sensorId) >= atKill.get(d.sensorId)! + 30),
        30_000,
      );
      // node A back with its data directory: it drains what it acknowledged and takes devices again
      procs.set('node-a', await spawnPlatform(envs.get('node-a')!, 60_000, 'npm start'));
      const afterRestart = total();
      await waitUntil('readings acknowledged after the restart', () => total() >= afterRestart + 100);
    } finally {
      await stream.stop();
    }
    expect(stream.connects()).toBeGreaterThan(devices.length);
    let result = await checkStoredOnce(http, stream, firstTs);
    await waitUntil('every acknowledged reading in InfluxDB', async () => {
      result = await checkStoredOnce(http, stream, firstTs);
      return result.missing.length === 0;
    });
    expect(result.missing).toEqual([]);
    expect(result.doubled).toEqual([]);
    expect(result.stored).toBeGreaterThanOrEqual(total());
  }, 90_000);
});
