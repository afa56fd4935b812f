import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startBareBroker, startBenchPlatform, benchDeviceList, storeCaughtUp } from './bench-platform.ts';
import { largest, startHeapSampling } from './heap-samples.ts';
import { runLoadProcess } from './load-process.ts';

/**
 * Bytes the main thread allocates per reading (issue 13's acknowledgement p99 and issue 17's CPU: every byte
 * allocated is young-generation GC work), the platform beside bare Aedes per message in the same run, with the
 * same load (QoS 1, one reading per publish, 10 connections), each after a warm-up that is not counted.
 *
 * V8's sampling heap profiler, told to keep the objects that young and old collections freed (short-lived garbage
 * is most of it), samples one allocation per `--interval` bytes on average; a sample stands for its whole
 * interval, so the figures are estimates whose spread between runs is a few percent.
 *
 *   npm run bench -- alloc [--devices 10] [--count 5000] [--warmup 3000] [--window 32] [--interval 512] [--top 25]
 */
const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '10' },
    count: { type: 'string', default: '5000' },
    warmup: { type: 'string', default: '3000' },
    window: { type: 'string', default: '32' },
    interval: { type: 'string', default: '512' },
    top: { type: 'string', default: '25' },
  },
});
const devices = Number(values.devices);
const count = Number(values.count);
const warmup = Number(values.warmup);
const window = Number(values.window);
const LOAD = fileURLToPath(new URL('./mqtt-load.ts', import.meta.url));
const WARMUP_BASE = Date.now() - 3 * 60 * 60_000; // its readings' times never meet the measured run's

interface Allocations {
  bytesPerMessage: number;
  byFunction: Map<string, number>;
  byGroup: Map<string, number>;
}

/** Runs `load` with the sampling heap profiler on; bytes per acknowledged message. */
async function sampled(load: () => Promise<{ acked: number }>): Promise<Allocations> {
  const stop = await startHeapSampling('all', Number(values.interval));
  const { acked } = await load();
  const summary = await stop();
  const per = (m: Map<string, number>) => new Map([...m].map(([k, v]) => [k, v / acked] as const));
  return { bytesPerMessage: summary.bytes / acked, byFunction: per(summary.byFunction), byGroup: per(summary.byGroup) };
}

async function bare(): Promise<Allocations> {
  const broker = await startBareBroker(devices);
  try {
    const run = (n: number, base?: number) =>
      runLoadProcess(LOAD, {
        url: broker.url,
        devices: broker.devices,
        count: n,
        window,
        perPublish: 1,
        ...(base ? { base } : {}),
      });
    if (warmup > 0) await run(warmup, WARMUP_BASE);
    return await sampled(() => run(count));
  } finally {
    await broker.close();
  }
}

async function platform(): Promise<Allocations> {
  const { platform, close } = await startBenchPlatform(devices);
  try {
    const list = benchDeviceList(platform);
    const run = async (n: number, base?: number) => {
      const result = await runLoadProcess(LOAD, {
        url: platform.mqttUrl,
        devices: list,
        count: n,
        window,
        perPublish: 1,
        ...(base ? { base } : {}),
      });
      await storeCaughtUp(platform);
      return result;
    };
    if (warmup > 0) await run(warmup, WARMUP_BASE);
    return await sampled(() => run(count));
  } finally {
    await close();
  }
}

const bytes = (b: number) => b.toFixed(0).padStart(6);

const broker = await bare();
const own = await platform();
console.log(
  `alloc: ${devices} connections x ${count} QoS 1 readings, 1 per publish, window ${window}, after ${warmup} per ` +
    `connection not counted; sampled every ${values.interval} bytes; ${new Date().toISOString()}`,
);
console.log(`  bare Aedes per message:     ${bytes(broker.bytesPerMessage)} B`);
console.log(
  `  platform per reading:       ${bytes(own.bytesPerMessage)} B  ` +
    `(${(own.bytesPerMessage / broker.bytesPerMessage).toFixed(2)}x bare Aedes)`,
);
console.log('  platform by group (bare Aedes beside it):');
for (const [group, b] of largest(own.byGroup, 20))
  console.log(`    ${group.padEnd(44)} ${bytes(b)} B  ${bytes(broker.byGroup.get(group) ?? 0)} B`);
console.log('  platform, top functions by bytes allocated per reading:');
for (const [name, b] of largest(own.byFunction, Number(values.top))) console.log(`    ${bytes(b)} B  ${name}`);
