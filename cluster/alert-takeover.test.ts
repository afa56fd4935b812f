import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { createManualClock } from '../core/clock.ts';
import { freshDatabase } from '../store/influxdb/influx-test-helpers.ts';
import { startInfluxd, type InfluxServer } from '../test-support/influxd.ts';
import { publishAcked, type TestPlatform } from '../test-support/platform-harness.ts';
import { spawnPlatform, type PlatformProcess } from '../test-support/platform-process.ts';
import { startRedis, type RedisServer } from '../test-support/redis-server.ts';
import {
  advanceWatched,
  type ClusterSetup,
  clusterStatus,
  pairEvents,
  startNode,
  type StreamWatch,
  waitFor,
  watchAlerts,
} from './cluster-test-kit.ts';
import { clusterKeys, partitionOf } from './partition-map.ts';
import { TEST_CLUSTER_SECRET } from '../test-support/cluster-fixture.ts';

const CONFIG_DIR = fileURLToPath(new URL('../config/', import.meta.url));
const AIR = ['air-ngomon', 'air-dongba', 'air-gahue', 'air-ancuu', 'air-benhvien', 'air-phubai', 'air-thuanan'];
const MINUTE = 60_000;

/**
 * The owner of a sensor's rule partition is SIGKILLed (a child process) while the sensor's `pm25-spike`
 * alert is pending (`for: 10m`): the surviving node takes the partition over once the lease expires, the
 * same alert fires there when its `for` is over (the survivor runs on a manual clock), and the sensor's
 * silence is counted from its last reading as the dead owner recorded it (no-data rule). One alert each.
 */
