import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { CONFIG_DIR } from '../config/platform-config.ts';
import { startBenchPlatform, storeCaughtUp } from './bench-platform.ts';
import { commitP99Meter, diskWriteMeter } from './soak-commit.ts';
import { cpuShareMeter } from './soak-cpu.ts';
import { memoryBreakdown } from './soak-memory.ts';
import { reportHeapGrowth, writeSoakHeapSnapshot } from './soak-heap.ts';
import { renderSoakSvg, type SoakSample } from './soak-plot.ts';
import { type AllocationSummary, largest, startHeapSampling } from './heap-samples.ts';
import { startReference } from './soak-reference-start.ts';
import { reportSoak, SOAK_TABLE_HEADER, soakTableRow, type SoakLoadLine } from './soak-report.ts';

/**
 * Soak: a steady load for a long time, sampled every minute, to see whether memory, event-loop delay and
 * acknowledgement latency stay flat (a leak or a queue that only grows shows as a slope, not as a rate).
 *
 *   npm run bench -- soak [--devices 1000] [--rate 10000] [--minutes 30] [--operators 50] [--sample-seconds 60]
 *     [--svg docs/soak.svg] [--json samples.json] [--flush-ms 1000] [--heap-snapshots DIR [--snapshot-minute 20]]
 *     [--log-dir DIR] [--reference-devices 100] [--survivors-minute N]
 *
 * `--rate` readings/s in all, spread evenly over the devices (bench/soak-load.ts, its own process, raw MQTT
 * over TCP so that it costs far less than the platform). Rules: the city's air rules (config/cities/hue:
 * hourly VN_AQI, a 10-minute PM2.5 spike, stations offline) and two faster bench rules, so alerts fire and
 * resolve during the run and reach the `--operators` WebSocket clients.
 *
 * The same-run baseline: `--reference-devices` more devices at the same pace publish to a bare durable broker in
 * its own process (bench/soak-reference.ts: Aedes, an O_DSYNC append on the commit log's disk, group commit).
 * Its PUBACK p99 in each sample is the machine's weather; the platform's p99 over it is reported beside the raw
 * figure, so a busier machine is not read as the platform degrading (these machines are shared).
 */
const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '10000' },
    minutes: { type: 'string', default: '30' },
    operators: { type: 'string', default: '50' },
    'sample-seconds': { type: 'string', default: '60' },
    svg: { type: 'string' },
    json: { type: 'string' },
    // a directory for a V8 CPU profile of the load generator, to see where its own CPU goes
    'load-cpu-prof': { type: 'string' },
    // the embedded store's flush interval (store.embedded.flushIntervalMs; unset: the platform's default)
    'flush-ms': { type: 'string' },
    // a directory for two heap snapshots of the platform's main thread, one at --snapshot-minute under load and
    // one after the load ends, compared at the end (bench/soak-heap.ts); the minute after the first snapshot
    // (a pause of a few seconds) is left out of the flatness figures. Writing a snapshot raises RSS for the rest
    // of the run (the allocator keeps what it took): a run for RSS flatness takes none, and reads the per-minute
    // JS heap column instead
    'heap-snapshots': { type: 'string' },
    'snapshot-minute': { type: 'string', default: '20' },
    // the commit log in a directory of another file system (its own disk), the store where it was
    'log-dir': { type: 'string' },
    // from this minute, for one sample, what the platform's main thread allocates that outlives a young collection
    // (bench/heap-samples.ts, one sample per 64 KiB): what makes scavenges slow and fills the old generation. That
    // sample is left out of the flatness figures
    'survivors-minute': { type: 'string' },
    // devices on the reference broker (0: none), each at the platform's devices' pace
    'reference-devices': { type: 'string', default: '100' },
  },
});
const devices = Number(values.devices);
const rate = Number(values.rate);
const durationMs = Number(values.minutes) * 60_000;
const sampleMs = Number(values['sample-seconds']) * 1000;
const snapshotDir = values['heap-snapshots'];
const snapshotSecond = Number(values['snapshot-minute']) * 60;
const snapshots: Array<{ second: number; path: string }> = [];
const survivorsSecond = values['survivors-minute'] === undefined ? undefined : Number(values['survivors-minute']) * 60;
let survivors: { from: number; published: number; stop: () => Promise<AllocationSummary> } | undefined;
const CITY_RULE_FILES = ['air-quality.yaml', 'devices.yaml'];
const BENCH_RULES = `
- id: bench-pm25-high
  type: threshold
  selector: { kinds: [air] }
  metric: pm25
  above: 150
  clearBelow: 120
  for: 5s
  severity: high
  category: environment
  subCategory: airPollution
- id: bench-silent
  type: noData
  selector: { kinds: [air] }
  offline: true
  silence: 2m
  severity: medium
  category: environment
  subCategory: deviceOffline
`;
// The city's rules that select air stations, unchanged (the bench city has no other kind: the rest would
// select no sensor and be refused), and the bench's rules after them, in one rule file.
const cityAirRules = CITY_RULE_FILES.flatMap(
  (f) =>
    parseYaml(readFileSync(join(CONFIG_DIR, 'cities', 'hue', 'rules', f), 'utf8')) as Array<Record<string, unknown>>,
).filter((rule) => (rule.selector as { kinds?: string[] } | undefined)?.kinds?.includes('air'));
const rulesYaml = `${stringifyYaml(cityAirRules)}\n${BENCH_RULES}`;

