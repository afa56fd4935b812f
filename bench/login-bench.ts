import { parseArgs } from 'node:util';
import { cpuMeter, startBenchPlatform } from './bench-platform.ts';

/**
 * Console sign-in cost: POST /api/session (argon2id verification of the password, a session, an audit
 * entry with its fsync) against a baseline in the same run on the same platform, a token-authenticated
 * GET /api/health. Real HTTP over loopback from this process; CPU is the whole process's (argon2 runs on
 * libuv's thread pool), so client-side work is in both numbers alike.
 *
 *   npm run bench -- login [--count 200] [--concurrency 1,4]
 */
const { values } = parseArgs({
  options: { count: { type: 'string', default: '200' }, concurrency: { type: 'string', default: '1,4' } },
});
const count = Number(values.count);
const levels = values.concurrency.split(',').map(Number);

const { platform, close } = await startBenchPlatform(1);
const adminToken = platform.credentials?.admin.token;
if (!adminToken) throw new Error('the bench platform has no admin token');
const base = platform.httpUrl;
const PASSWORD = 'bench-login-password-0123';
// one account per request slot: the per-account failure limit never applies to successes, but distinct
// names keep the bench honest about per-account state
const accounts = Math.max(...levels);
for (let i = 0; i < accounts; i++) {
  const res = await fetch(`${base}/api/accounts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `bench-${i}`, role: 'viewer', password: PASSWORD }),
  });
  if (res.status !== 201) throw new Error(`cannot create bench account: ${res.status} ${await res.text()}`);
}

async function signIn(slot: number): Promise<void> {
  const res = await fetch(`${base}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: `bench-${slot}`, password: PASSWORD }),
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`sign-in refused: ${res.status}`);
}
async function health(): Promise<void> {
  const res = await fetch(`${base}/api/health`, { headers: { authorization: `Bearer ${adminToken}` } });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`health: ${res.status}`);
}

interface Round {
  name: string;
  concurrency: number;
  perSecond: number;
  cpuMsEach: number;
  p50: number;
  p90: number;
}

async function round(name: string, concurrency: number, op: (slot: number) => Promise<void>): Promise<Round> {
  const latencies: number[] = [];
  let next = 0;
  const cpu = cpuMeter();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, slot) => {
      while (next < count) {
        next++;
        const t = performance.now();
        await op(slot);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const used = cpu();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  return {
    name,
    concurrency,
    perSecond: latencies.length / seconds,
    cpuMsEach: used.micros / 1000 / latencies.length,
    p50: q(0.5),
    p90: q(0.9),
  };
}

try {
  await round('warm-up', 1, signIn);
  const results: Round[] = [];
  // alternate baseline and sign-in at each level so that a noisy neighbour weighs on both alike
  for (const c of levels) {
    results.push(await round('GET /api/health (token)', c, () => health()));
    results.push(await round('POST /api/session (argon2id)', c, signIn));
  }
  console.log(`\n${count} requests per row, ${levels.join('/')} at a time, ${new Date().toISOString()}`);
  console.log('| request | concurrency | per second | CPU ms each | p50 ms | p90 ms |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of results)
    console.log(
      `| ${r.name} | ${r.concurrency} | ${r.perSecond.toFixed(1)} | ${r.cpuMsEach.toFixed(2)} ` +
        `| ${r.p50.toFixed(1)} | ${r.p90.toFixed(1)} |`,
    );
} finally {
  await close();
}
