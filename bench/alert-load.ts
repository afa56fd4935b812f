import mqtt, { type MqttClient } from 'mqtt';

/**
 * Background load for the alert benchmarks, in its own process: `rate` readings/s spread over the given
 * devices, `batch` readings per QoS 1 publish (a JSON array, as gateways send), values inside every
 * threshold. Prints "ready", runs until stdin closes, then prints one JSON line of what it achieved.
 * A publish is skipped (and counted as shortfall) when too many are unacknowledged: the load never
 * queues without bound, and the report says honestly what rate was offered.
 */
interface Input {
  url: string;
  devices: Array<{ sensorId: string; kind: string; username: string; password: string }>;
  rate: number;
  batch: number;
}
const input = JSON.parse(process.argv[2] ?? '{}') as Input;
const VALUES: Record<string, Record<string, number>> = {
  air: { pm25: 20, pm10: 40, no2: 30, o3: 60 },
  traffic: { intensity: 100, averageVehicleSpeed: 35, occupancy: 0.1 },
};
const MAX_IN_FLIGHT = 200;

const clients: MqttClient[] = await Promise.all(
  input.devices.map((d) =>
    mqtt.connectAsync(input.url, {
      username: d.username,
      password: d.password,
      reconnectPeriod: 0,
      clientId: `${d.sensorId}-alert-load-${process.pid}`,
    }),
  ),
);
let sent = 0;
let shortfall = 0;
let inFlight = 0;
let ts = Date.now() - 3_600_000;
const TICK_MS = 10;
const perTick = (input.rate * TICK_MS) / 1000;
let owed = 0;
let device = 0;
const started = performance.now();
const timer = setInterval(() => {
  owed += perTick;
  while (owed >= input.batch) {
    owed -= input.batch;
    const i = device++ % clients.length;
    const d = input.devices[i]!;
    if (inFlight >= MAX_IN_FLIGHT) {
      shortfall += input.batch;
      continue;
    }
    const readings = Array.from({ length: input.batch }, () => ({ ts: ts++, ...VALUES[d.kind] }));
    inFlight++;
    clients[i]!.publish(`ioc/${d.kind}/${d.sensorId}/readings`, JSON.stringify(readings), { qos: 1 }, (err) => {
      inFlight--;
      if (!err) sent += input.batch;
    });
  }
}, TICK_MS);
process.stdout.write('ready\n');
process.stdin.resume();
process.stdin.on('end', async () => {
  clearInterval(timer);
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(clients.map((c) => c.endAsync()));
  process.stdout.write(`${JSON.stringify({ readings: sent, seconds, shortfall })}\n`);
  process.exit(0);
});
