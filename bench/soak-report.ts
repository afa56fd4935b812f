import type { CpuShares } from './soak-cpu.ts';
import type { SoakSample } from './soak-plot.ts';

/** What bench/soak-load.ts prints every sample (counters are totals since the start). */
export interface SoakLoadLine {
  t: number;
  published: number;
  acked: number;
  failed: number;
  skipped: number;
  behind: number;
  inFlight: number;
  disconnects: number;
  refused: number;
  strayAcks: number;
  alertMessages: number;
  alertMessagesMin: number;
  alertMessagesMax: number;
  operatorsClosed: number;
  pubackP50Ms: number;
  pubackP99Ms: number;
  pubackMaxMs: number;
  /** the reference broker's devices (bench/soak-reference.ts), when the run has one; failed: lost, skipped or behind */
  referenceAcked?: number;
  referenceFailed?: number;
  referenceP99Ms?: number;
  loadCpuMicros: number;
  loadCpuMicrosPerReading: number;
  loadRssMb: number;
}

const COLUMNS: Array<[string, number]> = [
  ['t(s)', 6],
  ['readings/s', 10],
  ['acked/s', 8],
  ['failed', 6],
  ['skipped', 7],
  ['RSS MB', 6],
  ['heap MB', 7],
  ['heap cmt', 8],
  ['workers MB', 10],
  ['native MB', 9],
  ['loop p99 ms', 11],
  ['PUBACK p50 ms', 13],
  ['PUBACK p99 ms', 13],
  ['commit p99 ms', 13],
  ['ref p99 ms', 10],
  ['disk w MB/s', 11],
  ['alert msgs', 10],
  ['platform cores', 14],
  ['main thread', 11],
  ['µs/reading', 10],
  ['load cores', 10],
  ['load µs/reading', 15],
  ['other cores', 11],
  ['load1', 5],
];

export const SOAK_TABLE_HEADER = `  ${COLUMNS.map(([name, width]) => name.padStart(width)).join('  ')}`;

