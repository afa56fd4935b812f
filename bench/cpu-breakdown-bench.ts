import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Aedes } from 'aedes';
import Database from 'better-sqlite3';
import { createSchema } from '../store/sqlite/sqlite-schema.ts';
import { INFLUXD_BINARY, startInfluxd } from '../test-support/influxd.ts';
import { cpuMeter, startBenchPlatform, threadMicros, benchDeviceList, storeCaughtUp } from './bench-platform.ts';
import { type CpuProfile, summariseProfile } from './cpu-profile-groups.ts';
import { runLoadProcess } from './load-process.ts';

/**
 * CPU µs per reading of the platform (QoS 1, one reading per publish, 10 connections) beside the parts it
 * cannot avoid, all measured in this run with the same load generator and payloads (issue 17 item 1):
 * - bare Aedes per message (no auth, no hooks: what any broker spends to receive and acknowledge),
 * - the store engine per row: raw better-sqlite3 inserts of the same rows into the same schema and
 *   pragmas, in batches of as many rows as the platform's store writes held (its feeder gathers commit groups
 *   into one transaction); and raw InfluxDB `/write` per line (this
 *   process + influxd) when influxd is installed (reported, not in the goal: the platform here is on SQLite),
 * then a profiled run of the platform (the V8 profiler of this process's main thread, as --cpu-prof
 * records it) summarised by self time per group of the hot path. The profiler's own cost inflates that
 * run, so its shares are applied to the unprofiled run's main-thread µs.
 *
 * The threads are split by /proc: the main thread, the threads the platform started (its store workers) and
 * the rest (V8's GC and compiler helpers, libuv's pool: fsync and file writes). `--warmup N` first sends N
 * readings per connection to the same broker or platform, not counted: without it, compiling the code (V8's
 * helper threads) is a large part of a short run.
 *
 *   npm run bench -- cpu-breakdown [--devices 10] [--count 5000] [--window 32] [--warmup 0]
 *     [--profile-out file.cpuprofile]
 */
const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '10' },
    count: { type: 'string', default: '5000' },
    window: { type: 'string', default: '32' },
    'profile-out': { type: 'string' },
    'no-influx': { type: 'boolean' },
    warmup: { type: 'string', default: '0' },
  },
});
const devices = Number(values.devices);
const count = Number(values.count);
const window = Number(values.window);
/** readings per device sent to the same broker or platform first, not counted: JIT and caches warm */
const warmup = Number(values.warmup);
const WARMUP_BASE = Date.now() - 3 * 60 * 60_000; // its readings' times never meet the measured run's
const LOAD = fileURLToPath(new URL('./mqtt-load.ts', import.meta.url));
const runLoad = (input: object) => runLoadProcess(LOAD, input);
const benchDevices = Array.from({ length: devices }, (_, i) => ({ sensorId: `bench-air-${i}`, kind: 'air' }));
const fmt = (n: number, digits = 1) => n.toFixed(digits);

/** CPU µs per reading by thread: the main thread, threads not in `existing` (started by the platform), the rest. */
interface ThreadSplit {
  main: number;
  started: number;
  helpers: number;
}

function splitThreads(
  before: Map<string, number>,
  after: Map<string, number>,
  existing: ReadonlySet<string>,
  n: number,
): ThreadSplit {
  const split = { main: 0, started: 0, helpers: 0 };
  for (const [id, micros] of after) {
    const used = (micros - (before.get(id) ?? 0)) / n;
    if (id === String(process.pid)) split.main += used;
    else if (existing.has(id)) split.helpers += used;
    else split.started += used;
  }
  return split;
}

/** µs per message of a bare Aedes broker receiving and acknowledging the same QoS 1 publishes. */
async function bareAedes(): Promise<{ micros: number; rate: number; threads: ThreadSplit }> {
  const aedes = await Aedes.createBroker();
  const tcp = createServer(aedes.handle);
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', () => r()));
  const url = `mqtt://127.0.0.1:${(tcp.address() as { port: number }).port}`;
  if (warmup > 0)
    await runLoad({ url, devices: benchDevices, count: warmup, window, perPublish: 1, base: WARMUP_BASE });
  const existing = new Set(threadMicros().keys());
  const before = threadMicros();
  const cpu = cpuMeter();
  const result = await runLoad({ url, devices: benchDevices, count, window, perPublish: 1 });
  const used = cpu().micros;
  const threads = splitThreads(before, threadMicros(), existing, result.acked);
  await new Promise<void>((r) => aedes.close(() => r()));
  tcp.close();
  return { micros: used / result.acked, rate: result.acked / result.seconds, threads };
}

