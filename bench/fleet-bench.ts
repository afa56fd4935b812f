import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadCity, type City } from '../config/city-config.ts';
import { systemClock } from '../core/clock.ts';
import { readCredentialsFile } from '../config/credentials.ts';
import { CONFIG_DIR } from '../config/platform-config.ts';
import { writeFleetCity } from '../simulators/fleet-city.ts';
import { createMqttFleetSink, type DeviceLogin } from '../simulators/mqtt-fleet-sink.ts';
import { parseScenario, resolveScenario } from '../simulators/scenario-loader.ts';
import { startScenarioRun } from '../simulators/scenario-runner.ts';
import { loadSimulators } from '../simulators/simulator-registry.ts';
import { spawnPlatform } from '../test-support/platform-process.ts';

/**
 * Sizing a city: N simulated devices (default 10,000), each its own MQTT connection from this one process,
 * against the platform in a separate process (each side holds N sockets; one process would need 2N file
 * descriptors). Reports the time to connect the fleet, memory per connection on both sides, and the
 * readings per second acknowledged while every device reports every N/rate seconds. Baseline in the same
 * run: the same fleet against a bare Aedes broker (no authentication, no ingest, no store).
 *
 *   npm run bench -- fleet [--devices 10000] [--seconds 60] [--rate 1000] [--concurrency 200]
 */
const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '60' },
    rate: { type: 'string' },
    concurrency: { type: 'string', default: '200' },
    'skip-baseline': { type: 'boolean' },
  },
});
const devices = Number(values.devices);
const seconds = Number(values.seconds);
const rate = Number(values.rate ?? Math.max(1, devices / 10));
const concurrency = Number(values.concurrency);
const MB = 1024 * 1024;

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

function ownMemory(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}

interface Result {
  connectMs: number;
  clientBytes: number;
  serverBytes: number;
  ackedPerSecond: number;
  rejected: number;
  failed: number;
  connected: number;
}

async function runFleet(
  city: City,
  url: string,
  pid: number,
  loginOf: (id: string) => DeviceLogin | undefined,
  operator?: DeviceLogin,
): Promise<Result> {
  const simulators = await loadSimulators();
  const interval = Math.round((devices / rate) * 1000);
  const scenario = parseScenario(
    'name: fleet-bench\ntitle: { vi: "Đo tải", en: "Fleet benchmark" }\nseed: 1\n' +
      `duration: ${seconds}s\ninterval: ${interval}ms\n`,
    'fleet-bench',
  );
  const resolved = resolveScenario(scenario, city, simulators);
  const sink = createMqttFleetSink({
    url,
    loginOf,
    operator,
    connectConcurrency: concurrency,
    settleMs: 1000,
    logger: { info: (m) => console.error(`  ${m}`), warn: (m) => console.error(`  warning: ${m}`) },
  });
  const clientBefore = ownMemory();
  const serverBefore = rssOf(pid);
  const connectStart = Date.now();
  // The runner opens the sink; its first tick comes right after every device is connected.
  const runPromise = startScenarioRun({ resolved, city, simulators, sink, clock: systemClock, speed: 1 });
  const run = await runPromise;
  const connectMs = Date.now() - connectStart;
  const connected = run.progress().sink.connected;
  const clientBytes = (ownMemory() - clientBefore) / devices;
  const serverBytes = (rssOf(pid) - serverBefore) / devices;
  const runStart = Date.now();
  const final = await run.done;
  const runSeconds = (Date.now() - runStart) / 1000;
  return {
    connectMs,
    clientBytes,
    serverBytes,
    ackedPerSecond: final.sink.acknowledged / runSeconds,
    rejected: final.sink.rejected,
    failed: final.sink.failed,
    connected,
  };
}

async function bareBroker(): Promise<{ child: ChildProcess; url: string }> {
  const code = `import { Aedes } from 'aedes'; import { createServer } from 'node:net';
const aedes = await Aedes.createBroker(); const server = createServer(aedes.handle);
server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    cwd: join(CONFIG_DIR, '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<string>((resolve) =>
    child.stdout!.once('data', (c: Buffer) => resolve(c.toString().trim())),
  );
  process.once('exit', () => child.kill('SIGKILL'));
  return { child, url: `mqtt://127.0.0.1:${port}` };
}

const dir = mkdtempSync(join(tmpdir(), 'ioc-fleet-bench-'));
const baseFile = join(CONFIG_DIR, 'cities/hue/city.yaml');
const cityFile = writeFleetCity(join(dir, 'city'), loadCity(baseFile, join(CONFIG_DIR, 'kinds')), baseFile, devices);
const city = loadCity(cityFile, join(CONFIG_DIR, 'kinds'));
console.error(
  `fleet benchmark: ${devices} devices, a reading every ${(devices / rate).toFixed(1)} s each ` +
    `(${rate}/s), ${seconds} s per run`,
);

const platform = await spawnPlatform({ IOC_CITY: cityFile, IOC_DATA_DIR: join(dir, 'data') }, 120_000);
const creds = readCredentialsFile(join(dir, 'data', 'credentials.json'));
const logins = new Map(creds.devices.map((d) => [d.sensorId, { username: d.username, password: d.password }]));
console.error('platform:');
const onPlatform = await runFleet(city, platform.mqttUrl, platform.child.pid!, (id) => logins.get(id), {
  username: 'operator',
  password: creds.operator.token,
});
platform.child.kill('SIGTERM');
await platform.exited;

let bare: Result | undefined;
if (!values['skip-baseline']) {
  const broker = await bareBroker();
  console.error('bare Aedes (baseline):');
  bare = await runFleet(city, broker.url, broker.child.pid!, () => undefined);
  broker.child.kill('SIGKILL');
}
rmSync(dir, { recursive: true, force: true });

const row = (name: string, r: Result) =>
  `  ${name.padEnd(22)} ${String(r.connected).padStart(6)} connected ` +
  `in ${(r.connectMs / 1000).toFixed(1).padStart(5)} s   ` +
  `${r.ackedPerSecond.toFixed(0).padStart(6)} readings/s acked   client ${(r.clientBytes / 1024).toFixed(1)} ` +
  `KiB/conn   server ${(r.serverBytes / 1024).toFixed(1)} KiB/conn   rejected ${r.rejected}, lost ${r.failed}`;
console.log(
  `fleet of ${devices} devices, target ${rate} readings/s, ${seconds} s (client memory: RSS growth of this ` +
    `process${(globalThis as { gc?: unknown }).gc ? ', after gc' : ''}; server: broker process RSS growth)`,
);
if (bare) console.log(row('bare Aedes (baseline)', bare));
console.log(row('platform', onPlatform));
if (bare)
  console.log(
    `  ratio platform/bare: connect time ${(onPlatform.connectMs / bare.connectMs).toFixed(2)}, ` +
      `readings/s ${(onPlatform.ackedPerSecond / bare.ackedPerSecond).toFixed(2)}`,
  );
console.log(`  total memory in this process at the end: ${(process.memoryUsage().rss / MB).toFixed(0)} MiB`);
