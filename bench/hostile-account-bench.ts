import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { readCredentialsFile } from '../config/credentials.ts';
import { DEFAULT_LIMITS } from '../config/limits-config.ts';
import { startPlatform } from '../platform.ts';
import { writeBenchCity } from './bench-platform.ts';
import { runLoadProcess } from './load-process.ts';

/**
 * `npm run bench -- hostile-account [seconds]`: honest devices publish at a real device's pace (5/s each,
 * QoS 1) while their PUBACK latency is measured, first alone, then beside one hostile device account that
 * uses every lane it has: the maximum connections (and more), 60 KB publishes as fast as it can, QoS 2
 * left unfinished, persistent sessions. Prints RSS growth during the hostile phase beside the bound the
 * limits give (default `limits:`), and honest p50/p90 in both phases of the same run.
 */
const seconds = Number(process.argv[2] ?? 8);
const HONEST = 20;
const dir = mkdtempSync(join(tmpdir(), 'ioc-hostile-'));
const platform = await startPlatform({
  env: { IOC_CONFIG: writeBenchCity(dir, HONEST + 1) },
  overrides: {
    dataDir: join(dir, 'data'),
    mqtt: { port: 0, host: '127.0.0.1' },
    http: { port: 0, host: '127.0.0.1' },
    demo: { enabled: false },
  },
  logger: pino({ level: 'error' }),
});
const creds = readCredentialsFile(platform.credentials ? join(dir, 'data', 'credentials.json') : '');
const password = (id: string) => creds.devices.find((d) => d.sensorId === id)!.password;
const port = Number(new URL(platform.mqttUrl).port);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

const honest: MqttClient[] = await Promise.all(
  Array.from({ length: HONEST }, (_, i) =>
    mqtt.connectAsync(platform.mqttUrl, {
      username: `bench-air-${i + 1}`,
      password: password(`bench-air-${i + 1}`),
      clientId: `bench-air-${i + 1}`,
      reconnectPeriod: 0,
    }),
  ),
);
let n = 0;
async function honestPhase(ms: number): Promise<number[]> {
  const latencies: number[] = [];
  const end = Date.now() + ms;
  await Promise.all(
    honest.map(async (c, i) => {
      while (Date.now() < end) {
        const t0 = performance.now();
        await c.publishAsync(
          `ioc/air/bench-air-${i + 1}/readings`,
          JSON.stringify({ ts: Date.now() - 1000 + (n++ % 1000), pm25: 12 }),
          { qos: 1 },
        );
        latencies.push(performance.now() - t0);
        await sleep(200);
      }
    }),
  );
  return latencies;
}

// CPU of this process (the platform and the honest clients) per phase, to tell the broker's own work
// from the machine's contention (the hostile process competes for the same cores)
const cpuMs = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};
// event-loop delay per phase: whether the platform's own loop stalls, or the wait is elsewhere (fsync, cores)
const loopP99 = async <T>(run: () => Promise<T>): Promise<[T, number]> => {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const out = await run();
  h.disable();
  return [out, h.percentile(99) / 1e6];
};
const cpuAlone = process.cpuUsage();
const [baseline, loopAlone] = await loopP99(() => honestPhase(seconds * 1000));
const cpuAloneMs = cpuMs(cpuAlone);
global.gc?.();
const rssBefore = process.memoryUsage().rss;
let rssPeak = rssBefore;
const sampler = setInterval(() => {
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
}, 100);

// the hostile account, in its own process so its client-side buffers are not counted as the broker's, at
// the lowest CPU priority: it stands in for a remote attacker whose CPU is not the platform's machine's
const attack = runLoadProcess(
  fileURLToPath(new URL('./hostile-load.ts', import.meta.url)),
  {
    url: platform.mqttUrl,
    port,
    username: 'bench-air-0',
    password: password('bench-air-0'),
    seconds: seconds + 1,
    connections: DEFAULT_LIMITS.connectionsPerAccount + 4,
  },
  { lowestPriority: true },
);
await sleep(500);
const cpuAttack = process.cpuUsage();
const [underAttack, loopAttack] = await loopP99(() => honestPhase(seconds * 1000));
const cpuAttackMs = cpuMs(cpuAttack);
const attackResult = (await attack) as unknown as { refusedConnects: number; cpuMicros?: number };
const refusedConnects = attackResult.refusedConnects;
clearInterval(sampler);

const L = DEFAULT_LIMITS;
const maxPayload = 65_536;
const bound =
  L.sessionsPerAccount * (L.qos2InflightPerSession * maxPayload + L.queuedBytesPerClient) +
  L.connectionsPerAccount * L.qos2InflightPerSession * maxPayload +
  maxPayload;
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
console.log(
  `hostile account: ${DEFAULT_LIMITS.connectionsPerAccount + 4} connection loops + 4 QoS 2 floods ` +
    `for ${seconds} s beside ${HONEST} honest devices at 5 publishes/s`,
);
console.log(
  `  connects refused ${refusedConnects}; RSS growth ${mb(rssPeak - rssBefore)} (peak ${mb(rssPeak)}) vs ` +
    `bound ${mb(bound)} held for the account`,
);
console.log(
  `  honest PUBACK alone:           p50 ${pct(baseline, 0.5).toFixed(1)} ms  ` +
    `p90 ${pct(baseline, 0.9).toFixed(1)} ms  (${baseline.length} publishes)`,
);
console.log(
  `  honest PUBACK beside hostile:  p50 ${pct(underAttack, 0.5).toFixed(1)} ms  ` +
    `p90 ${pct(underAttack, 0.9).toFixed(1)} ms  (${underAttack.length} publishes)  p90 ` +
    `ratio ${(pct(underAttack, 0.9) / pct(baseline, 0.9)).toFixed(2)}x`,
);
console.log(
  `  CPU of the platform process: alone ${cpuAloneMs.toFixed(0)} ms, beside hostile ${cpuAttackMs.toFixed(0)} ` +
    `ms (${seconds} s each); hostile process ${((attackResult.cpuMicros ?? NaN) / 1000).toFixed(0)} ms`,
);
console.log(
  `  event-loop delay p99 of the platform process: alone ${loopAlone.toFixed(1)} ms, beside ` +
    `hostile ${loopAttack.toFixed(1)} ms`,
);
const metrics = await (
  await fetch(`${platform.httpUrl}/metrics`, { headers: { authorization: `Bearer ${creds.operator.token}` } })
).text();
console.log(
  metrics
    .split('\n')
    .filter((l) => l.startsWith('ioc_mqtt_refused_total'))
    .map((l) => `  ${l}`)
    .join('\n'),
);
await Promise.all(honest.map((c) => c.endAsync(true)));
await platform.close();
rmSync(dir, { recursive: true, force: true });
