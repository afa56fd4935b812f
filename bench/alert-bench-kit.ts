import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startPlatform, type Platform } from '../platform.ts';
import { percentile } from './bench-stats.ts';

/** Shared by bench/alert-latency.ts and bench/alert-fanout.ts: a real platform, load and percentiles. */
export interface BenchPlatform {
  platform: Platform;
  operatorToken: string;
  device(sensorId: string): { sensorId: string; kind: string; username: string; password: string };
  stop(): Promise<void>;
}

export async function startBenchPlatform(): Promise<BenchPlatform> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ioc-alert-bench-'));
  const platform = await startPlatform({
    env: {},
    overrides: {
      dataDir,
      mqtt: { port: 0, host: '127.0.0.1' },
      http: { port: 0, host: '127.0.0.1' },
      demo: { enabled: false },
      log: { level: 'warn' },
    },
    logger: pino({ level: 'warn' }),
  });
  const creds = platform.credentials!;
  return {
    platform,
    operatorToken: creds.operator.token,
    device(sensorId) {
      const d = creds.devices.find((x) => x.sensorId === sensorId);
      if (!d) throw new Error(`no device ${sensorId}`);
      return { sensorId, kind: d.kind, username: d.username, password: d.password };
    },
    async stop() {
      await platform.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Readings of air and traffic stations, all inside every threshold: load without alerts. */
export const BACKGROUND_SENSORS = [
  'air-ngomon',
  'air-dongba',
  'air-gahue',
  'air-ancuu',
  'air-benhvien',
  'air-phubai',
  'air-thuanan',
  'air-kimlong',
  'traffic-truongtien',
  'traffic-phuxuan',
  'traffic-davien',
  'traffic-ancuu',
  'traffic-gahue',
  'traffic-phubai',
];

export interface LoadProcess {
  /** stops the load and returns what it achieved */
  stop(): Promise<{ readings: number; seconds: number; shortfall: number }>;
}

/** Runs bench/alert-load.ts in its own process (its own core), publishing `rate` readings/s over MQTT. */
export function startLoad(bench: BenchPlatform, rate: number, batch: number): Promise<LoadProcess> {
  const input = { url: bench.platform.mqttUrl, devices: BACKGROUND_SENSORS.map((s) => bench.device(s)), rate, batch };
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', new URL('./alert-load.ts', import.meta.url).pathname, JSON.stringify(input)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    const onLine = () => {
      if (!out.includes('ready\n')) return;
      child.stdout.off('data', onLine);
      resolve({
        stop: () =>
          new Promise((done) => {
            child.once('exit', () =>
              done(
                JSON.parse(out.slice(out.indexOf('ready\n') + 6).trim()) as {
                  readings: number;
                  seconds: number;
                  shortfall: number;
                },
              ),
            );
            child.stdin.end();
          }),
      });
    };
    child.stdout.on('data', onLine);
  });
}

export function summary(values: readonly number[]): string {
  const s = [...values].sort((a, b) => a - b);
  const f = (n: number) => n.toFixed(2).padStart(7);
  return (
    `p50 ${f(percentile(s, 0.5))} ms   p99 ${f(percentile(s, 0.99))} ms   ` +
    `max ${f(s[s.length - 1] ?? Number.NaN)} ms   (n=${s.length})`
  );
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
