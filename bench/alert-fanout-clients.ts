import mqtt from 'mqtt';
import { WebSocket } from 'ws';

/**
 * The client side of bench/alert-fanout.ts, in its own process: `clients` WebSocket connections, and
 * the timing of each alert's arrival at every one of them. Timing is all on this process's clock.
 *   mode "baseline": a bare ws server that broadcasts whatever one client sends ("fire")
 *   mode "platform": /api/alerts/stream; a device publishes a crossing reading and then a clearing one
 * Prints one JSON line: { arrivals: ms[], spreads: ms[], epochs: [seq, epoch ms][] } (spread: first to
 * last client of one alert).
 */
interface Input {
  mode: 'baseline' | 'platform';
  wsUrl: string;
  clients: number;
  probes: number;
  mqttUrl?: string;
  device?: { username: string; password: string };
}
const input = JSON.parse(process.argv[2] ?? '{}') as Input;

type Handler = (data: string, at: number) => void;
let onMessage: Handler = () => undefined;
const sockets: WebSocket[] = [];
for (let i = 0; i < input.clients; i += 50) {
  // in groups, so that the connect storm itself is not what is measured
  await Promise.all(
    Array.from(
      { length: Math.min(50, input.clients - i) },
      () =>
        new Promise<void>((resolve, reject) => {
          const ws = new WebSocket(input.wsUrl);
          ws.on('message', (data) => onMessage(data.toString(), performance.now()));
          ws.once('open', () => resolve());
          ws.once('error', reject);
          sockets.push(ws);
        }),
    ),
  );
}

/** Resolves with every client's arrival time of the first message that `match` accepts. */
let lastMatch = '';
function collect(match: (data: string) => boolean): Promise<number[]> {
  const arrivals: number[] = [];
  return new Promise((resolve) => {
    onMessage = (data, at) => {
      if (!match(data)) return;
      lastMatch = data;
      arrivals.push(at);
      if (arrivals.length === input.clients) resolve(arrivals);
    };
  });
}

const arrivals: number[] = [];
const spreads: number[] = [];
/** [seq, arrival as epoch ms]: the platform process compares it with the moment the engine announced seq */
const epochs: Array<[number, number]> = [];
const epoch = (at: number) => performance.timeOrigin + at;
const record = (t0: number, at: number[]) => {
  for (const a of at) arrivals.push(a - t0);
  spreads.push(Math.max(...at) - Math.min(...at));
};
await new Promise((r) => setTimeout(r, 500));

if (input.mode === 'baseline') {
  for (let i = 0; i < input.probes + 5; i++) {
    const got = collect((d) => d.includes(`"probe":${i},`));
    const t0 = performance.now();
    sockets[0]!.send(JSON.stringify({ fire: i }));
    const at = await got;
    if (i >= 5) record(t0, at);
  }
} else {
  const device = await mqtt.connectAsync(input.mqttUrl!, {
    ...input.device!,
    clientId: `${input.device!.username}-fanout`,
    reconnectPeriod: 0,
  });
  const is = (type: string) => (d: string) => d.includes(`"type":"${type}"`) && d.includes('"ruleId":"flood-level-2"');
  for (let i = 0; i < input.probes + 5; i++) {
    const fired = collect(is('firing'));
    const t0 = performance.now();
    await device.publishAsync('ioc/water/water-kimlong/readings', JSON.stringify({ waterLevel: 2.4 }), { qos: 1 });
    const at = await fired;
    if (i >= 5) {
      record(t0, at);
      const seq = Number(/"seq":(\d+)/.exec(lastMatch)?.[1]);
      for (const a of at) epochs.push([seq, epoch(a)]);
    }
    const cleared = collect(is('resolved'));
    await device.publishAsync('ioc/water/water-kimlong/readings', JSON.stringify({ waterLevel: 0.5 }), { qos: 1 });
    await cleared;
  }
  await device.endAsync();
}
for (const s of sockets) s.terminate();
const round = (xs: number[]) => xs.map((x) => Math.round(x * 100) / 100);
// exit only once the pipe has taken the whole line
process.stdout.write(`${JSON.stringify({ arrivals: round(arrivals), spreads: round(spreads), epochs })}\n`, () =>
  process.exit(0),
);
