import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuMeter, startBareBroker, startBenchPlatform, benchDeviceList, storeCaughtUp } from './bench-platform.ts';
import { runLoadProcess } from './load-process.ts';

/**
 * Ingest throughput: N devices publish QoS 1 readings of 4 metrics. The platform's rate (a PUBACK only
 * after the readings are fsynced in the commit log; then stored in the embedded store) is printed beside
 * a bare Aedes broker's pass-through rate, measured in the same run with the same load generator.
 *
 *   npm run bench -- ingest [--devices 50] [--count 2000] [--window 32] [--per-publish 1]
 *
 * --per-publish N sends N readings per publish (a gateway or a device that buffers), which is how a
 * broker on two cores gets past its per-message cost.
 */
const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '50' },
    count: { type: 'string', default: '2000' },
    window: { type: 'string', default: '32' },
    'per-publish': { type: 'string', default: '1' },
  },
});
const devices = Number(values.devices);
const count = Number(values.count);
const window = Number(values.window);
const perPublish = Number(values['per-publish']);
const LOAD = fileURLToPath(new URL('./mqtt-load.ts', import.meta.url));

const runLoad = (input: object) => runLoadProcess(LOAD, input);
const SUBSCRIBER = fileURLToPath(new URL('./mqtt-subscriber.ts', import.meta.url));

/** CPU µs per reading: this process (broker, platform, store worker: every thread) and the load generator. */
interface Cost {
  server: number;
  client: number;
}
const costPer = (readings: number, serverMicros: number, clientMicros = 0): Cost => ({
  server: serverMicros / readings,
  client: clientMicros / readings,
});

/**
 * A bare broker passing the readings through to one subscriber (QoS 0, its own process) on `ioc/#`: the
 * other baseline, where the broker forwards what it receives instead of dropping it.
 */
async function bareBrokerPassThrough(): Promise<{ rate: number; cost: Cost }> {
  const broker = await startBareBroker(devices);
  const { url } = broker;
  const publishes = devices * Math.ceil(count / perPublish);
  const sub = spawn(
    process.execPath,
    ['--import', 'tsx', SUBSCRIBER, JSON.stringify({ url, topic: 'ioc/#', expect: publishes, qos: 0 })],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  const ready = new Promise<void>((resolve) =>
    sub.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('ready')) resolve();
    }),
  );
  const finished = new Promise<{ received: number; lastAt: number; cpuMicros: number }>((resolve, reject) => {
    sub.once('exit', (code) =>
      code === 0
        ? resolve(
            JSON.parse(
              out
                .split('\n')
                .filter((l) => l.startsWith('{'))
                .at(-1)!,
            ),
          )
        : reject(new Error(`subscriber exited ${code}`)),
    );
  });
  await ready;
  const cpu = cpuMeter();
  const result = await runLoad({ url, devices: broker.devices, count, window, perPublish });
  const timeout = setTimeout(() => sub.kill('SIGTERM'), 30_000);
  const consumed = await finished;
  clearTimeout(timeout);
  const server = cpu().micros;
  await broker.close();
  const readings = Math.min(result.acked, consumed.received * perPublish);
  // from the load generator's first publish (not its process start) to the subscriber's last message
  const seconds = (consumed.lastAt - result.startedAt!) / 1000;
  return { rate: readings / seconds, cost: costPer(readings, server, (result.cpuMicros ?? 0) + consumed.cpuMicros) };
}

async function bareBroker(): Promise<{ rate: number; cost: Cost }> {
  const broker = await startBareBroker(devices);
  const cpu = cpuMeter();
  const result = await runLoad({ url: broker.url, devices: broker.devices, count, window, perPublish });
  const server = cpu().micros;
  await broker.close();
  return { rate: result.acked / result.seconds, cost: costPer(result.acked, server, result.cpuMicros) };
}

