import mqtt, { type MqttClient } from 'mqtt';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadCity } from '../config/city-config.ts';
import { loadCredentials, type CredentialsFile } from '../config/credentials.ts';
import { loadPlatformConfig } from '../config/platform-config.ts';
import type { InfluxHttp } from '../store/influxdb/influx-http.ts';

/**
 * What the cluster process tests share (cluster/workers.test.ts, cluster/haproxy-failover.test.ts): a data
 * directory with the default city's accounts, the environment of a node on Redis and InfluxDB, devices
 * that publish acknowledged readings and go on through reconnects, and the count of what InfluxDB holds.
 */
export function makeClusterAccounts(dataDir: string): CredentialsFile {
  const config = loadPlatformConfig({ env: {}, overrides: { dataDir } });
  const city = loadCity(config.cityFile, config.kindsDir);
  const result = loadCredentials(dataDir, city, 'demo');
  if (!result.generated) throw new Error(`${dataDir} had accounts already`);
  return result.generated;
}

/** the key the test nodes of one cluster share (cluster.secret: forwarded alert actions are signed with it) */
export const TEST_CLUSTER_SECRET = 'ioc-test-cluster-secret-shared-by-every-node-0123456789';

export function clusterNodeEnv(o: {
  redisUrl: string;
  influxUrl: string;
  database: string;
  dataDir: string;
  mqttPort: number;
  httpPort: number;
  nodeId?: string;
  workers?: string;
  /** the balancer's address, trusted for PROXY headers and X-Forwarded-For (config/trusted-proxies.ts) */
  trustedProxy?: string;
}): Record<string, string> {
  return {
    IOC_REDIS_URL: o.redisUrl,
    IOC_CLUSTER_SECRET: TEST_CLUSTER_SECRET,
    IOC_STORE: 'influxdb',
    IOC_INFLUX_URL: o.influxUrl,
    IOC_INFLUX_DATABASE: o.database,
    IOC_DATA_DIR: o.dataDir,
    IOC_MQTT_PORT: String(o.mqttPort),
    IOC_HTTP_PORT: String(o.httpPort),
    IOC_LOG_FORMAT: 'json',
    ...(o.nodeId ? { IOC_NODE_ID: o.nodeId } : {}),
    ...(o.workers ? { IOC_WORKERS: o.workers } : {}),
    ...(o.trustedProxy ? { IOC_MQTT_TRUSTED_PROXIES: o.trustedProxy, IOC_HTTP_TRUSTED_PROXIES: o.trustedProxy } : {}),
  };
}

/** How many "platform ready" lines a process's JSON log output holds (a workers' primary shows one per start). */
export function readyCount(output: readonly string[]): number {
  return output.join('').match(/"msg":"platform ready"/g)?.length ?? 0;
}

/** The pid of each worker a workers' primary started, by node id (the latest start of each). */
export function workerPids(output: readonly string[]): Map<string, number> {
  const pids = new Map<string, number>();
  for (const m of output.join('').matchAll(/ioc workers: worker (\S+) started \(pid (\d+)\)/g)) {
    pids.set(m[1]!, Number(m[2]));
  }
  return pids;
}

export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * One device per sensor, publishing QoS 1 readings one after another with distinct timestamps. A reading
 * whose PUBACK never came (the node died) is sent again, same timestamp, once the client is back (through
 * whichever node): the platform must store it once. `acked` is what the devices were told is stored.
 */
export interface DeviceStream {
  readonly acked: Map<string, Set<number>>;
  readonly sent: Map<string, Set<number>>;
  /** connections opened (first ones and reconnects) */
  connects(): number;
  stop(): Promise<void>;
}

export function streamReadings(o: {
  url: string;
  devices: ReadonlyArray<{ sensorId: string; password: string }>;
  firstTs: number;
  /** pause between readings of one device */
  gapMs: number;
}): DeviceStream {
  const acked = new Map<string, Set<number>>();
  const sent = new Map<string, Set<number>>();
  const clients: MqttClient[] = [];
  let connects = 0;
  let running = true;
  const loops = o.devices.map(async ({ sensorId, password }) => {
    acked.set(sensorId, new Set());
    sent.set(sensorId, new Set());
    const client = mqtt.connect(o.url, {
      username: sensorId,
      password,
      clientId: `${sensorId}-stream`,
      reconnectPeriod: 100,
      connectTimeout: 3000,
    });
    client.on('connect', () => connects++);
    client.on('error', () => undefined); // reconnects follow; refusals show as missing acks
    clients.push(client);
    let seq = 0;
    while (running) {
      const ts = o.firstTs + seq;
      sent.get(sensorId)!.add(ts);
      const ok = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 5000);
        client.publish(
          `ioc/air/${sensorId}/readings`,
          JSON.stringify({ ts, pm25: 10 + (seq % 50) }),
          { qos: 1 },
          (err) => {
            clearTimeout(timer);
            resolve(!err);
          },
        );
      });
      if (ok) {
        acked.get(sensorId)!.add(ts);
        seq++;
        await sleep(o.gapMs);
      } else {
        await sleep(100);
      }
    }
  });
  return {
    acked,
    sent,
    connects: () => connects,
    async stop() {
      running = false;
      await Promise.all(loops);
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    },
  };
}

/** How many points each timestamp of a sensor has in InfluxDB's "air" measurement, from `fromTs` on. */
export async function storedCounts(influx: InfluxHttp, sensorId: string, fromTs: number): Promise<Map<number, number>> {
  const [result] = await influx.query([
    `SELECT "pm25" FROM "air" WHERE "sensorId" = '${sensorId}' AND time >= ${fromTs}ms`,
  ]);
  const counts = new Map<number, number>();
  for (const series of result?.series ?? []) {
    for (const row of series.values) {
      const ts = Number(row[0]);
      counts.set(ts, (counts.get(ts) ?? 0) + 1);
    }
  }
  return counts;
}

/** Acknowledged readings InfluxDB lacks, and timestamps it holds more than once, over every device. */
export async function checkStoredOnce(influx: InfluxHttp, stream: DeviceStream, fromTs: number) {
  const missing: string[] = [];
  const doubled: string[] = [];
  let stored = 0;
  for (const [sensorId, acked] of stream.acked) {
    const counts = await storedCounts(influx, sensorId, fromTs);
    for (const ts of acked) if (!counts.has(ts)) missing.push(`${sensorId}@${ts}`);
    for (const [ts, n] of counts) {
      stored += n;
      if (n > 1) doubled.push(`${sensorId}@${ts} x${n}`);
    }
  }
  return { missing, doubled, stored };
}
