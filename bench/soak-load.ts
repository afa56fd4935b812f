import { createHistogram } from 'node:perf_hooks';
import mqtt from 'mqtt';
import { WebSocket } from 'ws';

/**
 * The client side of bench/soak-bench.ts, in its own process: `devices` MQTT devices each publishing one
 * QoS 1 air reading every `intervalMs` (paced, not as fast as acknowledged), and `operators` WebSocket
 * clients on the alert stream. Every `sampleMs` it prints one JSON line:
 * { t, published, acked, failed, pubackP50Ms, pubackP99Ms, pubackMaxMs, alertMessages }; then `{"done":true}`.
 * Input (argv[2], JSON): { mqttUrl, wsUrl, operatorToken, devices: [{ sensorId, kind, username, password }],
 *   intervalMs, sampleMs, durationMs, operators }
 */
interface Input {
  mqttUrl: string;
  wsUrl: string;
  operatorToken: string;
  devices: Array<{ sensorId: string; kind: string; username: string; password: string }>;
  intervalMs: number;
  sampleMs: number;
  durationMs: number;
  operators: number;
}
const input = JSON.parse(process.argv[2] ?? '{}') as Input;

let alertMessages = 0;
const sockets = await Promise.all(
  Array.from(
    { length: input.operators },
    () =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(`${input.wsUrl}/api/alerts/stream?token=${encodeURIComponent(input.operatorToken)}`);
        ws.on('message', () => {
          alertMessages++;
        });
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
      }),
  ),
);

const clients: mqtt.MqttClient[] = [];
for (let i = 0; i < input.devices.length; i += 100) {
  // in groups: a thousand simultaneous CONNECTs is a reconnect storm, not the steady state being measured
  clients.push(
    ...(await Promise.all(
      input.devices.slice(i, i + 100).map((d) =>
        mqtt.connectAsync(input.mqttUrl, {
          username: d.username,
          password: d.password,
          clientId: `${d.sensorId}-soak-${process.pid}`,
          reconnectPeriod: 1000,
        }),
      ),
    )),
  );
}

const puback = createHistogram();
let published = 0;
let acked = 0;
let failed = 0;
const started = Date.now();
const timers = clients.map((client, i) => {
  const d = input.devices[i]!;
  const topic = `ioc/${d.kind}/${d.sensorId}/readings`;
  let level = 20 + (i % 30);
  const tick = () => {
    // a random walk that now and then crosses the bench rule's threshold, so alerts fire and resolve
    level = Math.min(
      400,
      Math.max(1, level + (Math.random() - 0.5) * 8 + (Math.random() < 0.0005 ? 150 : 0) - (level > 120 ? 10 : 0)),
    );
    const body = `{"ts":${Date.now()},"pm25":${level.toFixed(1)},"pm10":${(level * 1.6).toFixed(1)},"temperature":27.5}`;
    const t0 = performance.now();
    published++;
    client.publishAsync(topic, body, { qos: 1 }).then(
      () => {
        acked++;
        puback.record(Math.max(1, Math.round((performance.now() - t0) * 1000)));
      },
      () => {
        failed++;
      },
    );
  };
  // spread the devices over the interval so the load is even, not a burst every interval
  return setTimeout(
    () => {
      tick();
      timers[i] = setInterval(tick, input.intervalMs);
    },
    (i * input.intervalMs) / clients.length,
  );
});

const sample = setInterval(() => {
  const line = {
    t: Math.round((Date.now() - started) / 1000),
    published,
    acked,
    failed,
    alertMessages,
    pubackP50Ms: puback.percentile(50) / 1000,
    pubackP99Ms: puback.percentile(99) / 1000,
    pubackMaxMs: puback.max / 1000,
  };
  puback.reset();
  process.stdout.write(`${JSON.stringify(line)}\n`);
}, input.sampleMs);

await new Promise((r) => setTimeout(r, input.durationMs));
clearInterval(sample);
for (const t of timers) clearInterval(t);
await new Promise((r) => setTimeout(r, 2000));
await Promise.all(clients.map((c) => c.endAsync()));
for (const s of sockets) s.terminate();
process.stdout.write(`${JSON.stringify({ done: true, published, acked, failed })}\n`, () => process.exit(0));