const flushMs = values['flush-ms'];
const { platform, close } = await startBenchPlatform(
  devices,
  flushMs === undefined ? {} : { store: { embedded: { flushIntervalMs: Number(flushMs) } } },
  { rulesYaml, ...(values['log-dir'] ? { logDir: values['log-dir'] } : {}) },
);
const referenceDevices = Number(values['reference-devices']);
const reference = referenceDevices > 0 ? await startReference(values['log-dir'] ?? tmpdir()) : undefined;
const eld = monitorEventLoopDelay({ resolution: 10 });
eld.enable();
const samples: SoakSample[] = [];
const creds = platform.credentials!;
const input = {
  mqttUrl: platform.mqttUrl,
  wsUrl: platform.httpUrl.replace(/^http/, 'ws'),
  operatorToken: creds.operator.token,
  devices: creds.devices.map((d) => ({
    sensorId: d.sensorId,
    kind: d.kind,
    username: d.username,
    password: d.password,
  })),
  rate,
  sampleMs,
  durationMs,
  operators: Number(values.operators),
  ...(reference ? { reference: { url: reference.url, devices: referenceDevices } } : {}),
};
console.log(
  `soak: ${devices} devices, ${rate} readings/s (one every ${((1000 * devices) / rate).toFixed(0)} ms ` +
    `each), ${input.operators} WebSocket operators, rules: the city's ` +
    `${cityAirRules.map((r) => r.id).join(', ')} + bench-pm25-high, bench-silent, ${values.minutes} min, ` +
    `sampled every ${sampleMs / 1000} s, ${new Date().toISOString()}`,
);
if (reference)
  console.log(
    `reference (same-run baseline): ${referenceDevices} devices at the same pace on bare Aedes + an O_DSYNC ` +
      `append on the same disk, in its own process (${((rate * referenceDevices) / devices).toFixed(0)} readings/s)`,
  );
