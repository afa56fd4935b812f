import mqtt from 'mqtt';

/**
 * The consumer side of a bare broker's pass-through baseline (bench/ingest-bench.ts), in its own process:
 * subscribes to `topic` and counts messages until `expect` have arrived. Prints `ready` once subscribed,
 * then one JSON line: { received, lastAt (epoch ms of the last message), cpuMicros }.
 * Input (argv[2], JSON): { url, topic, expect, qos }
 */
interface Input {
  url: string;
  topic: string;
  expect: number;
  qos: 0 | 1;
}
const input = JSON.parse(process.argv[2] ?? '{}') as Input;
const client = await mqtt.connectAsync(input.url, { reconnectPeriod: 0, clientId: `bench-sub-${process.pid}` });
let received = 0;
let lastAt = 0;
const cpuStart = process.cpuUsage();
const done = new Promise<void>((resolve) => {
  client.on('message', () => {
    received++;
    lastAt = performance.timeOrigin + performance.now();
    if (received >= input.expect) resolve();
  });
});
await client.subscribeAsync(input.topic, { qos: input.qos });
process.stdout.write('ready\n');
await Promise.race([done, new Promise((r) => process.once('SIGTERM', r))]);
const used = process.cpuUsage(cpuStart);
await client.endAsync();
process.stdout.write(`${JSON.stringify({ received, lastAt, cpuMicros: used.user + used.system })}\n`, () =>
  process.exit(0),
);
