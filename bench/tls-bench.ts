import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeDevCertificates } from '../cli/tls-dev-cert.ts';
import { cpuMeter, startBenchPlatform, benchDeviceList } from './bench-platform.ts';
import { runLoadProcess, type LoadResult } from './load-process.ts';
import { median } from './bench-stats.ts';

/**
 * Ingest over MQTT over TLS against plaintext MQTT, in one run on one platform: the same devices, the same
 * load generator (its own process), QoS 1 readings acknowledged once durable. Rounds alternate plaintext
 * and TLS, after an uncounted warm-up, so that a noisy neighbour weighs on both alike. The TLS client verifies the
 * server certificate
 * (a dev CA from `ioc tls dev-cert`, EC P-256).
 *
 *   npm run bench -- tls [--devices 50] [--count 2000] [--window 32] [--per-publish 1] [--rounds 2]
 */
const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '50' },
    count: { type: 'string', default: '2000' },
    window: { type: 'string', default: '32' },
    'per-publish': { type: 'string', default: '1' },
    rounds: { type: 'string', default: '2' },
  },
});
const devices = Number(values.devices);
const count = Number(values.count);
const window = Number(values.window);
const perPublish = Number(values['per-publish']);
const rounds = Number(values.rounds);
const LOAD = fileURLToPath(new URL('./mqtt-load.ts', import.meta.url));

const certDir = mkdtempSync(join(tmpdir(), 'ioc-bench-tls-'));
await writeDevCertificates(certDir);
const ca = readFileSync(join(certDir, 'ca.crt'), 'utf8');
const { platform, close } = await startBenchPlatform(devices, {
  tls: { cert: join(certDir, 'server.crt'), key: join(certDir, 'server.key'), mqttPort: 0 },
});

interface Run {
  rate: number;
  serverMicros: number;
  clientMicros: number;
  connectMs: number;
}
const runs: Record<'plain' | 'tls', Run[]> = { plain: [], tls: [] };
try {
  const list = benchDeviceList(platform);
  // warm-up, not counted: the first run pays for JIT compilation and the store's first pages
  await runLoadProcess(LOAD, { url: platform.mqttUrl, devices: list, count: Math.ceil(count / 5), window, perPublish });
  for (let round = 0; round < rounds; round++) {
    // the order flips each round: a machine getting busier or quieter during the run favours neither
    for (const mode of round % 2 === 0 ? (['plain', 'tls'] as const) : (['tls', 'plain'] as const)) {
      const cpu = cpuMeter();
      const result: LoadResult = await runLoadProcess(LOAD, {
        url: mode === 'tls' ? platform.mqttsUrl : platform.mqttUrl,
        devices: list,
        count,
        window,
        perPublish,
        ...(mode === 'tls' ? { ca } : {}),
      });
      runs[mode].push({
        rate: result.acked / result.seconds,
        serverMicros: cpu().micros / result.acked,
        clientMicros: (result.cpuMicros ?? 0) / result.acked,
        connectMs: (result.connectSeconds ?? 0) * 1000,
      });
    }
  }
} finally {
  await close();
  rmSync(certDir, { recursive: true, force: true });
}

const summary = (rs: Run[]) => ({
  rate: median(rs.map((r) => r.rate)),
  server: median(rs.map((r) => r.serverMicros)),
  client: median(rs.map((r) => r.clientMicros)),
  connectMs: median(rs.map((r) => r.connectMs)),
});
const plain = summary(runs.plain);
const tls = summary(runs.tls);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(
  `TLS ingest benchmark: ${devices} devices x ${count} QoS 1 readings (4 metrics), ${perPublish} per publish, ` +
    `window ${window}, ${rounds} rounds each (median), ${new Date().toISOString()}`,
);
console.log(
  `  plaintext MQTT (baseline): ${fmt(plain.rate)} readings/s acknowledged   ` +
    `rounds: ${runs.plain.map((r) => fmt(r.rate)).join(', ')}`,
);
console.log(
  `  MQTT over TLS:             ${fmt(tls.rate)} readings/s acknowledged   ` +
    `rounds: ${runs.tls.map((r) => fmt(r.rate)).join(', ')}   ratio of ` +
    `medians ${(tls.rate / plain.rate).toFixed(2)}`,
);
const ratios = runs.tls.map((r, i) => r.rate / runs.plain[i]!.rate);
console.log(
  `  TLS / plaintext per round: ${ratios.map((r) => r.toFixed(2)).join(', ')}; ` +
    `median ${median(ratios).toFixed(2)}; CPU-cost ratio (platform + load ` +
    `generator) ${((tls.server + tls.client) / (plain.server + plain.client)).toFixed(2)}`,
);
console.log(
  `  CPU µs per reading (platform + load generator): plaintext ${plain.server.toFixed(1)} ` +
    `+ ${plain.client.toFixed(1)}, TLS ${tls.server.toFixed(1)} + ${tls.client.toFixed(1)}`,
);
console.log(
  `  opening ${devices} connections (CONNECT to CONNACK, all at once): plaintext ${fmt(plain.connectMs)} ms, ` +
    `TLS (handshake included) ${fmt(tls.connectMs)} ms`,
);
