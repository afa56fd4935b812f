import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * Start-up time: from spawning the README's start command (`npm start`, as a user types it: node on the build
 * in dist/) to the "platform ready" log line, on a fresh data directory (credentials generated, empty store)
 * and on a second start of the same directory. Beside it, in the same run: a bare `node -e 0`, the time to
 * import the platform's heavy dependencies in plain Node, the start script without npm in front, and the
 * sources through tsx. `--before <checkout>`: `npm start` of another checkout (for example main before a
 * change; its node_modules and build must be in place), in the same rounds. Variants run interleaved, round by
 * round, so a busy neighbour slows all of them alike; figures are medians.
 *
 * The build (`node start/build.mjs`) is made once before the rounds, as `npm install` makes it.
 *
 *   npm run bench -- startup [--runs 5] [--no-demo] [--before ../main]
 */
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'no-demo': { type: 'boolean' },
    before: { type: 'string' },
  },
});
const runs = Number(values.runs);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const startScript = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
).scripts.start!;

// the packages platform.ts pulls in before it is ready, imported alone in plain Node
const HEAVY = [
  'fastify',
  '@fastify/swagger',
  '@fastify/swagger-ui',
  '@fastify/websocket',
  'fastify-type-provider-zod',
  'aedes',
  'pino',
  'prom-client',
  'zod',
  'yaml',
  'ws',
  'esbuild',
  'better-sqlite3',
];

interface Sample {
  ms: number;
  readyMs?: number;
  /** CPU time (user + system, all threads) of the command's processes until ready: what a busy machine slows */
  cpuMs?: number;
}

const TICK_MS = 10; // Linux's USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s
/** CPU time so far of every live process in a process group (Linux; undefined elsewhere). */
function groupCpuMs(pgid: number): number | undefined {
  let ticks = 0;
  try {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        continue; // exited meanwhile
      }
      // the fields after the command name, which may hold spaces: state ppid pgrp ... utime(14) stime(15)
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) ticks += Number(fields[11]) + Number(fields[12]);
    }
  } catch {
    return undefined;
  }
  return ticks * TICK_MS;
}

/** Runs a command to completion; the time from spawn to exit. */
function timeExit(cmd: string, args: string[]): Promise<Sample> {
  const t0 = performance.now();
  return new Promise((done, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: 'ignore' });
    child.once('exit', (code) =>
      code === 0 ? done({ ms: performance.now() - t0 }) : reject(new Error(`${cmd} exited ${code}`)),
    );
  });
}

/**
 * Spawns the platform, times the "platform ready" line, then stops its whole process group and waits.
 * holdMs: keep it running that long after ready first (a warm-up start that writes the code cache).
 */
