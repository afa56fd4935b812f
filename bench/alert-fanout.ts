import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';
import { startBenchPlatform, summary } from './alert-bench-kit.ts';

/**
 * Alert fan-out: `--clients` WebSocket clients (another process) on /api/alerts/stream each receive every
 * alert; the latency is from the publish of the crossing reading to the alert's arrival at each client,
 * over all clients and alerts. Baseline in the same run: the same clients on a bare `ws` server that
 * broadcasts one frame of the same size to all of them.
 *
 *   npm run bench -- alert-fanout [--clients 1000] [--probes 30]
 */
const { values } = parseArgs({
  options: { clients: { type: 'string', default: '1000' }, probes: { type: 'string', default: '30' } },
});
const CLIENTS = Number(values.clients);
const PROBES = Number(values.probes);

interface Result {
  arrivals: number[];
  spreads: number[];
  epochs?: Array<[number, number]>;
}
function runClients(input: object): Promise<Result> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', new URL('./alert-fanout-clients.ts', import.meta.url).pathname, JSON.stringify(input)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as Result) : reject(new Error(`fan-out clients exited with ${code}`)),
    );
  });
}

// A frame the size of a real alert event, so the baseline moves the same bytes.
const sample = JSON.stringify({
  type: 'event',
  event: {
    seq: 1,
    type: 'firing',
    ts: Date.now(),
    alert: {
      id: '00000000-0000-0000-0000-000000000000',
      ruleId: 'flood-level-2',
      title: { vi: 'x'.repeat(300), en: 'x'.repeat(300) },
    },
  },
});
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
await new Promise((r) => wss.once('listening', r));
wss.on('connection', (socket) =>
  socket.on('message', (data) => {
    const { fire } = JSON.parse(data.toString()) as { fire: number };
    const frame = Buffer.from(sample.replace('{"seq":1,', `{"probe":${fire},"seq":1,`));
    for (const client of wss.clients) client.send(frame, { binary: false });
  }),
);
const baseline = await runClients({
  mode: 'baseline',
  wsUrl: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
  clients: CLIENTS,
  probes: PROBES,
});
await new Promise((r) => wss.close(r));

const bench = await startBenchPlatform();
const { platform } = bench;
// When the engine announced each alert (before the hub's own listener runs), on the wall clock the client
// process also reads (high resolution).
const announced = new Map<number, number>();
platform.alerts.bus.prependListener('alert', (e) => {
  announced.set(e.seq, performance.timeOrigin + performance.now());
});
const result = await runClients({
  mode: 'platform',
  wsUrl:
    `${platform.httpUrl.replace(/^http/, 'ws')}/api/alerts/stream?token=` +
    `${encodeURIComponent(bench.operatorToken)}`,
  clients: CLIENTS,
  probes: PROBES,
  mqttUrl: platform.mqttUrl,
  device: (({ username, password }) => ({ username, password }))(bench.device('water-kimlong')),
});
const stats = platform.delivery.hub.stats();
const delivery = (result.epochs ?? []).flatMap(([seq, at]) => (announced.has(seq) ? [at - announced.get(seq)!] : []));

console.log(
  `alert fan-out to ${CLIENTS} WebSocket clients, ${PROBES} alerts; node ${process.version}, ` +
    `store ${platform.store.name}`,
);
console.log(`baseline: bare ws broadcast to ${CLIENTS} clients   ${summary(baseline.arrivals)}`);
console.log(`          first to last client of one frame      ${summary(baseline.spreads)}`);
console.log(`platform: publish -> alert at every client       ${summary(result.arrivals)}`);
console.log(`          first to last client of one alert      ${summary(result.spreads)}`);
console.log(`          alert bus -> every client (delivery)   ${summary(delivery)}`);
console.log(`hub: ${stats.connected} connected, ${stats.droppedSlow} dropped as slow, ${stats.droppedDead} dead`);
await bench.stop();
process.exit(0);
