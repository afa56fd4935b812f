import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startPlatform, type Platform } from '../platform.ts';
import { startInfluxd } from '../test-support/influxd.ts';
import { writeBenchCity, storeCaughtUp } from './bench-platform.ts';
import { benchLine, influxql, postLines, storedCount } from './influx-bench-kit.ts';
import { runLoadProcess } from './load-process.ts';
import { median } from './bench-stats.ts';

/**
 * Readings stored per second into InfluxDB through the platform, beside the raw `/write` rate of the same
 * influxd with the same batch size, measured in the same run:
 * - raw: the same points as prebuilt line protocol, POSTed to /write `batch` lines at a time (one request
 *   in flight, and as many in flight as the adapter uses for one feeder batch; the faster median is the
 *   baseline);
 * - live: devices publish QoS 1 readings over MQTT (JSON arrays of `per-publish` readings, as a gateway or
 *   a device catching up does); the clock runs from the first publish until the last reading is in InfluxDB;
 * - replay: the same load is acknowledged while influxd is down (the commit log spools it); influxd
 *   starts and the backlog is written: the store path (log -> feeder -> adapter -> InfluxDB) alone.
 * Wall-clock rates swing with whatever else runs on a shared machine, so each path also reports the CPU
 * time it costs per reading (this process: the platform or the raw client; and influxd), and the rate
 * that cost allows on the machine's cores when nothing else runs: a figure neighbours do not move.
 *
 *   npm run bench -- influx [--devices 50] [--count 4000] [--per-publish 100] [--window 8] [--batch 5000] [--rounds 3]
 */
const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '50' },
    count: { type: 'string', default: '4000' },
    window: { type: 'string', default: '8' },
    batch: { type: 'string', default: '5000' },
    'per-publish': { type: 'string', default: '100' },
    rounds: { type: 'string', default: '3' },
  },
});
const devices = Number(values.devices);
const count = Number(values.count);
const window = Number(values.window);
const batchSize = Number(values.batch);
const perPublish = Number(values['per-publish']);
const rounds = Number(values.rounds);
const total = devices * count;
/** the feeder hands the adapter up to 20 000 points per write; the adapter sends them as parallel batches */
const adapterParallel = Math.max(1, Math.ceil(20_000 / batchSize));
const LOAD = fileURLToPath(new URL('./influx-load.ts', import.meta.url));
const base = Date.now() - 60 * 60_000;

const influx = await startInfluxd({ own: true });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CORES = availableParallelism();

/** CPU µs used so far by this process (all its threads) and by influxd (from /proc; USER_HZ is 100). */
function cpuNow(): { node: number; influxd: number } {
  const usage = process.cpuUsage();
  const pid = influx.pid();
  let influxd = 0;
  if (pid) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    influxd = (Number(fields[11]) + Number(fields[12])) * 10_000;
  }
  return { node: usage.user + usage.system, influxd };
}

interface Measured {
  /** readings per wall-clock second */
  rate: number;
  /** CPU µs per reading: this process, influxd */
  nodeUs: number;
  influxdUs: number;
}

function measured(readings: number, seconds: number, from: { node: number; influxd: number }): Measured {
  const to = cpuNow();
  return {
    rate: readings / seconds,
    nodeUs: (to.node - from.node) / readings,
    influxdUs: (to.influxd - from.influxd) / readings,
  };
}

/** The readings influx-load.ts publishes, as the platform stores them (same tags, fields and timestamps). */
function rawLines(): string[] {
  const lines: string[] = [];
  for (let d = 0; d < devices; d++) {
    for (let n = 0; n < count; n++) {
      lines.push(benchLine(d, n, base));
    }
  }
  return lines;
}

async function rawRate(db: string, parallel: number): Promise<Measured> {
  await influxql(influx.url, '', `CREATE DATABASE "${db}"`);
  const lines = rawLines();
  const bodies: string[] = [];
  for (let i = 0; i < lines.length; i += batchSize) bodies.push(lines.slice(i, i + batchSize).join('\n'));
  let next = 0;
  const cpu = cpuNow();
  const started = performance.now();
  await postLines(influx.url, db, () => bodies[next++], parallel);
  return measured(total, (performance.now() - started) / 1000, cpu);
}

const runLoad = (input: object) => runLoadProcess(LOAD, input);

/** The bench city, its readings stored in the benchmark's influxd database. */
function benchConfig(dir: string, database: string): string {
  return writeBenchCity(dir, devices, [
    'store:',
    '  engine: influxdb',
    '  log: { maxBytes: 4294967296 }',
    `  influxdb: { url: "${influx.url}", database: ${database}, batchSize: ${batchSize}, timeoutMs: 30000 }`,
  ]);
}

