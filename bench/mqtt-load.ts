import mqtt from 'mqtt';

/**
 * Load generator, run as its own process so the broker under test has its own core. Each device
 * publishes `count` QoS 1 air readings (4 metrics), `perPublish` readings per publish (a JSON array when
 * more than one), keeping `window` publishes in flight; prints one JSON line with readings acknowledged,
 * the seconds it took, when it started publishing (epoch ms) and the CPU time this process spent on it.
 * Input (argv[2], JSON): { url, devices: [{ sensorId, kind, username?, password? }], count, window, perPublish?, ca?,
 * base?, seconds? } (base: the first reading's ts, epoch ms; default an hour ago; seconds: publish for that long
 * instead, no publish starting after it, `count` then being the most each device sends)
 * (ca: the PEM CA an mqtts:// broker's certificate is verified against; the output then says how long the
 * connections, TLS handshakes included, took to open)
 */
interface LoadInput {
  url: string;
  devices: Array<{ sensorId: string; kind: string; username?: string; password?: string }>;
  count?: number;
  window: number;
  perPublish?: number;
  ca?: string;
  base?: number;
  seconds?: number;
}

const input = JSON.parse(process.argv[2] ?? '{}') as LoadInput;
const connecting = performance.now();
const clients = await Promise.all(
  input.devices.map((d) =>
    mqtt.connectAsync(input.url, {
      username: d.username,
      password: d.password,
      reconnectPeriod: 0,
      clientId: `${d.sensorId}-bench-${process.pid}`,
      ...(input.ca ? { ca: input.ca, rejectUnauthorized: true } : {}),
    }),
  ),
);
const connectSeconds = (performance.now() - connecting) / 1000;
const base = input.base ?? Date.now() - 60 * 60_000;
const started = performance.now();
const end = input.seconds === undefined ? Number.POSITIVE_INFINITY : started + input.seconds * 1000;
const count = input.count ?? (input.seconds === undefined ? 0 : Number.POSITIVE_INFINITY);
const cpuStart = process.cpuUsage();
let acked = 0;
await Promise.all(
  clients.map(async (client, i) => {
    const d = input.devices[i]!;
    const topic = `ioc/${d.kind}/${d.sensorId}/readings`;
    const per = input.perPublish ?? 1;
    const reading = (n: number) =>
      `{"ts":${base + n},"pm25":${(n % 300) + 0.5},"pm10":${(n % 400) + 1},"no2":${n % 150},"o3":${n % 90}}`;
    let next = 0;
    const worker = async () => {
      while (next < count && performance.now() < end) {
        const first = next;
        next = Math.min(count, next + per);
        const batch: string[] = [];
        for (let n = first; n < next; n++) batch.push(reading(n));
        await client.publishAsync(topic, per === 1 ? batch[0]! : `[${batch.join(',')}]`, { qos: 1 });
        acked += batch.length;
      }
    };
    await Promise.all(Array.from({ length: input.window }, worker));
  }),
);
const seconds = (performance.now() - started) / 1000;
const used = process.cpuUsage(cpuStart);
await Promise.all(clients.map((c) => c.endAsync()));
process.stdout.write(
  `${JSON.stringify({
    acked,
    seconds,
    cpuMicros: used.user + used.system,
    startedAt: performance.timeOrigin + started,
    connectSeconds,
  })}\n`,
);
