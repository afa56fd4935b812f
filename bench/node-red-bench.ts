import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startInfluxd } from '../test-support/influxd.ts';
import { startBareBroker, startBenchPlatform } from './bench-platform.ts';
import { cpuMicrosOf } from './cluster-nodes.ts';
import { benchLine, influxql, postLines, waitStored } from './influx-bench-kit.ts';
import { runLoadProcess } from './load-process.ts';
import { installNodeRed, type NodeRedFlow, startNodeRedFlow } from './node-red-flow.ts';
import { median } from './bench-stats.ts';

/**
 * Issue 17: readings per second stored into InfluxDB by the platform beside the same design built in Node-RED
 * (aedes broker node -> function node -> join -> influxdb batch node, bench/node-red/flow.json), and beside the
 * two baselines the platform is held to, all in one run on one influxd: a bare Aedes broker's QoS 1 ack rate and
 * InfluxDB's raw `/write` rate. The devices (mqtt-load.ts, a process of its own) publish the platform's topics
 * and payloads for `seconds`; a stored rate runs from the first publish until InfluxDB holds every acknowledged
 * reading, counted by a query. Each MQTT path is warmed up first (`warmup` seconds, two hours back in time, not
 * counted). Rounds interleave the paths, so a busy neighbour on a shared machine hits each alike.
 *
 *   npm run bench -- node-red [--seconds 5] [--connections 10] [--window 32] [--per-publish 1] [--batch 5000]
 *                             [--rounds 1] [--warmup 1]
 */
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '10' },
    window: { type: 'string', default: '32' },
    'per-publish': { type: 'string', default: '1' },
    batch: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '1' },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const window = Number(values.window);
const perPublish = Number(values['per-publish']);
const batch = Number(values.batch);
const rounds = Number(values.rounds);
const warmup = Number(values.warmup);
const LOAD = fileURLToPath(new URL('./mqtt-load.ts', import.meta.url));
const RAW_IN_FLIGHT = 4;
const HOUR = 3_600_000;

installNodeRed();
const influx = await startInfluxd({ own: true });

interface Run {
  /** readings per second: acknowledged (bare Aedes), written (raw) or stored (counted in InfluxDB) */
  rate: number;
  /** CPU µs per reading: the process under test (or the raw client), and influxd */
  serverUs: number;
  influxdUs: number;
  ackRate?: number;
  /** ms from the last acknowledgement until InfluxDB held every reading */
  tailMs?: number;
  /** acknowledged and never stored */
  lost?: number;
}

/** CPU used from now on by the process under test and influxd; the function returned gives it per reading. */
function cpuFrom(serverMicros: () => number): (readings: number) => { serverUs: number; influxdUs: number } {
  const server = serverMicros();
  const influxd = cpuMicrosOf(influx.pid());
  return (readings) => ({
    serverUs: (serverMicros() - server) / readings,
    influxdUs: (cpuMicrosOf(influx.pid()) - influxd) / readings,
  });
}
const thisProcess = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

type Devices = Array<{ sensorId: string; kind: string; username?: string; password?: string }>;
const load = (url: string, devices: Devices, forSeconds: number, base: number) =>
  runLoadProcess(LOAD, { url, devices, window, perPublish, seconds: forSeconds, base });

async function bareAedes(): Promise<Run> {
  const broker = await startBareBroker(connections);
  try {
    if (warmup > 0) await load(broker.url, broker.devices, warmup, Date.now() - 2 * HOUR);
    const cpu = cpuFrom(thisProcess);
    const result = await load(broker.url, broker.devices, seconds, Date.now() - HOUR);
    return { rate: result.acked / result.seconds, ...cpu(result.acked) };
  } finally {
    await broker.close();
  }
}

/** The devices' readings as line protocol, `batch` lines a POST, 4 in flight, for `seconds`. */
async function rawWrite(db: string): Promise<Run> {
  await influxql(influx.url, '', `CREATE DATABASE "${db}"`);
  const base = Date.now() - HOUR;
  let [device, n, written] = [0, 0, 0];
  const cpu = cpuFrom(thisProcess);
  const started = performance.now();
  const end = started + seconds * 1000;
  const nextBody = () => {
    if (performance.now() >= end) return undefined;
    const lines: string[] = [];
    for (let i = 0; i < batch; i++) {
      lines.push(benchLine(device, n, base));
      if (++device === connections) [device, n] = [0, n + 1];
    }
    written += batch;
    return lines.join('\n');
  };
  await postLines(influx.url, db, nextBody, RAW_IN_FLIGHT);
  return { rate: written / ((performance.now() - started) / 1000), ...cpu(written) };
}

/** Devices publish to `url`; the clock stops when InfluxDB holds every reading acknowledged. */
async function storedRate(db: string, url: string, devices: Devices, serverMicros: () => number): Promise<Run> {
  let warm = 0;
  if (warmup > 0) {
    warm = (await load(url, devices, warmup, Date.now() - 2 * HOUR)).acked;
    await waitStored(influx.url, db, warm);
  }
  const cpu = cpuFrom(serverMicros);
  const result = await load(url, devices, seconds, Date.now() - HOUR);
  const { stored, at } = await waitStored(influx.url, db, warm + result.acked);
  const readings = stored - warm;
  return {
    rate: readings / ((at - result.startedAt!) / 1000),
    ackRate: result.acked / result.seconds,
    tailMs: at - (result.startedAt! + result.seconds * 1000),
    lost: result.acked - readings,
    ...cpu(readings),
  };
}

