import { constants, mkdtempSync, rmSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CommitLog } from '../store/commit-log.ts';
import { median, percentile } from './bench-stats.ts';

/**
 * The commit log's group append while the main thread is busy, as it is under device traffic: a group's latency
 * includes every wait for the main thread between the write and the moment it is durable.
 *
 *   npm run bench -- log-append [--groups 1500] [--records 100] [--record-bytes 150] [--busy-ms 2] [--rounds 3]
 *
 * In one run, alternating by round, on the same disk (a temporary directory) and preallocated files:
 * - write + fdatasync: two trips to libuv's pool, the main thread between them (the baseline);
 * - O_DSYNC write: one trip, durable when it returns;
 * - CommitLog.append: the platform's log (framing, checksums, segments) as it runs.
 * `--busy-ms N` keeps the main thread busy N ms out of every N + 1 (0: idle).
 */
const { values } = parseArgs({
  options: {
    groups: { type: 'string', default: '1500' },
    records: { type: 'string', default: '100' },
    'record-bytes': { type: 'string', default: '150' },
    'busy-ms': { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
  },
});
const groups = Number(values.groups);
const records = Number(values.records);
const recordBytes = Number(values['record-bytes']);
const busyMs = Number(values['busy-ms']);
const rounds = Number(values.rounds);
const payloads = Array.from({ length: records }, () => Buffer.alloc(recordBytes, 'x'));
const groupBytes = records * recordBytes;

interface Figures {
  groupsPerSecond: number;
  p50: number;
  p90: number;
  p99: number;
}

/** Times `groups` appends with the main thread kept busy meanwhile. */
async function timed(append: () => Promise<void>): Promise<Figures> {
  let busy = busyMs > 0;
  const spin = () => {
    const end = performance.now() + busyMs;
    while (performance.now() < end);
    if (busy) setTimeout(spin, 1);
  };
  if (busy) spin();
  const latencies: number[] = [];
  const started = performance.now();
  for (let i = 0; i < groups; i++) {
    const t = performance.now();
    await append();
    latencies.push(performance.now() - t);
  }
  const seconds = (performance.now() - started) / 1000;
  busy = false;
  latencies.sort((a, b) => a - b);
  const at = (p: number) => percentile(latencies, p);
  return { groupsPerSecond: groups / seconds, p50: at(0.5), p90: at(0.9), p99: at(0.99) };
}

/** A file of `groups` groups' size, written with zeros and synced, as the log preallocates its segments. */
async function preallocated(path: string, flags: number): Promise<FileHandle> {
  const make = await open(path, 'w', 0o600);
  const zeros = Buffer.alloc(groupBytes);
  for (let i = 0; i < groups; i++) await make.write(zeros, 0, zeros.length, i * groupBytes);
  await make.sync();
  await make.close();
  return open(path, flags);
}

async function rawPath(dir: string, synchronous: boolean): Promise<Figures> {
  const flags = constants.O_RDWR | (synchronous ? constants.O_DSYNC : 0);
  const file = await preallocated(join(dir, synchronous ? 'dsync' : 'fdatasync'), flags);
  const group = Buffer.concat(payloads);
  let position = 0;
  try {
    return await timed(async () => {
      await file.write(group, 0, group.length, position);
      if (!synchronous) await file.datasync();
      position += group.length;
    });
  } finally {
    await file.close();
  }
}

async function logPath(dir: string): Promise<Figures> {
  // one segment holds the run (the raw paths' files are made beforehand too): its creation is not timed
  const log = CommitLog.open({ dir: join(dir, 'log'), segmentBytes: Math.max(16 * 2 ** 20, 2 * groups * groupBytes) });
  try {
    await log.append([Buffer.from('first')]);
    return await timed(async () => {
      await log.append(payloads);
    });
  } finally {
    await log.close();
  }
}

const paths: Array<[string, (dir: string) => Promise<Figures>]> = [
  ['write + fdatasync (baseline)', (dir) => rawPath(dir, false)],
  ['O_DSYNC write', (dir) => rawPath(dir, true)],
  ['CommitLog.append', logPath],
];
const results = new Map<string, Figures[]>(paths.map(([name]) => [name, []]));
const dir = mkdtempSync(join(tmpdir(), 'ioc-log-append-'));
try {
  for (let round = 0; round < rounds; round++) {
    for (const [name, run] of paths) {
      const roundDir = mkdtempSync(join(dir, 'r-'));
      results.get(name)!.push(await run(roundDir));
      rmSync(roundDir, { recursive: true, force: true });
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `log-append benchmark, ${new Date().toISOString()}: ${groups} groups of ${records} x ${recordBytes} B, ` +
    `main thread busy ${busyMs} ms of every ${busyMs + 1}, ${rounds} round(s), medians`,
);
const columns = ['p50 ms', 'p90 ms', 'p99 ms'].map((c) => c.padStart(8)).join(' ');
console.log(`  ${'path'.padEnd(30)} ${'groups/s'.padStart(9)} ${columns}`);
for (const [name, figures] of results) {
  const m = (k: keyof Figures) => median(figures.map((f) => f[k]));
  console.log(
    `  ${name.padEnd(30)} ${m('groupsPerSecond').toFixed(0).padStart(9)} ${m('p50').toFixed(2).padStart(8)} ` +
      `${m('p90').toFixed(2).padStart(8)} ${m('p99').toFixed(2).padStart(8)}`,
  );
}
const baseline = median(results.get(paths[0]![0])!.map((f) => f.groupsPerSecond));
const platform = median(results.get('CommitLog.append')!.map((f) => f.groupsPerSecond));
console.log(`  CommitLog.append / write + fdatasync: ${(platform / baseline).toFixed(2)}x the groups per second`);
