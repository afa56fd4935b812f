import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startBenchPlatform } from './bench-platform.ts';
import { renderSoakSvg, type SoakSample } from './soak-plot.ts';

/**
 * Soak: a steady load for a long time, sampled every minute, to see whether memory, event-loop delay and
 * acknowledgement latency stay flat (a leak or a queue that only grows shows as a slope, not as a rate).
 *
 * npm run bench -- soak [--devices 1000] [--rate 10000] [--minutes 30] [--operators 50] [--sample-seconds 60] [--svg
 * docs/soak.svg]
 *
 * `--rate` readings/s in all, spread evenly over the devices; the city's rules are a threshold with
 * hysteresis and `for` on pm25 and a no-data rule, so alerts fire and resolve during the run and reach
 * the `--operators` WebSocket clients. The load runs in its own process.
 */
const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '10000' },
    minutes: { type: 'string', default: '30' },
    operators: { type: 'string', default: '50' },
    'sample-seconds': { type: 'string', default: '60' },
    svg: { type: 'string' },
  },
});
const devices = Number(values.devices);
const rate = Number(values.rate);
const durationMs = Number(values.minutes) * 60_000;
const sampleMs = Number(values['sample-seconds']) * 1000;
const RULES = `
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

const { platform, close } = await startBenchPlatform(devices, {}, { rulesYaml: RULES });
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
  intervalMs: (1000 * devices) / rate,
  sampleMs,
  durationMs,
  operators: Number(values.operators),
};
console.log(
  `soak: ${devices} devices, ${rate} readings/s (one every ${input.intervalMs.toFixed(0)} ms each), ${input.operators} WebSocket operators, ${values.minutes} min, sampled every ${sampleMs / 1000} s, ${new Date().toISOString()}`,
);
console.log(
  '    t(s)   readings/s   acked/s  failed   RSS MB   loop p99 ms   PUBACK p50 ms   PUBACK p99 ms   alert msgs',
);
const child = spawn(
  process.execPath,
  ['--import', 'tsx', fileURLToPath(new URL('./soak-load.ts', import.meta.url)), JSON.stringify(input)],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
let buffered = '';
let last = { t: 0, published: 0, acked: 0 };
let summary: { published: number; acked: number; failed: number } | undefined;
child.stdout.on('data', (chunk: Buffer) => {
  buffered += chunk.toString();
  for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
    const line = JSON.parse(buffered.slice(0, nl)) as Record<string, number | boolean>;
    buffered = buffered.slice(nl + 1);
    if (line.done) {
      summary = line as unknown as typeof summary;
      continue;
    }
    const l = line as Record<string, number>;
    const seconds = l.t! - last.t || 1;
    const sample: SoakSample = {
      t: l.t!,
      readingsPerSecond: (l.published! - last.published) / seconds,
      ackedPerSecond: (l.acked! - last.acked) / seconds,
      rssMb: process.memoryUsage().rss / 2 ** 20,
      loopP99Ms: eld.percentile(99) / 1e6,
      pubackP50Ms: l.pubackP50Ms!,
      pubackP99Ms: l.pubackP99Ms!,
    };
    eld.reset();
    last = { t: l.t!, published: l.published!, acked: l.acked! };
    samples.push(sample);
    console.log(
      `  ${String(sample.t).padStart(6)}   ${sample.readingsPerSecond.toFixed(0).padStart(10)}   ${sample.ackedPerSecond.toFixed(0).padStart(7)}  ${String(l.failed).padStart(6)}   ${sample.rssMb.toFixed(0).padStart(6)}   ${sample.loopP99Ms.toFixed(1).padStart(11)}   ${sample.pubackP50Ms.toFixed(1).padStart(13)}   ${sample.pubackP99Ms.toFixed(1).padStart(13)}   ${String(l.alertMessages).padStart(10)}`,
    );
  }
});
await new Promise<void>((resolve, reject) =>
  child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`soak load exited ${code}`)))),
);
while (platform.feeder.state().lagBytes > 0) await new Promise((r) => setTimeout(r, 50));
const stored = platform.feeder.state().written;
await close();

// flatness: the steady state, leaving out the first sample (connect storm, JIT warm-up, caches filling)
const steady = samples.slice(1);
const spread = (pick: (s: SoakSample) => number) => {
  const xs = steady.map(pick);
  const min = Math.min(...xs);
  const max = Math.max(...xs);
  return { min, max, ratio: max / Math.max(min, 1e-9) };
};
const report = (name: string, pick: (s: SoakSample) => number, unit: string) => {
  const { min, max, ratio } = spread(pick);
  console.log(
    `  ${name.padEnd(16)} ${min.toFixed(1)}..${max.toFixed(1)} ${unit}  max/min ${ratio.toFixed(2)}  ${ratio <= 1.1 ? 'flat within 10%' : 'NOT flat within 10%'}`,
  );
};
if (steady.length >= 2) {
  console.log(`steady state (samples 2..${samples.length}):`);
  report('RSS', (s) => s.rssMb, 'MB');
  report('loop delay p99', (s) => s.loopP99Ms, 'ms');
  report('PUBACK p99', (s) => s.pubackP99Ms, 'ms');
}
console.log(
  `readings published ${summary?.published}, acknowledged ${summary?.acked}, failed ${summary?.failed}; points in the store ${stored}`,
);
if (values.svg) {
  writeFileSync(
    values.svg,
    renderSoakSvg(samples, `soak: ${devices} devices, ${rate} readings/s, ${input.operators} operators`),
  );
  console.log(`plot: ${values.svg}`);
}