describe('a partition owner killed mid-alert', () => {
  let redis: RedisServer;
  let influx: InfluxServer;
  let b: TestPlatform;
  let a: PlatformProcess;
  let setup: ClusterSetup;
  let probe: Redis;
  const clock = createManualClock(Date.now());
  const dirs: string[] = [];

  beforeAll(async () => {
    [redis, influx] = await Promise.all([startRedis(), startInfluxd()]);
    probe = new Redis(redis.url);
    setup = {
      redisUrl: redis.url,
      influxUrl: influx.url,
      database: freshDatabase('takeover'),
      leaseMs: 1500,
      partitions: 8,
    };
    b = await startNode(setup, 'node-b', { clock });
    // node A as a process of its own, on the same accounts, partitions and lease time
    const dir = mkdtempSync(join(tmpdir(), 'ioc-node-a-'));
    dirs.push(dir);
    const dataDir = join(dir, 'data');
    const config = parseYaml(readFileSync(join(CONFIG_DIR, 'default.yaml'), 'utf8')) as Record<string, unknown>;
    config.city = join(CONFIG_DIR, 'cities/hue/city.yaml');
    config.kindsDir = join(CONFIG_DIR, 'kinds');
    config.cluster = { leaseMs: setup.leaseMs, alertPartitions: setup.partitions, keyPrefix: 'ioc:' };
    writeFileSync(join(dir, 'platform.yaml'), stringifyYaml(config));
    mkdirSync(dataDir, { mode: 0o700 });
    for (const file of ['auth.json', 'credentials.json']) copyFileSync(join(b.dataDir, file), join(dataDir, file));
    a = await spawnPlatform({
      IOC_CONFIG: join(dir, 'platform.yaml'),
      IOC_DATA_DIR: dataDir,
      IOC_REDIS_URL: redis.url,
      IOC_CLUSTER_SECRET: TEST_CLUSTER_SECRET,
      IOC_NODE_ID: 'node-a',
      IOC_STORE: 'influxdb',
      IOC_INFLUX_URL: influx.url,
      IOC_INFLUX_DATABASE: setup.database,
    });
    await waitFor('node B to hand half the partitions to node A', async () => {
      const status = await clusterStatus(b);
      const nodeA = status.nodes.find((n) => n.id === 'node-a');
      return status.unowned.length === 0 && nodeA?.partitions.length === setup.partitions / 2 ? status : undefined;
    });
  }, 120_000);
  afterAll(async () => {
    if (a && a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGKILL');
    probe?.disconnect();
    await b?.stop();
    await redis?.dispose();
    await influx?.dispose();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('takes over within the lease time; the pending alert fires on the survivor, once; silence counts on', async () => {
    const owned = (await clusterStatus(b)).nodes.find((n) => n.id === 'node-a')!.partitions;
    const sensor = AIR.find((id) => owned.includes(partitionOf(id, setup.partitions)));
    expect(sensor, `an air sensor in node A's partitions ${owned}`).toBeDefined();
    const p = partitionOf(sensor!, setup.partitions);
    const watch: StreamWatch = await watchAlerts(b);
    // through node B: the reading is evaluated by node A, the owner
    const device = await b.connectDevice(sensor!);
    await publishAcked(device, `ioc/air/${sensor}/readings`, JSON.stringify({ pm25: 210 }));
    await device.endAsync();
    const pending = await waitFor('the pending alert raised by node A', () =>
      watch.events.find((e) => e.alert.ruleId === 'pm25-spike' && e.alert.sensorId === sensor && e.type === 'pending'),
    );
    // node A recorded when the device was last heard of (flushed each second)
    const lastSeen = Number(
      await waitFor('the last-seen time in Redis', () =>
        probe.hget(clusterKeys('ioc:').seen(p), sensor!).then((v) => v ?? undefined),
      ),
    );

    // node B's manual clock started before node A's last reading: bring it to the present first, as the
    // clocks of a cluster's nodes agree (NTP), so silence is counted from node A's time, not capped at B's
    await advanceWatched(clock, Date.now() - clock.now(), watch);
    expect(clock.now()).toBeGreaterThanOrEqual(lastSeen);
    const killedAt = Date.now();
    a.child.kill('SIGKILL');
    await a.exited;
    await waitFor('node B holding every partition', async () => {
      const status = await clusterStatus(b);
      const nodeB = status.nodes.find((n) => n.id === 'node-b');
      return nodeB?.partitions.length === setup.partitions ? true : undefined;
    });
    const takeoverMs = Date.now() - killedAt;
    console.log(
      `takeover after SIGKILL: ${takeoverMs} ms (lease ${setup.leaseMs} ms, renewed every ${setup.leaseMs / 3} ms)`,
    );
    const status = await clusterStatus(b);
    expect(status.nodes.find((n) => n.id === 'node-a')?.alive).toBe(false);

    // the `for` of 10 minutes, counted from the alert's start on node A, completes on node B
    await advanceWatched(clock, 11 * MINUTE, watch);
    await waitFor('the firing event from node B', () =>
      pairEvents(watch.events, 'pm25-spike', sensor!).length >= 2 ? true : undefined,
    );
    expect(pairEvents(watch.events, 'pm25-spike', sensor!)).toEqual([
      `pending:${pending.alert.id}`,
      `firing:${pending.alert.id}`,
    ]);
    const open = await probe.hvals(clusterKeys('ioc:').open(p));
    const pm25Open = open.map(
      (json) => JSON.parse(json) as { id: string; ruleId: string; sensorId: string; state: string },
    );
    expect(pm25Open.filter((x) => x.ruleId === 'pm25-spike' && x.sensorId === sensor)).toEqual([
      expect.objectContaining({ id: pending.alert.id, state: 'firing' }),
    ]);

    // no data since the last reading: silence (30 min) + for (5 min) from when node A last heard it
    await advanceWatched(clock, lastSeen + 36 * MINUTE - clock.now(), watch);
    await waitFor('the no-data alert firing on node B', () =>
      pairEvents(watch.events, 'air-station-offline', sensor!).some((e) => e.startsWith('firing:')) ? true : undefined,
    );
    const noData = pairEvents(watch.events, 'air-station-offline', sensor!);
    const noDataId = noData[0]!.split(':')[1];
    expect(noData).toEqual([`pending:${noDataId}`, `firing:${noDataId}`]);
    const firing = watch.events.find((e) => e.type === 'firing' && e.alert.id === noDataId)!;
    expect(firing.alert.startsAt).toBe(lastSeen + 30 * MINUTE);
    watch.close();
  });
});