interface PlatformRun {
  micros: number;
  mainMicros?: number;
  threads: ThreadSplit;
  rate: number;
  readingsPerGroup: number;
  /** rows per store transaction: what the feeder's batching achieved */
  rowsPerWrite: number;
  profile?: CpuProfile;
}

/** The platform on the bench city (SQLite store); with `profile`, the main thread is sampled meanwhile. */
async function platformRun(profile: boolean): Promise<PlatformRun> {
  const existing = new Set(threadMicros().keys());
  const { platform, close } = await startBenchPlatform(devices);
  const session = profile ? new Session() : undefined;
  try {
    const list = benchDeviceList(platform);
    if (warmup > 0) {
      await runLoad({ url: platform.mqttUrl, devices: list, count: warmup, window, perPublish: 1, base: WARMUP_BASE });
      await storeCaughtUp(platform);
    }
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 200 });
      await session.post('Profiler.start');
    }
    const groupsBefore = platform.writer.stats.groups;
    const before = platform.feeder.state();
    const threadsBefore = threadMicros();
    const cpu = cpuMeter();
    const result = await runLoad({ url: platform.mqttUrl, devices: list, count, window, perPublish: 1 });
    await storeCaughtUp(platform);
    const used = cpu();
    const threads = splitThreads(threadsBefore, threadMicros(), existing, result.acked);
    const stopped = session ? ((await session.post('Profiler.stop')) as { profile: CpuProfile }).profile : undefined;
    const groups = Math.max(1, platform.writer.stats.groups - groupsBefore);
    const after = platform.feeder.state();
    return {
      micros: used.micros / result.acked,
      mainMicros: used.mainThreadMicros === undefined ? undefined : used.mainThreadMicros / result.acked,
      threads,
      rate: result.acked / result.seconds,
      readingsPerGroup: result.acked / groups,
      rowsPerWrite: (after.written - before.written) / Math.max(1, after.writes - before.writes),
      profile: stopped,
    };
  } finally {
    session?.disconnect();
    await close();
  }
}

/** The readings mqtt-load.ts publishes, as (device, ts, fields JSON). */
function* rows(): Generator<[number, number, string]> {
  const base = Date.now() - 60 * 60_000;
  for (let n = 0; n < count; n++) {
    for (let d = 0; d < devices; d++) {
      yield [d + 1, base + n, `{"no2":${n % 150},"o3":${n % 90},"pm10":${(n % 400) + 1},"pm25":${(n % 300) + 0.5}}`];
    }
  }
}