async function withPlatform<T>(database: string, run: (p: Platform) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-influx-bench-'));
  const platform = await startPlatform({
    env: { IOC_CONFIG: benchConfig(dir, database) },
    overrides: {
      dataDir: join(dir, 'data'),
      mqtt: { port: 0, host: '127.0.0.1' },
      http: { port: 0, host: '127.0.0.1' },
      demo: { enabled: false },
      // a capacity bench: each bench device publishes as fast as the platform acknowledges
      limits: { devicePublishesPerSecond: 1_000_000_000, devicePublishBurst: 1_000_000_000 },
    },
    logger: pino({ level: 'error' }),
  });
  try {
    return await run(platform);
  } finally {
    await platform.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const loadFor = (p: Platform) => ({
  url: p.mqttUrl,
  count,
  window,
  perPublish,
  base,
  devices: p.credentials!.devices.map((d) => ({
    sensorId: d.sensorId,
    kind: d.kind,
    username: d.username,
    password: d.password,
  })),
});

/** The clock runs from the first publish (inside the load process) until the last reading is in InfluxDB. */
async function liveRate(db: string): Promise<Measured & { ack: number }> {
  return withPlatform(db, async (p) => {
    const cpu = cpuNow();
    const load = await runLoad(loadFor(p));
    const loadDone = performance.now();
    await storeCaughtUp(p);
    const seconds = load.seconds + (performance.now() - loadDone) / 1000;
    const result = measured(total, seconds, cpu);
    const stored = await storedCount(influx.url, db);
    if (stored !== total) throw new Error(`live: ${stored} of ${total} readings in InfluxDB`);
    return { ...result, ack: load.acked / load.seconds };
  });
}

async function replayRate(db: string): Promise<Measured> {
  return withPlatform(db, async (p) => {
    await influx.stop();
    await runLoad(loadFor(p));
    await influx.start();
    // the feeder is in its retry backoff: start the clock at its first write, and count what follows it
    let before = p.feeder.state().written;
    while (before === 0) {
      await sleep(2);
      before = p.feeder.state().written;
    }
    const cpu = cpuNow();
    const started = performance.now();
    await storeCaughtUp(p);
    const result = measured(total - before, (performance.now() - started) / 1000, cpu);
    const stored = await storedCount(influx.url, db);
    if (stored !== total) throw new Error(`replay: ${stored} of ${total} readings in InfluxDB`);
    return result;
  });
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

interface Summary {
  rate: number;
  nodeUs: number;
  influxdUs: number;
  cpuBound: number;
}
function summarise(runs: Measured[]): Summary {
  const nodeUs = median(runs.map((r) => r.nodeUs));
  const influxdUs = median(runs.map((r) => r.influxdUs));
  return { rate: median(runs.map((r) => r.rate)), nodeUs, influxdUs, cpuBound: (CORES * 1e6) / (nodeUs + influxdUs) };
}

try {
  // rounds interleave the baseline and the platform, so a busy neighbour on the machine hits both alike
  const raw1: Measured[] = [];
  const rawN: Measured[] = [];
  const replay: Measured[] = [];
  const live: Array<Measured & { ack: number }> = [];
  for (let r = 1; r <= rounds; r++) {
    raw1.push(await rawRate(`bench_raw1_${r}`, 1));
    rawN.push(await rawRate(`bench_rawn_${r}`, adapterParallel));
    replay.push(await replayRate(`bench_replay_${r}`));
    live.push(await liveRate(`bench_live_${r}`));
  }
  const rows: Array<[string, Summary, Measured[]]> = [
    ['raw /write, 1 in flight', summarise(raw1), raw1],
    [`raw /write, ${adapterParallel} in flight`, summarise(rawN), rawN],
    ['platform replay (log -> InfluxDB)', summarise(replay), replay],
    ['platform live (MQTT -> InfluxDB)', summarise(live), live],
  ];
  const baseline = rows[0]![1].rate > rows[1]![1].rate ? rows[0]![1] : rows[1]![1];
  console.log(
    `influx benchmark: influxd ${(await fetch(`${influx.url}/ping`)).headers.get('x-influxdb-version')}, ` +
      `${devices} devices x ${count} readings (4 fields), ${perPublish} readings per publish, ` +
      `batch ${batchSize} lines, ${rounds} rounds, ${CORES} cores, ${new Date().toISOString()}`,
  );
  console.log(
    '  path                               readings/s  ratio   CPU µs/reading (here + influxd)  CPU-bound ' +
      'readings/s  ratio   rounds (readings/s)',
  );
  for (const [name, s, runs] of rows) {
    console.log(
      `  ${name.padEnd(34)} ${fmt(s.rate).padStart(10)}  ${(s.rate / baseline.rate).toFixed(2).padStart(5)}   ` +
        `${s.nodeUs.toFixed(1).padStart(6)} + ${s.influxdUs.toFixed(1).padStart(5)}` +
        `                 ${fmt(s.cpuBound).padStart(10)}  ` +
        `${(s.cpuBound / baseline.cpuBound).toFixed(2).padStart(5)}   ` +
        `${runs.map((r) => fmt(r.rate)).join(' / ')}`,
    );
  }
  console.log(
    `  live: acknowledged at ${live.map((l) => fmt(l.ack)).join(' / ')} readings/s; the baseline is the faster raw row`,
  );
} finally {
  await influx.dispose();
}