let nodeRedVersions: NodeRedFlow['versions'] | undefined;
async function nodeRed(db: string): Promise<Run> {
  await influxql(influx.url, '', `CREATE DATABASE "${db}"`);
  // a partial batch waits 0.2 s, as long as the platform's InfluxDB writer lingers (store.influxdb.flushIntervalMs)
  const flow = await startNodeRedFlow({ influxUrl: influx.url, database: db, batch, batchTimeoutSeconds: 0.2 });
  nodeRedVersions = flow.versions;
  try {
    const devices = Array.from({ length: connections }, (_, i) => ({ sensorId: `bench-air-${i}`, kind: 'air' }));
    return await storedRate(db, flow.mqttUrl, devices, () => cpuMicrosOf(flow.pid()));
  } finally {
    await flow.stop();
  }
}

async function platform(db: string): Promise<Run> {
  const { platform: p, close } = await startBenchPlatform(
    connections,
    {},
    {
      platformLines: [
        'store:',
        '  engine: influxdb',
        '  log: { maxBytes: 4294967296 }',
        `  influxdb: { url: "${influx.url}", database: ${db}, batchSize: ${batch}, timeoutMs: 30000 }`,
      ],
    },
  );
  try {
    const devices = p.credentials!.devices.map(({ sensorId, kind, username, password }) => ({
      sensorId,
      kind,
      username,
      password,
    }));
    return await storedRate(db, p.mqttUrl, devices, thisProcess);
  } finally {
    await close();
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const us = (n: number) => n.toFixed(1).padStart(5);

try {
  const PATHS = {
    bare: 'bare Aedes, acknowledged',
    raw: `raw InfluxDB /write (${batch} lines, ${RAW_IN_FLIGHT} in flight)`,
    nodeRed: 'Node-RED flow, stored in InfluxDB',
    platform: 'platform, stored in InfluxDB',
  };
  const runs = new Map<string, Run[]>(Object.values(PATHS).map((name) => [name, []]));
  for (let r = 1; r <= rounds; r++) {
    runs.get(PATHS.bare)!.push(await bareAedes());
    runs.get(PATHS.raw)!.push(await rawWrite(`bench_raw_${r}`));
    runs.get(PATHS.nodeRed)!.push(await nodeRed(`bench_node_red_${r}`));
    runs.get(PATHS.platform)!.push(await platform(`bench_platform_${r}`));
  }
  const m = (name: string, f: (x: Run) => number | undefined) => median(runs.get(name)!.map((x) => f(x) ?? 0));
  const rate = (name: string) => m(name, (x) => x.rate);
  const influxd = (await fetch(`${influx.url}/ping`)).headers.get('x-influxdb-version');
  console.log(`node-red benchmark, ${new Date().toISOString()}, ${availableParallelism()} cores, influxd ${influxd}`);
  console.log(
    `  Node-RED ${nodeRedVersions?.nodeRed} on Node.js ${nodeRedVersions?.node}; the platform, the baselines and ` +
      `the load generator on ${process.version}`,
  );
  console.log(
    `  ${connections} connections, ${perPublish} reading(s) of 4 fields per QoS 1 publish, ${window} in flight ` +
      `each, ${seconds} s a path (+${warmup} s warm-up), ${rounds} round(s)`,
  );
  console.log('  path                                           readings/s  CPU µs/reading: process + influxd  rounds');
  for (const [name, list] of runs) {
    console.log(
      `  ${name.padEnd(45)} ${fmt(rate(name)).padStart(11)}  ${us(m(name, (x) => x.serverUs))} + ` +
        `${us(m(name, (x) => x.influxdUs))}                    ${list.map((x) => fmt(x.rate)).join(' / ')}`,
    );
  }
  for (const [who, name, when] of [
    ['Node-RED', PATHS.nodeRed, 'on receipt, before it stores: a crash loses what is not yet written'],
    ['platform', PATHS.platform, 'once the reading is fsynced in its commit log, before it is in InfluxDB'],
  ] as const) {
    const lost = m(name, (x) => x.lost);
    console.log(`  ${who} acknowledged ${fmt(m(name, (x) => x.ackRate))} readings/s, ${when};`);
    console.log(
      `    InfluxDB held every reading ${fmt(m(name, (x) => x.tailMs))} ms after the last acknowledgement` +
        (lost > 0 ? `, ${fmt(lost)} never stored` : ''),
    );
  }
  const platformStored = rate(PATHS.platform);
  const floor = Math.min(rate(PATHS.bare), rate(PATHS.raw));
  const verdict = (ok: boolean) => (ok ? 'met' : 'not met');
  const ofFloor = platformStored / floor;
  const ofNodeRed = platformStored / rate(PATHS.nodeRed);
  console.log(
    `  platform stored / min(bare Aedes, raw /write) = ${ofFloor.toFixed(2)} (goal 0.8: ${verdict(ofFloor >= 0.8)})`,
  );
  console.log(`  platform stored / Node-RED stored = ${ofNodeRed.toFixed(2)}x (goal 4x: ${verdict(ofNodeRed >= 4)})`);
  // what neighbours on a shared machine move least: the rate each one's CPU per reading allows
  const cpuPer = (name: string) => m(name, (x) => x.serverUs) + m(name, (x) => x.influxdUs);
  console.log(
    `  by CPU per reading (process + influxd): Node-RED ${cpuPer(PATHS.nodeRed).toFixed(1)} µs, platform ` +
      `${cpuPer(PATHS.platform).toFixed(1)} µs, ${(cpuPer(PATHS.nodeRed) / cpuPer(PATHS.platform)).toFixed(2)}x`,
  );
} finally {
  await influx.dispose();
}
