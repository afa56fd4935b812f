import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CommitLog } from '../store/commit-log.ts';
import { cpuMeter, startBenchPlatform, type CpuUsed, storeCaughtUp } from './bench-platform.ts';

/**
 * The platform's own ingest path without MQTT: device messages handed to `ingest.handle` in this process
 * (topic parse, validation, commit-log record, group commit with fdatasync, rules, device states, the
 * embedded store in its worker), with `devices x window` messages in flight. No broker and no load
 * generator share the cores, so the CPU it prints per reading is the platform's alone, and it moves when
 * the ingest code changes rather than with the neighbours.
 *
 *   npm run bench -- pipeline [--devices 50] [--count 2000] [--window 32] [--per-publish 1]
 *
 * Baseline, same run, same payloads and concurrency: the commit log alone, appending each payload as it
 * came in groups with one write + fdatasync each (what making a message durable costs with no parsing,
 * validation or store at all).
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
const readings = devices * count;
const messages = devices * Math.ceil(count / perPublish);

const base = Date.now() - 60 * 60_000;
const reading = (n: number) =>
  `{"ts":${base + n},"pm25":${(n % 300) + 0.5},"pm10":${(n % 400) + 1},"no2":${n % 150},"o3":${n % 90}}`;
const payloads = Array.from({ length: messages }, (_, m) => {
  const first = Math.floor(m / devices) * perPublish;
  const batch = Array.from({ length: Math.min(perPublish, count - first) }, (_, k) => reading(first + k));
  return Buffer.from(perPublish === 1 ? batch[0]! : `[${batch.join(',')}]`);
});
const topics = Array.from({ length: devices }, (_, i) => `ioc/air/bench-air-${i}/readings`);

/** Runs `send(message index)` with devices x window in flight; resolves when every message is done. */
async function drive(send: (m: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: devices * window }, async () => {
      while (next < messages) await send(next++);
    }),
  );
}

interface Figures {
  ackRate: number;
  storedRate: number;
  cpu: number;
  mainThread?: number;
}

/** CPU per reading from what a run used. */
const perReading = (used: CpuUsed) => ({
  cpu: used.micros / readings,
  mainThread: used.mainThreadMicros === undefined ? undefined : used.mainThreadMicros / readings,
});

async function bareCommitLog(): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-bench-log-'));
  const log = CommitLog.open({ dir, segmentBytes: 256 * 1024 * 1024 });
  try {
    let waiting: Array<{ payload: Buffer; done(): void }> = [];
    let appending = false;
    const flush = async () => {
      appending = true;
      while (waiting.length) {
        const group = waiting;
        waiting = [];
        await log.append(group.map((w) => w.payload));
        for (const w of group) w.done();
      }
      appending = false;
    };
    const cpu = cpuMeter();
    const t0 = performance.now();
    await drive(
      (m) =>
        new Promise<void>((done) => {
          waiting.push({ payload: payloads[m]!, done });
          if (!appending) void flush();
        }),
    );
    const seconds = (performance.now() - t0) / 1000;
    return { ackRate: readings / seconds, storedRate: readings / seconds, ...perReading(cpu()) };
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function platformPipeline(): Promise<Figures> {
  const { platform, close } = await startBenchPlatform(devices);
  try {
    const cpu = cpuMeter();
    const t0 = performance.now();
    let accepted = 0;
    await drive(async (m) => {
      const outcome = await platform.ingest.handle(topics[m % devices]!, payloads[m]!);
      if (outcome.rejected.length) throw new Error(`message ${m} refused: ${outcome.rejected[0]!.message}`);
      accepted += outcome.accepted;
    });
    const ackSeconds = (performance.now() - t0) / 1000;
    await storeCaughtUp(platform);
    const storedSeconds = (performance.now() - t0) / 1000;
    const used = cpu();
    if (accepted !== readings) throw new Error(`the platform accepted ${accepted} of ${readings} readings`);
    return { ackRate: readings / ackSeconds, storedRate: readings / storedSeconds, ...perReading(used) };
  } finally {
    await close();
  }
}

const bare = await bareCommitLog();
const platform = await platformPipeline();
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const threads = (f: Figures) =>
  f.mainThread === undefined
    ? ''
    : ` (main thread ${f.mainThread.toFixed(1)}, others ${(f.cpu - f.mainThread).toFixed(1)})`;
console.log(
  `ingest pipeline benchmark (no MQTT): ${devices} devices x ${count} readings (4 metrics), ${perPublish} per ` +
    `message, ${devices * window} in flight, ${new Date().toISOString()}`,
);
console.log(
  `  commit log alone (baseline):  ${fmt(bare.ackRate)} readings/s ` +
    `durable, CPU ${bare.cpu.toFixed(1)} µs per reading${threads(bare)}`,
);
console.log(
  `  platform, durable (the ack):  ${fmt(platform.ackRate)} readings/s  ` +
    `ratio ${(platform.ackRate / bare.ackRate).toFixed(2)}`,
);
console.log(
  `  platform, in the store:       ${fmt(platform.storedRate)} readings/s  ` +
    `ratio ${(platform.storedRate / bare.ackRate).toFixed(2)}`,
);
console.log(
  `  platform CPU per reading:     ${platform.cpu.toFixed(1)} µs${threads(platform)}, ` +
    `${(platform.cpu / bare.cpu).toFixed(1)}x the commit log alone`,
);
