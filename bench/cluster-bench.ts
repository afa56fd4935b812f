import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startInfluxd } from '../test-support/influxd.ts';
import { startRedis } from '../test-support/redis-server.ts';
import { startBareBroker, writeBenchCity } from './bench-platform.ts';
import { benchAccounts, cpuMicrosOf, startBenchNodes } from './cluster-nodes.ts';
import { benchLine, influxql, postLines, waitStored } from './influx-bench-kit.ts';
import { runLoadProcess } from './load-process.ts';
import { median } from './bench-stats.ts';

/**
 * Issue 17 item 2: readings per second stored (QoS 1, acknowledged, then counted in InfluxDB) by the
 * platform as 1 and 2 worker processes on this box (`cluster.workers`, Redis for the broker state), beside
 * two baselines measured in the same run: a bare Aedes broker's acknowledged rate (no authentication, no
 * storage) and InfluxDB's raw `/write` rate for the same points. Rounds interleave every path, so a busy
 * neighbour on a shared machine hits each alike; every path is warmed up first (a fifth of the load, not
 * counted). CPU µs per reading says where the time goes (the platform's processes, Redis, influxd): on a
 * machine others share it moves much less than the rates, and it decides how far a bigger box goes.
 *
 *   npm run bench -- cluster [--devices 10] [--count 3000] [--window 32] [--workers 1,2] [--rounds 3] [--batch 5000]
 */
const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '10' },
    count: { type: 'string', default: '3000' },
    window: { type: 'string', default: '32' },
    workers: { type: 'string', default: '1,2' },
    rounds: { type: 'string', default: '3' },
    batch: { type: 'string', default: '5000' },
  },
});
const devices = Number(values.devices);
const count = Number(values.count);
const window = Number(values.window);
const workerCounts = values.workers.split(',').map(Number);
const rounds = Number(values.rounds);
const batchSize = Number(values.batch);
const total = devices * count;
const LOAD = fileURLToPath(new URL('./mqtt-load.ts', import.meta.url));
const CORES = availableParallelism();

const [influx, redis] = await Promise.all([startInfluxd({ own: true }), startRedis()]);
const dir = mkdtempSync(join(tmpdir(), 'ioc-cluster-bench-'));
const configFile = writeBenchCity(dir, devices, [
  'store:',
  '  engine: influxdb',
  '  log: { maxBytes: 4294967296 }',
  `  influxdb: { url: "${influx.url}", database: bench, batchSize: ${batchSize}, timeoutMs: 30000 }`,
  // a capacity bench: each bench device publishes as fast as it is acknowledged
  'limits: { devicePublishesPerSecond: 1000000000, devicePublishBurst: 1000000000 }',
]);
const accountsDir = join(dir, 'accounts');
const creds = benchAccounts(configFile, accountsDir);
const loadDevices = creds.devices.map((d) => ({
  sensorId: d.sensorId,
  kind: d.kind,
  username: d.username,
  password: d.password,
}));

interface Run {
  /** readings per wall-clock second: stored (counted in InfluxDB) or, for bare Aedes, acknowledged */
  rate: number;
  ackRate?: number;
  /** CPU µs per reading: the server under test, Redis, influxd */
  serverUs: number;
  redisUs: number;
  influxdUs: number;
}

function cpuSnapshot(pids: () => number[]) {
  const read = () => ({
    server: pids().reduce((n, pid) => n + cpuMicrosOf(pid), 0),
    redis: cpuMicrosOf(redis.pid()),
    influxd: cpuMicrosOf(influx.pid()),
  });
  const from = read();
  return (readings: number) => {
    const to = read();
    return {
      serverUs: (to.server - from.server) / readings,
      redisUs: (to.redis - from.redis) / readings,
      influxdUs: (to.influxd - from.influxd) / readings,
    };
  };
}

async function bareAedes(): Promise<Run> {
  const { url, close } = await startBareBroker(devices);
  await runLoadProcess(LOAD, { url, devices: loadDevices, count: Math.ceil(count / 5), window }); // warm-up, as below
  const cpu = cpuSnapshot(() => [process.pid]);
  const load = await runLoadProcess(LOAD, { url, devices: loadDevices, count, window });
  const used = cpu(load.acked);
  await close();
  return { rate: load.acked / load.seconds, ...used };
}

/** The same points as the platform stores them, POSTed to /write `batch` lines at a time, 4 requests in flight. */
async function rawWrite(db: string): Promise<Run> {
  await influxql(influx.url, '', `CREATE DATABASE "${db}"`);
  const base = Date.now() - 60 * 60_000;
  const bodies: string[] = [];
  let lines: string[] = [];
  for (let d = 0; d < devices; d++) {
    for (let n = 0; n < count; n++) {
      lines.push(benchLine(d, n, base));
      if (lines.length === batchSize) {
        bodies.push(lines.join('\n'));
        lines = [];
      }
    }
  }
  if (lines.length) bodies.push(lines.join('\n'));
  const cpu = cpuSnapshot(() => []);
  const started = performance.now();
  let next = 0;
  await postLines(influx.url, db, () => bodies[next++], 4);
  return { rate: total / ((performance.now() - started) / 1000), ...cpu(total) };
}