export function soakTableRow(
  sample: SoakSample,
  line: SoakLoadLine,
  shares: CpuShares,
  platformMicrosPerReading: number,
): string {
  const cells = [
    String(sample.t),
    sample.readingsPerSecond.toFixed(0),
    sample.ackedPerSecond.toFixed(0),
    String(line.failed),
    String(line.skipped + line.behind),
    sample.rssMb.toFixed(0),
    sample.heapUsedMb?.toFixed(0) ?? '-',
    sample.heapCommittedMb?.toFixed(0) ?? '-',
    sample.threadsMb?.toFixed(0) ?? '-',
    sample.nativeMb?.toFixed(0) ?? '-',
    sample.loopP99Ms.toFixed(1),
    sample.pubackP50Ms.toFixed(1),
    sample.pubackP99Ms.toFixed(1),
    sample.commitP99Ms?.toFixed(1) ?? '-',
    sample.referenceP99Ms?.toFixed(1) ?? '-',
    sample.diskWriteMbPerSecond?.toFixed(1) ?? '-',
    String(line.alertMessages),
    shares.platformCores.toFixed(2),
    shares.mainThreadCores.toFixed(2),
    platformMicrosPerReading.toFixed(1),
    shares.loadCores.toFixed(2),
    line.loadCpuMicrosPerReading.toFixed(1),
    shares.otherCores.toFixed(2),
    shares.load1.toFixed(1),
  ];
  return `  ${cells.map((c, i) => c.padStart(COLUMNS[i]![1])).join('  ')}`;
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(0)}%`;
const median = (xs: readonly number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/**
 * Whether a series grows, apart from its minute-to-minute noise: a least-squares line over the samples, its rise
 * from the first sample's time to the last relative to its mean (`fitted`), and the median of the last third of
 * the samples relative to the median of the first third (`thirds`). A leak or a queue that only grows shows in
 * both; a p99 that jumps in one minute and falls back in the next moves neither much.
 */
export function soakTrend(ts: readonly number[], ys: readonly number[]): { fitted: number; thirds: number } {
  const n = ys.length;
  if (n < 3) return { fitted: 0, thirds: 0 };
  const mt = ts.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (ts[i]! - mt) * (ys[i]! - my);
    den += (ts[i]! - mt) ** 2;
  }
  const slope = den === 0 ? 0 : num / den;
  const third = Math.max(1, Math.floor(n / 3));
  const firstThird = median(ys.slice(0, third));
  return {
    fitted: my === 0 ? 0 : (slope * (ts[n - 1]! - ts[0]!)) / my,
    thirds: firstThird === 0 ? 0 : median(ys.slice(n - third)) / firstThird - 1,
  };
}

/** Flatness over the steady state (every sample but the first: connect storm, JIT warm-up, caches filling). */
export function reportSoak(
  samples: readonly SoakSample[],
  lines: readonly SoakLoadLine[],
  summary: Record<string, number> | undefined,
  stored: number,
): void {
  const steady = samples.slice(1).filter((s) => !s.afterHeapSnapshot && !s.heapSampled);
  const report = (name: string, pick: (s: SoakSample) => number, unit: string) => {
    const xs = steady.map(pick);
    const min = Math.min(...xs);
    const max = Math.max(...xs);
    const ratio = max / Math.max(min, 1e-9);
    const spread = ratio <= 1.1 ? 'flat within 10%' : 'NOT flat within 10%';
    console.log(
      `  ${name.padEnd(19)} ${min.toFixed(1)}..${max.toFixed(1)} ${unit}  max/min ${ratio.toFixed(2)}  ${spread}`,
    );
    const t = soakTrend(
      steady.map((s) => s.t),
      xs,
    );
    const growth = t.fitted <= 0.1 && t.thirds <= 0.1 ? 'no growth beyond 10%' : 'GROWS by more than 10%';
    console.log(
      `  ${''.padEnd(19)} trend: fitted line ${pct(t.fitted)} over the run, median last third ${pct(t.thirds)} ` +
        `against the first: ${growth}`,
    );
  };
  const first = samples[0];
  if (first) {
    console.log(
      `warm-up (first sample, t=${first.t} s): ${first.readingsPerSecond.toFixed(0)} readings/s, ` +
        `RSS ${first.rssMb.toFixed(0)} MB, loop p99 ${first.loopP99Ms.toFixed(1)} ms, PUBACK ` +
        `p99 ${first.pubackP99Ms.toFixed(1)} ms`,
    );
  }
  if (steady.length >= 2) {
    const paused = samples.length - 1 - steady.length;
    console.log(
      `steady state (samples 2..${samples.length}; the first, the warm-up, left out` +
        `${paused ? `, and ${paused} after a heap snapshot or while the heap was sampled` : ''}):`,
    );
    report('readings/s', (s) => s.readingsPerSecond, '/s');
    report('RSS', (s) => s.rssMb, 'MB');
    if (steady.every((s) => s.heapUsedMb !== undefined)) report('JS heap used', (s) => s.heapUsedMb!, 'MB');
    if (steady.every((s) => s.heapCommittedMb !== undefined))
      report('JS heap committed', (s) => s.heapCommittedMb!, 'MB');
    if (steady.every((s) => s.threadsMb !== undefined)) report('store workers heap', (s) => s.threadsMb!, 'MB');
    if (steady.every((s) => s.nativeMb !== undefined)) report('native (anon-heaps)', (s) => s.nativeMb!, 'MB');
    report('loop delay p99', (s) => s.loopP99Ms, 'ms');
    report('PUBACK p99', (s) => s.pubackP99Ms, 'ms');
    if (steady.every((s) => s.referenceP99Ms !== undefined)) {
      report('reference p99', (s) => s.referenceP99Ms!, 'ms');
      report('PUBACK/reference', (s) => s.pubackP99Ms / Math.max(0.1, s.referenceP99Ms!), 'x');
    }
    if (steady.every((s) => s.commitP99Ms !== undefined)) report('commit p99', (s) => s.commitP99Ms!, 'ms');
    if (steady.every((s) => s.diskWriteMbPerSecond !== undefined))
      report('disk writes', (s) => s.diskWriteMbPerSecond!, 'MB/s (machine)');
  }
  const end = lines.at(-1);
  if (end) {
    const loadMicros = lines.reduce((sum, l) => sum + l.loadCpuMicros, 0);
    console.log(
      `load generator: ${(loadMicros / Math.max(1, end.published)).toFixed(1)} µs CPU per reading over the ` +
        `run, RSS ${end.loadRssMb.toFixed(0)} MB; alert messages per operator ${end.alertMessagesMin}..` +
        `${end.alertMessagesMax}, streams closed early ${end.operatorsClosed}`,
    );
    if (end.referenceAcked !== undefined)
      console.log(
        `reference broker: ${end.referenceAcked} readings acknowledged, ${end.referenceFailed} failed, skipped ` +
          'or behind',
      );
  }
  console.log(
    `readings published ${summary?.published}, acknowledged ${summary?.acked}, failed ${summary?.failed}, ` +
      `skipped ${summary?.skipped} (+${summary?.behind} generator behind), device ` +
      `disconnects ${summary?.disconnects}, refused ${summary?.refused}, stray PUBACKs ${summary?.strayAcks}; ` +
      `points in the store ${stored}; connect ${summary?.connectSeconds?.toFixed(1)} s`,
  );
}
