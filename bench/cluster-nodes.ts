import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCity } from '../config/city-config.ts';
import { loadCredentials, type CredentialsFile } from '../config/credentials.ts';
import { loadPlatformConfig } from '../config/platform-config.ts';
import { readyCount, TEST_CLUSTER_SECRET, waitUntil, workerPids } from '../test-support/cluster-fixture.ts';
import { freePort } from '../test-support/free-port.ts';
import { spawnPlatform, type PlatformProcess } from '../test-support/platform-process.ts';

/**
 * The platform as the cluster benchmark runs it: `npm start` (the start bundle) in its own process tree,
 * on the bench city, Redis and InfluxDB, with `workers` platform processes behind one MQTT port (1: the
 * plain process, a one-node cluster). Its CPU time is read from /proc for every process of the tree.
 */
export interface BenchNodes {
  readonly mqttUrl: string;
  /** every pid whose CPU is the platform's: the workers' primary and each worker (or the one process) */
  pids(): number[];
  stop(): Promise<void>;
}

/** The bench city's accounts in a fresh data directory (demo profile: every device gets a secret). */
export function benchAccounts(configFile: string, dataDir: string): CredentialsFile {
  const config = loadPlatformConfig({ env: { IOC_CONFIG: configFile }, overrides: { dataDir } });
  const generated = loadCredentials(dataDir, loadCity(config.cityFile, config.kindsDir), 'demo').generated;
  if (!generated) throw new Error(`${dataDir} had accounts already`);
  return generated;
}

export async function startBenchNodes(o: {
  configFile: string;
  dataDir: string;
  redisUrl: string;
  database: string;
  workers: number;
}): Promise<BenchNodes> {
  const proc: PlatformProcess = await spawnPlatform(
    {
      IOC_CONFIG: o.configFile,
      IOC_DATA_DIR: o.dataDir,
      IOC_REDIS_URL: o.redisUrl,
      IOC_CLUSTER_SECRET: TEST_CLUSTER_SECRET,
      IOC_NODE_ID: 'bench',
      IOC_INFLUX_DATABASE: o.database,
      IOC_WORKERS: String(o.workers),
      IOC_MQTT_PORT: String(await freePort()),
      IOC_HTTP_PORT: String(await freePort()),
      IOC_LOG_FORMAT: 'json',
    },
    90_000,
    'npm start',
  );
  if (o.workers > 1) await waitUntil('every worker ready', () => readyCount(proc.output) >= o.workers, 90_000);
  return {
    mqttUrl: proc.mqttUrl,
    pids: () => [proc.child.pid!, ...workerPids(proc.output).values()],
    async stop() {
      proc.child.kill('SIGTERM');
      await proc.exited;
    },
  };
}

/** CPU µs a process has used so far (utime + stime from /proc, USER_HZ 100); 0 once it is gone. */
export function cpuMicrosOf(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(join('/proc', String(pid), 'stat'), 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return 0;
  }
}