async function platformRun(): Promise<{
  ackRate: number;
  storedRate: number;
  groups: number;
  groupMs: number;
  cost: Cost;
  mainThread?: number;
}> {
  const { platform, close } = await startBenchPlatform(devices);
  try {
    const list = benchDeviceList(platform);
    const t0 = performance.now();
    const cpu = cpuMeter();
    const result = await runLoad({ url: platform.mqttUrl, devices: list, count, window, perPublish });
    await storeCaughtUp(platform);
    const storedSeconds = (performance.now() - t0) / 1000;
    const used = cpu();
    const groups = platform.writer.stats.groups;
    const groupMs = platform.writer.stats.totalGroupMs / Math.max(1, groups);
    const mainThread = used.mainThreadMicros === undefined ? undefined : used.mainThreadMicros / result.acked;
    return {
      ackRate: result.acked / result.seconds,
      storedRate: result.acked / storedSeconds,
      groups,
      groupMs,
      cost: costPer(result.acked, used.micros, result.cpuMicros),
      mainThread,
    };
  } finally {
    await close();
  }
}

const { rate: bare, cost: bareCost } = await bareBroker();
const { rate: passThrough, cost: passCost } = await bareBrokerPassThrough();
const platform = await platformRun();
// The rate each path's CPU cost allows on this machine's cores with nothing else running: what a noisy
// neighbour does not move, and what bounds the ratio when the load generator shares the cores.
const cores = availableParallelism();
const cpuBound = (c: Cost) => (cores * 1e6) / (c.server + c.client);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(
  `ingest benchmark: ${devices} devices x ${count} QoS 1 readings (4 metrics each), ${perPublish} per ` +
    `publish, window ${window}, ${new Date().toISOString()}`,
);
console.log(`  bare Aedes pass-through (baseline):      ${fmt(bare)} readings/s  (${fmt(bare * 4)} values/s)`);
console.log(
  `  bare Aedes forwarding to a subscriber:   ${fmt(passThrough)} readings/s  (${fmt(passThrough * 4)} values/s)`,
);
console.log(
  `  platform, acknowledged (durable in log): ${fmt(platform.ackRate)} readings/s  ` +
    `(${fmt(platform.ackRate * 4)} values/s)  ratio ${(platform.ackRate / bare).toFixed(2)}`,
);
console.log(
  `  platform, in the embedded store:         ${fmt(platform.storedRate)} readings/s  ` +
    `(${fmt(platform.storedRate * 4)} values/s)  ratio ${(platform.storedRate / bare).toFixed(2)}`,
);
console.log(
  `  against the forwarding baseline: acknowledged ${(platform.ackRate / passThrough).toFixed(2)}, in the ` +
    `store ${(platform.storedRate / passThrough).toFixed(2)}`,
);
console.log(
  `  CPU µs per reading (server + load generator): bare ${bareCost.server.toFixed(1)} ` +
    `+ ${bareCost.client.toFixed(1)}, forwarding ${passCost.server.toFixed(1)} + ${passCost.client.toFixed(1)} ` +
    `(with the subscriber), platform ${platform.cost.server.toFixed(1)} + ${platform.cost.client.toFixed(1)}`,
);
if (platform.mainThread !== undefined) {
  console.log(
    '  platform CPU µs per reading by thread: main (broker, ingest, commit log, ' +
      `rules) ${platform.mainThread.toFixed(1)}, others (store worker, GC helpers, ` +
      `I/O) ${(platform.cost.server - platform.mainThread).toFixed(1)}`,
  );
}
console.log(
  `  CPU-bound on ${cores} cores: bare ${fmt(cpuBound(bareCost))} readings/s, ` +
    `platform ${fmt(cpuBound(platform.cost))} readings/s, ratio ` +
    `${(cpuBound(platform.cost) / cpuBound(bareCost)).toFixed(2)}`,
);
console.log(
  `  commit groups (fsyncs): ${platform.groups}, ${((devices * count) / platform.groups).toFixed(1)} readings ` +
    `per group, ${platform.groupMs.toFixed(1)} ms per group write + fdatasync`,
);