function timeReady(cmd: string, args: string[], dataDir: string, holdMs = 0, cwd = ROOT): Promise<Sample> {
  const env = {
    ...process.env,
    IOC_DATA_DIR: dataDir,
    IOC_MQTT_PORT: '0',
    IOC_HTTP_PORT: '0',
    IOC_MQTT_HOST: '127.0.0.1',
    IOC_HTTP_HOST: '127.0.0.1',
    IOC_LOG_LEVEL: 'info',
    IOC_DEMO: values['no-demo'] ? '0' : '1',
  };
  const t0 = performance.now();
  // its own process group: npm runs a shell that runs node, and all of them must go
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let out = '';
  return new Promise<Sample>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready within 60 s:\n${out}`)), 60_000);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const ready = /"readyMs":(\d+)[^\n]*"msg":"platform ready"/.exec(out);
      if (!ready) return;
      const ms = performance.now() - t0;
      clearTimeout(timer);
      const listeners = ['MQTT broker listening', 'MQTT over WebSocket listening', 'HTTP API listening'].filter((l) =>
        out.includes(l),
      ).length;
      if (listeners !== 3) reject(new Error(`ready with ${listeners} of 3 listener lines:\n${out}`));
      else resolve({ ms, readyMs: Number(ready[1]), cpuMs: groupCpuMs(child.pid!) });
    });
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString();
    });
    void exited.then(() => reject(new Error(`exited before it was ready:\n${out}`)));
  }).finally(async () => {
    await new Promise((r) => setTimeout(r, holdMs));
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      /* already gone */
    }
    await exited;
    // npm exits when its child is signalled; the platform may still be closing its files: the next start
    // of the same data directory waits for the whole group to be gone (one platform per data directory)
    for (let i = 0; i < 300 && groupAlive(child.pid!); i++) await new Promise((r) => setTimeout(r, 20));
  });
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

const results = new Map<string, Sample[]>();
const record = (name: string, s: Sample) => results.set(name, [...(results.get(name) ?? []), s]);
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const dirs: string[] = [];
const mkdir = () => {
  const d = mkdtempSync(join(tmpdir(), 'ioc-startup-'));
  dirs.push(d);
  return d;
};
const npmStart = (dir: string) => timeReady('npm', ['start'], dir);
const before = values.before === undefined ? undefined : resolve(values.before);
// a first start of each checkout: the console's bundle made current, files in the page cache (and, for a
// checkout that still has one, its code cache written: held 4 s)
const warmUp = async () => {
  await timeReady('npm', ['start'], mkdir());
  if (before) await timeReady('npm', ['start'], mkdir(), 4000, before);
};

console.log(
  `startup benchmark: ${runs} runs, demo fleet ${values['no-demo'] ? 'off' : 'on'}, ` +
    `npm start = "${startScript}", load average ${load()}`,
);
const t0 = performance.now();
const build = spawnSync(process.execPath, ['start/build.mjs'], { cwd: ROOT, encoding: 'utf8' });
if (build.status !== 0) throw new Error(`the build failed:\n${build.stdout}${build.stderr}`);
console.log(`built dist/ in ${(performance.now() - t0).toFixed(0)} ms`);
try {
  await warmUp();
  for (let i = 0; i < runs; i++) {
    record('node -e 0 (baseline)', await timeExit(process.execPath, ['-e', '0']));
    record(
      'import the heavy dependencies (baseline)',
      await timeExit(process.execPath, [
        '--input-type=module',
        '-e',
        HEAVY.map((p) => `await import(${JSON.stringify(p)});`).join(''),
      ]),
    );
    const dir = mkdir();
    record('npm start, fresh data dir', await npmStart(dir));
    record('npm start, second start', await npmStart(dir));
    if (before) {
      const other = mkdir();
      await timeReady('npm', ['start'], other, 0, before);
      record('--before checkout: npm start, second start', await timeReady('npm', ['start'], other, 0, before));
    }
    // the same script without npm in front: what npm itself costs
    record(
      'start script without npm, second start',
      await timeReady('sh', ['-c', `PATH=node_modules/.bin:$PATH ${startScript}`], dir),
    );
    // the sources through tsx's loader (what the tests and the CLI run)
    record(
      'tsx main.ts (the sources), second start',
      await timeReady(join(ROOT, 'node_modules', '.bin', 'tsx'), ['main.ts'], dir),
    );
    process.stdout.write('.');
  }
} finally {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
console.log('');
console.log(
  `  ${'what'.padEnd(42)} ${'median ms'.padStart(9)} ${'readyMs'.padStart(8)} ${'CPU ms'.padStart(7)}   runs (ms)`,
);
for (const [name, samples] of results) {
  const readies = samples.flatMap((s) => (s.readyMs === undefined ? [] : [s.readyMs]));
  const cpus = samples.flatMap((s) => (s.cpuMs === undefined ? [] : [s.cpuMs]));
  const column = (xs: number[], width: number) => (xs.length ? median(xs).toFixed(0) : '').padStart(width);
  const runsText = samples.map((s) => s.ms.toFixed(0)).join(' / ');
  const medianMs = column(
    samples.map((s) => s.ms),
    9,
  );
  console.log(`  ${name.padEnd(42)} ${medianMs} ${column(readies, 8)} ${column(cpus, 7)}   ${runsText}`);
}
console.log(`  readyMs: measured inside startPlatform (config loaded to ready); load average after: ${load()}`);
console.log('  CPU ms: user + system time of the command (npm, sh, node and its threads) from spawn to ready');
