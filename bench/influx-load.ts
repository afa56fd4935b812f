import mqtt from 'mqtt';

/**
 * Load generator for the InfluxDB benchmark, run as its own process: each device publishes `count` air
 * readings (4 metrics, ts = base + n) as JSON arrays of `perPublish` readings, QoS 1, keeping `window`
 * publishes in flight; prints one JSON line { acked, seconds } (acked = readings acknowledged).
 * Input (argv[2], JSON): { url, devices: [{ sensorId, kind, username, password }], count, perPublish, window, base }
 */
interface LoadInput {
  url: string;
  devices: Array<{ sensorId: string; kind: string; username?: string; password?: string }>;
  count: number;
  perPublish: number;
  window: number;
  base: number;
}

const input = JSON.parse(process.argv[2] ?? '{}') as LoadInput;
const clients = await Promise.all(
  input.devices.map((d) =>
    mqtt.connectAsync(input.url, {
      username: d.username,
      password: d.password,
      reconnectPeriod: 0,
      clientId: `${d.sensorId}-influx-bench-${process.pid}`,
    }),
  ),
);
const started = performance.now();
let acked = 0;
await Promise.all(
  clients.map(async (client, i) => {
    const d = input.devices[i]!;
    const topic = `ioc/${d.kind}/${d.sensorId}/readings`;
    let next = 0;
    const worker = async () => {
      while (next < input.count) {
        const first = next;
        next = Math.min(input.count, next + input.perPublish);
        const readings: string[] = [];
        for (let n = first; n < next; n++) {
          readings.push(
            `{"ts":${input.base + n},"pm25":${(n % 300) + 0.5},"pm10":${(n % 400) + 1},"no2":${n % 150},"o3":` +
              `${n % 90}}`,
          );
        }
        await client.publishAsync(topic, `[${readings.join(',')}]`, { qos: 1 });
        acked += readings.length;
      }
    };
    await Promise.all(Array.from({ length: input.window }, worker));
  }),
);
const seconds = (performance.now() - started) / 1000;
await Promise.all(clients.map((c) => c.endAsync()));
process.stdout.write(`${JSON.stringify({ acked, seconds })}\n`);