console.log(SOAK_TABLE_HEADER);
const child = spawn(
  process.execPath,
  [
    ...(values['load-cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['load-cpu-prof']}`] : []),
    '--import',
    'tsx',
    fileURLToPath(new URL('./soak-load.ts', import.meta.url)),
    JSON.stringify(input),
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const cpu = cpuShareMeter();
const commitP99 = commitP99Meter(platform.registry);
const diskWrites = diskWriteMeter();
// samples are taken in order: the histogram read is asynchronous
let sampling = Promise.resolve();
let buffered = '';
let last = { t: 0, published: 0, acked: 0 };
const lines: SoakLoadLine[] = [];
let summary: Record<string, number> | undefined;
child.stdout.on('data', (chunk: Buffer) => {
  buffered += chunk.toString();
  for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
    const line = JSON.parse(buffered.slice(0, nl)) as SoakLoadLine & { done?: boolean };
    buffered = buffered.slice(nl + 1);
    if (line.done) {
      summary = line as unknown as Record<string, number>;
      continue;
    }
    sampling = sampling.then(() => takeSample(line));
  }
});

async function takeSample(line: SoakLoadLine): Promise<void> {
  const commitP99Ms = await commitP99();
  const threads = (await platform.store.threadHeaps?.()) ?? [];
  const seconds = line.t - last.t || 1;
  const memory = process.memoryUsage();
  const sample: SoakSample = {
    t: line.t,
    readingsPerSecond: (line.published - last.published) / seconds,
    ackedPerSecond: (line.acked - last.acked) / seconds,
    rssMb: memory.rss / 2 ** 20,
    heapUsedMb: memory.heapUsed / 2 ** 20,
    externalMb: memory.external / 2 ** 20,
    ...memoryBreakdown(threads),
    loopP99Ms: eld.percentile(99) / 1e6,
    pubackP50Ms: line.pubackP50Ms,
    pubackP99Ms: line.pubackP99Ms,
    commitP99Ms,
    ...(line.referenceP99Ms === undefined ? {} : { referenceP99Ms: line.referenceP99Ms }),
    diskWriteMbPerSecond: diskWrites(),
    ...(snapshots.length === 1 && samples.at(-1)?.t === snapshots[0]!.second ? { afterHeapSnapshot: true } : {}),
    ...(survivors ? { heapSampled: true } : {}),
  };
  eld.reset();
  const shares = cpu(line.loadCpuMicros);
  const platformMicrosPerReading =
    (shares.platformCores * seconds * 1e6) / Math.max(1, line.published - last.published);
  last = { t: line.t, published: line.published, acked: line.acked };
  samples.push(sample);
  lines.push(line);
  console.log(soakTableRow(sample, line, shares, platformMicrosPerReading));
  if (survivors) {
    const summary = await survivors.stop();
    reportSurvivors(summary, line.published - survivors.published, survivors.from, line.t);
    survivors = undefined;
  } else if (survivorsSecond !== undefined && line.t >= survivorsSecond && line.t < survivorsSecond + sampleMs / 1000) {
    survivors = { from: line.t, published: line.published, stop: await startHeapSampling('survivors', 65_536) };
  }
  if (snapshotDir && snapshots.length === 0 && line.t >= snapshotSecond) {
    snapshots.push({ second: line.t, path: writeSoakHeapSnapshot(snapshotDir, line.t) });
    console.log(`  heap snapshot at ${line.t} s: ${snapshots[0]!.path} (the next sample is left out of the figures)`);
  }
}
await new Promise<void>((resolve, reject) =>
  child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`soak load exited ${code}`)))),
);
await sampling;
await storeCaughtUp(platform, 50);
const stored = platform.feeder.state().written;
if (snapshotDir && snapshots.length === 1) {
  const second = Math.round(durationMs / 1000);
  snapshots.push({ second, path: writeSoakHeapSnapshot(snapshotDir, second) });
}
await close();
await reference?.stop();

reportSoak(samples, lines, summary, stored);
if (values.json) writeFileSync(values.json, `${JSON.stringify({ samples, lines, summary, stored }, null, 1)}\n`);
if (values.svg) {
  writeFileSync(
    values.svg,
    renderSoakSvg(samples, `soak: ${devices} devices, ${rate} readings/s, ${input.operators} operators`),
  );
  console.log(`plot: ${values.svg}`);
}
if (snapshots.length === 2) reportHeapGrowth(snapshots[0]!.path, snapshots[1]!.path);

/** What outlived a young collection during the sampled interval, per reading, by group and by function. */
function reportSurvivors(summary: AllocationSummary, readings: number, from: number, to: number): void {
  const per = (bytes: number) => `${(bytes / Math.max(1, readings)).toFixed(0).padStart(6)} B`;
  const seconds = to - from;
  console.log(
    `  outlived a young collection, ${seconds} s from t=${from} s: ${per(summary.bytes)} per reading ` +
      `(${(summary.bytes / 2 ** 20 / Math.max(1, seconds)).toFixed(1)} MB/s); by group:`,
  );
  for (const [group, bytes] of largest(summary.byGroup, 12)) console.log(`    ${per(bytes)}  ${group}`);
  console.log('  by function:');
  for (const [name, bytes] of largest(summary.byFunction, 20)) console.log(`    ${per(bytes)}  ${name}`);
}
