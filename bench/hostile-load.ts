import { connect as connectTcp } from 'node:net';
import mqtt from 'mqtt';
import { rawConnect, rawPublish } from '../test-support/raw-mqtt.ts';

/**
 * The hostile device account of bench/hostile-account-bench.ts, as its own process: `connections` loops
 * that connect (half of them persistent sessions), subscribe and publish 60 KB retained readings without
 * waiting, and 4 loops of raw QoS 2 publishes never released. Prints {"refusedConnects": n}.
 * Input (argv[2], JSON): { url, port, username, password, seconds, connections }
 */
interface Input {
  url: string;
  port: number;
  username: string;
  password: string;
  seconds: number;
  connections: number;
}
const input = JSON.parse(process.argv[2] ?? '{}') as Input;
const H = input.username;
const end = Date.now() + input.seconds * 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let refusedConnects = 0;
const big = Buffer.alloc(60_000, 'x');

async function connection(i: number): Promise<void> {
  while (Date.now() < end) {
    const c = mqtt.connect(input.url, {
      username: H,
      password: input.password,
      clientId: `${H}-${i}`,
      clean: i % 2 === 0,
      reconnectPeriod: 0,
    });
    c.on('error', () => undefined);
    const ok = await new Promise<boolean>((r) => {
      c.once('connect', () => r(true));
      c.once('error', () => r(false));
      c.once('close', () => r(false));
    });
    if (!ok) {
      refusedConnects++;
      c.end(true);
      await sleep(50);
      continue;
    }
    c.subscribe(`ioc/air/${H}/errors`, { qos: 1 });
    while (Date.now() < end && c.connected) {
      c.publish(`ioc/air/${H}/readings`, big, { qos: 1, retain: true });
      await sleep(1);
    }
    c.end(true);
  }
}

async function qos2Flood(i: number): Promise<void> {
  while (Date.now() < end) {
    await new Promise<void>((resolve) => {
      const s = connectTcp(input.port, '127.0.0.1');
      s.on('error', () => undefined);
      s.once('close', () => resolve());
      s.write(rawConnect(Buffer.from(`${H}:q2-${i}`), Buffer.from(H), Buffer.from(input.password)));
      for (let id = 1; id <= 200; id++)
        s.write(
          rawPublish(
            Buffer.from(`ioc/air/${H}/readings`),
            Buffer.from(`{"pm25":1,"pad":"${'y'.repeat(30_000)}"}`),
            2,
            false,
            id,
          ),
        );
      setTimeout(() => s.destroy(), 500);
    });
  }
}

await Promise.all([
  ...Array.from({ length: input.connections }, (_, i) => connection(i)),
  ...Array.from({ length: 4 }, (_, i) => qos2Flood(i)),
]);
const cpu = process.cpuUsage();
process.stdout.write(
  `${JSON.stringify({ acked: 0, seconds: input.seconds, refusedConnects, cpuMicros: cpu.user + cpu.system })}\n`,
);
process.exit(0);
