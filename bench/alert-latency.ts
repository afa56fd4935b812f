import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { WebSocket, WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { eventsOf, type ServerMessage } from '../alerts/delivery/alert-stream-protocol.ts';
import { sleep, startBenchPlatform, startLoad, summary } from './alert-bench-kit.ts';

/**
 * Alert latency: from the publish of a crossing reading (QoS 1, by a real MQTT client) to the alert's
 * arrival at a WebSocket client of /api/alerts/stream, on a real platform (commit log, embedded store,
 * alerts engine), under a background load of `--rate` readings/s from another process. Baselines from the
 * same run: a bare `ws` echo round trip, and the crossing publish's own PUBACK (durable in the commit log).
 *
 *   npm run bench -- alert-latency [--rate 10000] [--batch 10] [--probes 200]
 */
const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '10000' },
    batch: { type: 'string', default: '10' },
    probes: { type: 'string', default: '200' },
  },
});
const RATE = Number(values.rate);
const PROBES = Number(values.probes);

async function wsEchoBaseline(n: number): Promise<number[]> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (s) => s.on('message', (d) => s.send(d, { binary: false })));
  const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  await new Promise((r) => ws.once('open', r));
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    ws.send(JSON.stringify({ type: 'event', i }));
    await new Promise((r) => ws.once('message', r));
    out.push(performance.now() - t);
  }
  ws.close();
  await new Promise((r) => wss.close(r));
  return out;
}

const bench = await startBenchPlatform();
const { platform } = bench;
const echo = await wsEchoBaseline(PROBES);

const stream = new WebSocket(
  `${platform.httpUrl.replace(/^http/, 'ws')}/api/alerts/stream?token=` +
    `${encodeURIComponent(bench.operatorToken)}&kind=water`,
);
const waiting = new Map<string, (at: number) => void>();
// The platform runs in this process, so the moment the engine announces the alert is on the same clock.
let announcedAt = 0;
platform.alerts.bus.prependListener('alert', (e) => {
  if (e.type === 'firing' && e.alert.ruleId === 'flood-level-2') announcedAt = performance.now();
});
stream.on('message', (data) => {
  const at = performance.now();
  for (const event of eventsOf(JSON.parse(data.toString()) as ServerMessage)) {
    if (event.alert.ruleId === 'flood-level-2') waiting.get(event.type)?.(at);
  }
});
await new Promise((r) => stream.once('open', r));
const probe = bench.device('water-kimlong');
const device = await mqtt.connectAsync(platform.mqttUrl, {
  username: probe.username,
  password: probe.password,
  clientId: `${probe.username}-latency`,
  reconnectPeriod: 0,
});
const next = (type: string) =>
  new Promise<number>((resolve) =>
    waiting.set(type, (at) => {
      waiting.delete(type);
      resolve(at);
    }),
  );

async function cycle(): Promise<{ alert: number; puback: number; delivery: number }> {
  const fired = next('firing');
  const t0 = performance.now();
  await device.publishAsync('ioc/water/water-kimlong/readings', JSON.stringify({ waterLevel: 2.4 }), { qos: 1 });
  const puback = performance.now() - t0;
  const arrived = await fired;
  const alert = arrived - t0;
  const delivery = arrived - announcedAt;
  const cleared = next('resolved');
  await device.publishAsync('ioc/water/water-kimlong/readings', JSON.stringify({ waterLevel: 0.5 }), { qos: 1 });
  await cleared;
  return { alert, puback, delivery };
}

async function run(label: string): Promise<void> {
  for (let i = 0; i < 10; i++) await cycle(); // warm-up
  const alerts: number[] = [];
  const pubacks: number[] = [];
  const deliveries: number[] = [];
  for (let i = 0; i < PROBES; i++) {
    const r = await cycle();
    alerts.push(r.alert);
    pubacks.push(r.puback);
    deliveries.push(r.delivery);
    await sleep(5);
  }
  console.log(`${label}`);
  console.log(`  publish -> alert on WebSocket   ${summary(alerts)}`);
  console.log(`  publish -> PUBACK (durable)     ${summary(pubacks)}`);
  console.log(`  alert bus -> WebSocket client   ${summary(deliveries)}`);
}

console.log(`alert latency, ${PROBES} crossings; node ${process.version}, store ${platform.store.name}`);
console.log(`baseline: bare ws echo round trip ${summary(echo)}`);
await run('idle platform');
const load = await startLoad(bench, RATE, Number(values.batch));
await sleep(2000);
await run(
  `under background load of ${RATE.toLocaleString('en-US')} ` +
    `readings/s (batches of ${values.batch}, QoS 1, another process)`,
);
const achieved = await load.stop();
console.log(
  `  background load achieved: ${Math.round(achieved.readings / achieved.seconds).toLocaleString('en-US')} ` +
    `readings/s acknowledged (${achieved.shortfall} skipped at the in-flight cap)`,
);
stream.close();
await device.endAsync(true);
await bench.stop();
// Pino's and the worker's handles may linger a moment; a benchmark has nothing left to wait for.
process.exit(0);
