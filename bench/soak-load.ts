import { createHistogram } from 'node:perf_hooks';
import { emptyCounters, SoakDevice, type SoakDeviceSpec } from './soak-devices.ts';
import { startSoakOperators } from './soak-operators.ts';

/**
 * The client side of bench/soak-bench.ts, in its own process: `devices` raw-socket MQTT devices publishing
 * QoS 1 air readings at `rate` readings/s in all (reading k goes to device k mod devices, so each device
 * publishes every devices/rate seconds), paced by one timer for the whole fleet; and `operators` WebSocket
 * clients on the alert stream. Pacing is open-loop, as real devices are: a slow PUBACK does not slow the
 * next reading. Every `sampleMs` it prints one JSON line (counters so far, PUBACK percentiles and this
 * process's CPU over the sample); at the end `{"done":true,...}`.
 * With `reference`, as many more devices at the same pace publish to the reference broker (bench/soak-reference.ts),
 * timed in a histogram of their own: the same-run baseline of the PUBACK latency.
 * Input (argv[2], JSON): { mqttUrl, wsUrl, operatorToken, devices: [{ sensorId, kind, username, password }],
 *   rate, sampleMs, durationMs, operators, reference?: { url, devices } }
 */
interface Input {
  mqttUrl: string;
  wsUrl: string;
  operatorToken: string;
  devices: SoakDeviceSpec[];
  rate: number;
  sampleMs: number;
  durationMs: number;
  operators: number;
  reference?: { url: string; devices: number };
}
const input = JSON.parse(process.argv[2] ?? '{}') as Input;
const TICK_MS = 10;
const CONNECT_GROUP = 50;

const operators = await startSoakOperators(input.wsUrl, input.operatorToken, input.operators);
const url = new URL(input.mqttUrl);
const address = { host: url.hostname, port: Number(url.port) };
const counters = emptyCounters();
const puback = createHistogram();
const devices = input.devices.map((spec, i) => new SoakDevice(spec, i, address, counters, puback));
// the reference broker's devices: the same readings at the same pace per device, counted and timed apart
const referenceCounters = emptyCounters();
const referencePuback = createHistogram();
const referenceAddress = input.reference ? new URL(input.reference.url) : undefined;
const referenceDevices = Array.from(
  { length: input.reference?.devices ?? 0 },
  (_, i) =>
    new SoakDevice(
      { sensorId: `reference-${i}`, kind: 'air', username: 'reference', password: 'reference' },
      i,
      { host: referenceAddress!.hostname, port: Number(referenceAddress!.port) },
      referenceCounters,
      referencePuback,
    ),
);
const referenceRate = (input.rate * referenceDevices.length) / Math.max(1, devices.length);
const connectStarted = performance.now();
for (const fleet of [devices, referenceDevices]) {
  for (let i = 0; i < fleet.length; i += CONNECT_GROUP) {
    // in groups: a thousand simultaneous CONNECTs (each a secret to verify) is a storm, not the steady state
    await Promise.all(fleet.slice(i, i + CONNECT_GROUP).map((d) => d.connect()));
  }
}
const connectSeconds = (performance.now() - connectStarted) / 1000;

/**
 * Readings due for one fleet at `rate` a second: reading k goes to device k mod n. After a stall longer than a
 * second the backlog beyond one second is dropped and counted as behind: a generator that cannot keep up must show
 * as missing readings, not as a burst the broker never sees live.
 */
function fleetPacer(fleet: readonly SoakDevice[], rate: number) {
  let next = 0;
  const pacer = {
    behind: 0,
    send(elapsedMs: number, now: number): void {
      if (fleet.length === 0) return;
      const due = Math.floor((elapsedMs * rate) / 1000);
      if (due - next > rate) {
        pacer.behind += due - next - rate;
        next = due - rate;
      }
      for (; next < due; next++) fleet[next % fleet.length]!.publish(now);
    },
  };
  return pacer;
}

// One timer for both fleets: each tick sends every reading due by now, so timer jitter does not lower the rate
const platformFleet = fleetPacer(devices, input.rate);
const referenceFleet = fleetPacer(referenceDevices, referenceRate);
const started = performance.now();
const startedAt = Date.now();
const pacer = setInterval(() => {
  const elapsedMs = performance.now() - started;
  const now = Date.now();
  platformFleet.send(elapsedMs, now);
  referenceFleet.send(elapsedMs, now);
}, TICK_MS);

let cpuMark = process.cpuUsage();
let publishedMark = 0;
const sample = setInterval(() => {
  const cpu = process.cpuUsage(cpuMark);
  cpuMark = process.cpuUsage();
  const cpuMicros = cpu.user + cpu.system;
  const published = counters.published - publishedMark;
  publishedMark = counters.published;
  const alerts = Array.from(operators.counts);
  const line = {
    t: Math.round((Date.now() - startedAt) / 1000),
    ...counters,
    behind: platformFleet.behind,
    alertMessages: alerts.reduce((a, b) => a + b, 0),
    alertMessagesMin: Math.min(...alerts),
    alertMessagesMax: Math.max(...alerts),
    operatorsClosed: operators.closed(),
    pubackP50Ms: puback.percentile(50) / 1000,
    pubackP99Ms: puback.percentile(99) / 1000,
    pubackMaxMs: puback.max / 1000,
    ...(referenceDevices.length > 0
      ? {
          referenceAcked: referenceCounters.acked,
          referenceFailed: referenceCounters.failed + referenceCounters.skipped + referenceFleet.behind,
          referenceP99Ms: referencePuback.percentile(99) / 1000,
        }
      : {}),
    loadCpuMicros: cpuMicros,
    loadCpuMicrosPerReading: published > 0 ? cpuMicros / published : 0,
    loadRssMb: process.memoryUsage().rss / 2 ** 20,
  };
  puback.reset();
  referencePuback.reset();
  process.stdout.write(`${JSON.stringify(line)}\n`);
}, input.sampleMs);

// a little past the duration, so the sample due at the end is taken before the load stops
await new Promise((r) => setTimeout(r, input.durationMs + 500));
clearInterval(pacer);
clearInterval(sample);
await Promise.all([...devices, ...referenceDevices].map((d) => d.stop(5000)));
operators.stop();
process.stdout.write(
  `${JSON.stringify({ done: true, connectSeconds, behind: platformFleet.behind, ...counters })}\n`,
  () => process.exit(0),
);
