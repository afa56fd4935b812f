import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { CONFIG_DIR } from '../config/platform-config.ts';
import { startPlatform, type Platform } from '../platform.ts';

/**
 * The platform as the ingest benchmarks run it: a city of `devices` air stations (bench-air-0...), so every
 * load client is a real, authenticated device, on free ports with a fresh data directory, demo fleet off.
 */
export async function startBenchPlatform(devices: number): Promise<{ platform: Platform; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-bench-'));
  const cityDir = join(dir, 'city');
  mkdirSync(join(cityDir, 'rules'), { recursive: true });
  cpSync(join(CONFIG_DIR, 'kinds'), join(dir, 'kinds'), { recursive: true });
  const sensors = Array.from({ length: devices }, (_, i) => `  - { id: bench-air-${i}, kind: air, name: "Bench ${i}", lat: 16.46, lon: 107.59, district: "Phú Xuân" }`);
  writeFileSync(join(cityDir, 'sensors.yaml'), `sensors:\n${sensors.join('\n')}\n`);
  writeFileSync(join(cityDir, 'city.yaml'), 'id: bench\nname: { vi: "Bench", en: "Bench" }\ntimezone: Asia/Ho_Chi_Minh\ncenter: { lat: 16.46, lon: 107.59 }\nsensors: sensors.yaml\nrules: rules\n');
  writeFileSync(join(dir, 'platform.yaml'), 'city: city/city.yaml\nkindsDir: kinds\n');
  const platform = await startPlatform({
    env: { IOC_CONFIG: join(dir, 'platform.yaml') },
    overrides: { dataDir: join(dir, 'data'), mqtt: { port: 0, host: '127.0.0.1' }, http: { port: 0, host: '127.0.0.1' }, demo: { enabled: false }, ingest: { maxAgeDays: 30, maxFutureSkewSeconds: 300, maxReadingsPerPublish: 1000 } },
    logger: pino({ level: 'warn' }),
  });
  return {
    platform,
    async close() {
      await platform.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** CPU µs of this process's main thread (the broker's event loop) so far, from /proc; undefined elsewhere. */
export function mainThreadMicros(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // utime + stime, in USER_HZ (100) ticks
  } catch {
    return undefined;
  }
}
