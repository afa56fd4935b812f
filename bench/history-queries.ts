import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { cpuMeter } from './bench-platform.ts';

/**
 * The query half of bench/history-bench.ts, the same for both stores: a platform answers over real HTTP;
 * the four heavy clients run in another process (bench/history-clients.ts) so they compete for the
 * platform as a city's browsers would, not for this process's event loop.
 */
export interface QueryTarget {
  httpUrl: string;
  token: string;
}

export interface QueryFigures {
  dailyMaxQuiet: number[];
  dailyMaxLoaded: number[];
  rawWeekPage: number[];
  latestQuiet: number[];
  latestLoaded: number[];
  /** the baseline beside latestLoaded: a route that does nothing, same moments, same load */
  healthLoaded: number[];
  heavyDone: number;
  /** CPU of this process (the platform runs in it) per heavy query answered: every thread, and the main one */
  cpuPerHeavyMs: number;
  mainCpuPerHeavyMs: number | undefined;
}

export function pct(samples: readonly number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

async function timeIt(target: QueryTarget, path: string): Promise<number> {
  const t = performance.now();
  const res = await fetch(`${target.httpUrl}${path}`, { headers: { authorization: `Bearer ${target.token}` } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${text.slice(0, 200)}`);
  return performance.now() - t;
}

function startHeavyClients(
  target: QueryTarget,
  paths: string[],
): {
  ready: Promise<void>;
  count(): Promise<number>;
  stop(): Promise<{ done: number; failed: number }>;
} {
  const input = { baseUrl: target.httpUrl, token: target.token, paths, clients: 4 };
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', new URL('./history-clients.ts', import.meta.url).pathname, JSON.stringify(input)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! });
  let onReady: () => void = () => {};
  let onResult: (r: { done: number; failed: number }) => void = () => {};
  const ready = new Promise<void>((r) => {
    onReady = r;
  });
  const result = new Promise<{ done: number; failed: number }>((r) => {
    onResult = r;
  });
  let onCount: (n: number) => void = () => {};
  lines.on('line', (line) => {
    if (line === 'ready') onReady();
    else if (line.startsWith('count ')) onCount(Number(line.slice(6)));
    else if (line.startsWith('{')) onResult(JSON.parse(line) as { done: number; failed: number });
  });
  return {
    ready,
    count() {
      child.stdin!.write('count\n');
      return new Promise<number>((r) => {
        onCount = r;
      });
    },
    async stop() {
      child.stdin!.write('stop\n');
      return result;
    },
  };
}

export async function measureQueries(
  target: QueryTarget,
  paths: { dailyMax: string[]; rawWeek: string[]; latest: string },
): Promise<QueryFigures> {
  const rawWeekPage: number[] = [];
  for (let i = 0; i < 5; i++) rawWeekPage.push(await timeIt(target, paths.rawWeek[i % paths.rawWeek.length]!));
  const dailyMaxQuiet: number[] = [];
  for (let i = 0; i < 60; i++) dailyMaxQuiet.push(await timeIt(target, paths.dailyMax[i % paths.dailyMax.length]!));
  const latestQuiet: number[] = [];
  for (let i = 0; i < 20; i++) latestQuiet.push(await timeIt(target, paths.latest));
  // the heavy clients alternate a month's daily max and a week's first raw page (10,000 samples)
  const heavyPaths = paths.dailyMax.flatMap((p, i) => [p, paths.rawWeek[i % paths.rawWeek.length]!]);
  const heavy = startHeavyClients(target, heavyPaths);
  await heavy.ready;
  const cpu = cpuMeter();
  const doneBefore = await heavy.count();
  const latestLoaded: number[] = [];
  const healthLoaded: number[] = [];
  for (let i = 0; i < 100; i++) {
    latestLoaded.push(await timeIt(target, paths.latest));
    healthLoaded.push(await timeIt(target, '/api/health'));
    await new Promise((r) => setTimeout(r, 20));
  }
  const dailyMaxLoaded: number[] = [];
  for (let i = 0; i < 20; i++) dailyMaxLoaded.push(await timeIt(target, paths.dailyMax[i % paths.dailyMax.length]!));
  const used = cpu();
  const { done } = await heavy.stop();
  const answered = Math.max(1, done - doneBefore);
  return {
    dailyMaxQuiet,
    dailyMaxLoaded,
    rawWeekPage,
    latestQuiet,
    latestLoaded,
    healthLoaded,
    heavyDone: done,
    cpuPerHeavyMs: used.micros / 1000 / answered,
    mainCpuPerHeavyMs: used.mainThreadMicros === undefined ? undefined : used.mainThreadMicros / 1000 / answered,
  };
}
