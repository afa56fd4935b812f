import { parseArgs } from 'node:util';
import { startInfluxd } from '../test-support/influxd.ts';
import { cpuMeter, startBenchPlatform } from './bench-platform.ts';

/**
 * `npm run bench -- line-protocol [--devices 200] [--batches 40] [--lines 5000] [--concurrency 4] [--rounds 2]`
 *
 * The same line-protocol batches (Telegraf's default shape: `air,sensorId=... pm25=..,pm10=.. <ns>`,
 * `--lines` per POST) written to the platform's `POST /write` (validation, rules, commit log, embedded
 * store, 204 once durable) and to a private influxd's raw `/write`, in alternating rounds of the same run.
 * Printed per round: lines/s for each and the ratio, and the platform process's CPU µs per line.
 */
const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '200' },
    batches: { type: 'string', default: '40' },
    lines: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '2' },
  },
});
const devices = Number(values.devices);
const batches = Number(values.batches);
const linesPerBatch = Number(values.lines);
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);

const influx = await startInfluxd({ own: true });
await fetch(`${influx.url}/query?q=${encodeURIComponent('CREATE DATABASE bench')}`, { method: 'POST' });
const { platform, close } = await startBenchPlatform(devices);
const admin = platform.credentials!.admin!;

/** Batches with distinct timestamps per round, so no round overwrites another's points. */
function makeBatches(round: number): string[] {
  const start = BigInt(Date.now() - 3_600_000 + round * batches * linesPerBatch) * 1_000_000n;
  return Array.from({ length: batches }, (_, b) => {
    const lines: string[] = [];
    for (let i = 0; i < linesPerBatch; i++) {
      const n = b * linesPerBatch + i;
      // a millisecond apart: every line a distinct reading at the store's resolution
      const ts = start + BigInt(n) * 1_000_000n;
      lines.push(
        `air,sensorId=bench-air-${n % devices} pm25=${(20 + (n % 50)).toFixed(1)},pm10=${30 + (n % 40)} ${ts}`,
      );
    }
    return lines.join('\n');
  });
}

async function post(url: string, bodies: string[], headers: Record<string, string>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        const res = await fetch(url, { method: 'POST', body, headers });
        if (res.status !== 204) throw new Error(`${url}: ${res.status} ${await res.text()}`);
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

console.log(
  `line-protocol: ${batches} batches x ${linesPerBatch} lines (${devices} sensors), ${concurrency} concurrent ` +
    `POSTs, ${rounds} rounds, ${new Date().toISOString()}`,
);
console.log('round  platform lines/s  influxd lines/s  ratio   platform CPU µs/line');
const total = batches * linesPerBatch;
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? ['platform', 'influxd'] : ['influxd', 'platform'];
  const rate: Record<string, number> = {};
  let cpu = 0;
  for (const target of order) {
    const bodies = makeBatches(r * 2 + (target === 'platform' ? 0 : 1));
    if (target === 'platform') {
      const meter = cpuMeter();
      rate.platform =
        total /
        (await post(`${platform.httpUrl}/write?db=ioc&precision=ns`, bodies, {
          authorization: `Token ${admin.token}`,
        }));
      cpu = meter().micros / total;
    } else {
      rate.influxd = total / (await post(`${influx.url}/write?db=bench&precision=ns`, bodies, {}));
    }
  }
  console.log(
    `${String(r + 1).padStart(5)}  ${Math.round(rate.platform!).toLocaleString('en-US').padStart(16)}  ` +
      `${Math.round(rate.influxd!).toLocaleString('en-US').padStart(15)}  ` +
      `${(rate.platform! / rate.influxd!).toFixed(2).padStart(5)}   ${cpu.toFixed(1).padStart(8)}`,
  );
}
console.log(
  '(the platform validates each line, runs the rules and makes every ' +
    'line durable in its commit log before 204; influxd only writes)',
);
await close();
await influx.dispose();
