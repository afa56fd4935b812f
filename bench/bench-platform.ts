import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { pino } from 'pino';
import { CONFIG_DIR, type PlatformConfigInput } from '../config/platform-config.ts';
import { startPlatform, type Platform } from '../platform.ts';

/**
 * A city of `devices` air stations (bench-air-0...) in `dir`, so every load client is a real, authenticated
 * device; returns the platform config file, with `platformLines` added to it (a store, say).
 */
export function writeBenchCity(dir: string, devices: number, platformLines: readonly string[] = []): string {
  const cityDir = join(dir, 'city');
  mkdirSync(join(cityDir, 'rules'), { recursive: true });
  cpSync(join(CONFIG_DIR, 'kinds'), join(dir, 'kinds'), { recursive: true });
  const sensors = Array.from(
    { length: devices },
    (_, i) =>
      `  - { id: bench-air-${i}, kind: air, name: "Bench ${i}", lat: 16.46, lon: 107.59, district: "Phú Xuân" }`,
  );
  writeFileSync(join(cityDir, 'sensors.yaml'), `sensors:\n${sensors.join('\n')}\n`);
  writeFileSync(
    join(cityDir, 'city.yaml'),
    'id: bench\nname: { vi: "Bench", en: "Bench" }\ntimezone: Asia/Ho_Chi_Minh\n' +
      'center: { lat: 16.46, lon: 107.59 }\nsensors: sensors.yaml\nrules: rules\n',
  );
  writeFileSync(
    join(dir, 'platform.yaml'),
    ['city: city/city.yaml', 'kindsDir: kinds', ...platformLines, ''].join('\n'),
  );
  return join(dir, 'platform.yaml');
}

/**
 * The platform as the ingest benchmarks run it: the bench city on free ports, a fresh data directory, no demo fleet.
 */
export async function startBenchPlatform(
  devices: number,
  overrides: PlatformConfigInput = {},
  options: { rulesYaml?: string; platformLines?: readonly string[]; logDir?: string } = {},
): Promise<{ platform: Platform; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-bench-'));
  // the commit log on another file system (a disk of its own, as docs/operations.md advises): `<dataDir>/log`
  // is a link to a fresh directory there
  const logDir = options.logDir ? mkdtempSync(join(options.logDir, 'ioc-bench-log-')) : undefined;
  if (logDir) {
    mkdirSync(join(dir, 'data'), { recursive: true });
    symlinkSync(logDir, join(dir, 'data', 'log'));
  }
  const configFile = writeBenchCity(dir, devices, options.platformLines);
  if (options.rulesYaml) writeFileSync(join(dir, 'city', 'rules', 'bench.yaml'), options.rulesYaml);
  const platform = await startPlatform({
    env: { IOC_CONFIG: configFile },
    overrides: {
      dataDir: join(dir, 'data'),
      mqtt: { port: 0, host: '127.0.0.1' },
      http: { port: 0, host: '127.0.0.1' },
      demo: { enabled: false },
      ingest: { maxAgeDays: 30, maxFutureSkewSeconds: 300, maxReadingsPerPublish: 1000 },
      // a capacity bench: each bench device publishes as fast as the platform acknowledges, far above a real device's
      // rate
      limits: { devicePublishesPerSecond: 1_000_000_000, devicePublishBurst: 1_000_000_000 },
      ...overrides,
    },
    logger: pino({ level: 'warn' }),
  });
  return {
    platform,
    async close() {
      await platform.close();
      rmSync(dir, { recursive: true, force: true });
      if (logDir) rmSync(logDir, { recursive: true, force: true });
    },
  };
}

/** Resolves once the platform's store has applied everything the commit log holds (polled every `pollMs`). */
export async function storeCaughtUp(platform: Pick<Platform, 'feeder'>, pollMs = 5): Promise<void> {
  while (platform.feeder.state().lagBytes > 0) await new Promise((r) => setTimeout(r, pollMs));
}

/** The bench devices with their credentials, as the load generators take them. */
export function benchDeviceList(
  platform: Platform,
): Array<{ sensorId: string; kind: string; username: string; password: string }> {
  return platform.credentials!.devices.map((d) => ({
    sensorId: d.sensorId,
    kind: d.kind,
    username: d.username,
    password: d.password,
  }));
}

/** A bare Aedes broker (no authentication, no hooks) on a free port, and the bench devices as it sees them. */
export async function startBareBroker(devices: number): Promise<{
  url: string;
  devices: Array<{ sensorId: string; kind: string }>;
  close(): Promise<void>;
}> {
  const aedes = await Aedes.createBroker();
  const tcp = createServer(aedes.handle);
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', () => r()));
  return {
    url: `mqtt://127.0.0.1:${(tcp.address() as { port: number }).port}`,
    devices: Array.from({ length: devices }, (_, i) => ({ sensorId: `bench-air-${i}`, kind: 'air' })),
    async close() {
      await new Promise<void>((r) => aedes.close(() => r()));
      tcp.close();
    },
  };
}

export interface CpuUsed {
  /** µs, every thread of this process */
  micros: number;
  /** µs on the main thread (the broker's event loop), where /proc tells (Linux) */
  mainThreadMicros?: number;
}

/** Starts counting this process's CPU; the function returned says how much was used since. */
export function cpuMeter(): () => CpuUsed {
  const start = process.cpuUsage();
  const mainStart = mainThreadMicros();
  return () => {
    const used = process.cpuUsage(start);
    const main = mainThreadMicros();
    return {
      micros: used.user + used.system,
      mainThreadMicros: main === undefined || mainStart === undefined ? undefined : main - mainStart,
    };
  };
}

/** CPU µs of each thread of this process so far, by thread id (Linux /proc; empty elsewhere). */
export function threadMicros(): Map<string, number> {
  const threads = new Map<string, number>();
  let ids: string[];
  try {
    ids = readdirSync('/proc/self/task');
  } catch {
    return threads;
  }
  for (const id of ids) {
    try {
      const stat = readFileSync(`/proc/self/task/${id}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      threads.set(id, ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100);
    } catch {
      // the thread ended meanwhile
    }
  }
  return threads;
}

function mainThreadMicros(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // utime + stime, in USER_HZ (100) ticks
  } catch {
    return undefined;
  }
}