/** Devices publish through the platform's one MQTT port; the clock stops when InfluxDB holds every reading. */
async function platform(workers: number, db: string): Promise<Run> {
  const dataDir = join(dir, db);
  mkdirSync(dataDir, { mode: 0o700 });
  for (const f of ['auth.json', 'credentials.json']) copyFileSync(join(accountsDir, f), join(dataDir, f));
  const nodes = await startBenchNodes({ configFile, dataDir, redisUrl: redis.url, database: db, workers });
  try {
    // a warm-up a fifth as long, two hours back (its timestamps never meet the measured ones), so every
    // worker's hot path is compiled before the clock runs: otherwise N workers pay N warm-ups in the figures
    const warm = Math.ceil(count / 5);
    const loadInput = { url: nodes.mqttUrl, devices: loadDevices, window };
    await runLoadProcess(LOAD, { ...loadInput, count: warm, base: Date.now() - 2 * 3_600_000 });
    await waitStored(influx.url, db, devices * warm);
    const cpu = cpuSnapshot(() => nodes.pids());
    const load = await runLoadProcess(LOAD, { ...loadInput, count, base: Date.now() - 3_600_000 });
    const { stored } = await waitStored(influx.url, db, devices * warm + total);
    const seconds = (Date.now() - load.startedAt!) / 1000;
    const used = cpu(total);
    if (stored !== devices * warm + total) {
      throw new Error(`${workers} workers: ${stored - devices * warm} of ${total} readings in InfluxDB`);
    }
    return { rate: total / seconds, ackRate: load.acked / load.seconds, ...used };
  } finally {
    await nodes.stop();
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const us = (n: number) => n.toFixed(1).padStart(5);

try {
  const rows = new Map<string, Run[]>();
  const add = (name: string, run: Run) => rows.set(name, [...(rows.get(name) ?? []), run]);
  for (let r = 1; r <= rounds; r++) {
    add('bare Aedes (acknowledged)', await bareAedes());
    add('raw InfluxDB /write', await rawWrite(`bench_raw_${r}`));
    for (const w of workerCounts)
      add(`platform, ${w} worker${w > 1 ? 's' : ''}`, await platform(w, `bench_w${w}_${r}`));
  }
  const rateOf = (name: string) => median(rows.get(name)!.map((x) => x.rate));
  const bare = rateOf('bare Aedes (acknowledged)');
  const raw = rateOf('raw InfluxDB /write');
  console.log(
    `cluster benchmark: ${devices} devices x ${count} readings ` +
      `(4 fields), one reading per QoS 1 publish, ${window} in ` +
      `flight per device, ${rounds} rounds, ${CORES} cores, ${new Date().toISOString()}`,
  );
  console.log(
    '  path                         readings/s  x bare  x raw   ' +
      'CPU µs/reading (server + redis + influxd)  rounds (readings/s)',
  );
  for (const [name, runs] of rows) {
    const rate = median(runs.map((x) => x.rate));
    const m = (f: (x: Run) => number) => median(runs.map(f));
    console.log(
      `  ${name.padEnd(28)} ${fmt(rate).padStart(10)}  ${(rate / bare).toFixed(2).padStart(6)}  ` +
        `${(rate / raw).toFixed(2).padStart(5)}` +
        `   ${us(m((x) => x.serverUs))} + ${us(m((x) => x.redisUs))} + ${us(m((x) => x.influxdUs))}` +
        `                   ${runs.map((x) => fmt(x.rate)).join(' / ')}`,
    );
  }
  for (const w of workerCounts) {
    const runs = rows.get(`platform, ${w} worker${w > 1 ? 's' : ''}`)!;
    console.log(`  ${w} worker(s): acknowledged at ${runs.map((x) => fmt(x.ackRate ?? 0)).join(' / ')} readings/s`);
  }
  if (workerCounts.length > 1) {
    const [first, last] = [workerCounts[0]!, workerCounts.at(-1)!];
    const name = (w: number) => `platform, ${w} worker${w > 1 ? 's' : ''}`;
    console.log(`  ${last} workers / ${first}: ${(rateOf(name(last)) / rateOf(name(first))).toFixed(2)}x stored`);
  }
} finally {
  await Promise.all([influx.dispose(), redis.dispose()]);
  rmSync(dir, { recursive: true, force: true });
}