/** µs per row of better-sqlite3 inserting the same rows, `batch` per transaction, same pragmas as the store. */
function rawSqlite(batch: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-bench-sqlite-'));
  try {
    const db = new Database(join(dir, 'raw.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    createSchema(db);
    const insert = db.prepare('INSERT INTO readings (series_id, ts, fields) VALUES (?, ?, ?)');
    const all = [...rows()];
    const tx = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) insert.run(...all[i]!);
    });
    const start = process.cpuUsage();
    for (let i = 0; i < all.length; i += batch) tx(i, Math.min(all.length, i + batch));
    const used = process.cpuUsage(start);
    db.close();
    return (used.user + used.system) / all.length;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** µs per line of raw `/write` (this process + influxd), 5000-line bodies, 4 in flight; undefined without influxd. */
async function rawInflux(): Promise<{ micros: number; rate: number } | undefined> {
  if (values['no-influx'] || !existsSync(INFLUXD_BINARY)) return undefined;
  const influx = await startInfluxd({ own: true });
  try {
    await fetch(`${influx.url}/query`, { method: 'POST', body: new URLSearchParams({ q: 'CREATE DATABASE raw' }) });
    const lines = [...rows()].map(
      ([d, ts, f]) =>
        `air,district=Phú\\ Xuân,kind=air,sensorId=bench-air-${d - 1} ` +
        `${f.slice(1, -1).replaceAll('"', '').replaceAll(':', '=')} ${ts}`,
    );
    const bodies: string[] = [];
    for (let i = 0; i < lines.length; i += 5000) bodies.push(lines.slice(i, i + 5000).join('\n'));
    const influxdCpu = () => {
      const stat = readFileSync(`/proc/${influx.pid()}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) * 10_000;
    };
    const before = influxdCpu();
    const start = process.cpuUsage();
    const t0 = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < bodies.length) {
        const res = await fetch(`${influx.url}/write?db=raw&precision=ms`, { method: 'POST', body: bodies[next++]! });
        if (res.status !== 204) throw new Error(`raw write failed: ${res.status} ${await res.text()}`);
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    const seconds = (performance.now() - t0) / 1000;
    const used = process.cpuUsage(start);
    return { micros: (used.user + used.system + influxdCpu() - before) / lines.length, rate: lines.length / seconds };
  } finally {
    await influx.dispose();
  }
}

const bare = await bareAedes();
const platform = await platformRun(false);
const sqlite = rawSqlite(Math.max(1, Math.round(platform.rowsPerWrite)));
const influx = await rawInflux();
const profiled = await platformRun(true);
const floor = bare.micros + sqlite;

console.log(
  `cpu-breakdown: ${devices} connections x ${count} QoS 1 readings (4 metrics), 1 per publish, ` +
    `window ${window}, ${warmup > 0 ? `after ${warmup} per connection not counted (warm), ` : ''}` +
    new Date().toISOString(),
);
console.log(`  bare Aedes per message:            ${fmt(bare.micros)} µs  (${Math.round(bare.rate)} msg/s acked)`);
console.log(
  `    threads: main ${fmt(bare.threads.main)}, V8 helpers (GC, compiler) and libuv pool ${fmt(bare.threads.helpers)}`,
);
console.log(
  `  raw better-sqlite3 per row:        ${fmt(sqlite)} µs  (batches ` +
    `of ${Math.round(platform.rowsPerWrite)} rows, the platform's rows per store write; ` +
    `${Math.round(platform.readingsPerGroup)} readings per commit group)`,
);
if (influx)
  console.log(
    `  raw InfluxDB /write per line:      ${fmt(influx.micros)} µs  (node + ` +
      `influxd, ${Math.round(influx.rate)} lines/s)`,
  );
console.log(
  `  platform per reading (SQLite):     ${fmt(platform.micros)} µs  (main ` +
    `thread ${platform.mainMicros === undefined ? '?' : fmt(platform.mainMicros)} ` +
    `µs; ${Math.round(platform.rate)} readings/s acked)`,
);
console.log(
  `    threads: main ${fmt(platform.threads.main)}, store workers (threads the platform started) ` +
    `${fmt(platform.threads.started)}, V8 helpers and libuv pool ${fmt(platform.threads.helpers)}`,
);
console.log(
  `  goal: platform <= 1.3 x (bare Aedes + raw SQLite row) = 1.3 x ${fmt(floor)} = ${fmt(1.3 * floor)} µs; ` +
    `now ${fmt(platform.micros / floor, 2)}x`,
);
if (profiled.profile) {
  const summary = summariseProfile(profiled.profile);
  const scale = platform.mainMicros ?? platform.micros; // main-thread µs per reading, unprofiled
  console.log(
    `  main-thread breakdown (self time, profiled run ${fmt(profiled.micros)} ` +
      'µs/reading; µs scaled to the unprofiled main thread):',
  );
  for (const g of summary.groups)
    console.log(`    ${g.group.padEnd(44)} ${fmt(g.share * 100).padStart(5)}%  ${fmt(g.share * scale).padStart(5)} µs`);
  console.log('  top functions by self time:');
  for (const f of summary.top) console.log(`    ${fmt(f.share * 100).padStart(5)}%  ${f.name}`);
  if (values['profile-out']) writeFileSync(values['profile-out'], JSON.stringify(profiled.profile));
}
