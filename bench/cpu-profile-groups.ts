/**
 * Summarises a V8 CPU profile (the `Profiler.stop` result, as `--cpu-prof` writes it) by self time per
 * group of the platform's hot path, so the cpu-breakdown bench can say where a reading's CPU goes.
 * Groups are matched on the script URL (then the function name for V8's pseudo-frames); the first match wins.
 */
export interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }>;
  samples?: number[];
  timeDeltas?: number[];
}

const GROUPS: ReadonlyArray<readonly [string, RegExp]> = [
  ['parse (topic, payload)', /\/ingest\/parse-/],
  ['validate (zod, validators)', /\/ingest\/validate-|\/zod\//],
  ['rules (alerts/)', /\/alerts\//],
  [
    'commit log (encode, write, fsync wait)',
    /\/store\/(commit-log|log-frame|log-record|durable-writer|durable-pipeline|progress-waiters)/,
  ],
  [
    'store feed (feeder, packing, worker link)',
    /\/store\/(store-feeder|sqlite\/|latest-values|store-adapters|pipeline-metrics)/,
  ],
  ['metrics (prom-client)', /prom-client|-metrics\.ts/],
  ['logging (pino)', /\/pino|logger/],
  ['ingest service (other)', /\/ingest\//],
  [
    'broker (aedes, mqtt-packet)',
    /\/aedes|\/mqtt-packet|\/broker\/|\/bl\/|\/fastfall|\/fastparallel|\/fastseries|\/qlobber|\/mqemitter|\/reusify/,
  ],
  ['HTTP (fastify, api/)', /\/fastify|\/@fastify|\/find-my-way|\/avvio|\/helmet|\/api\//],
  ['node internals (net, streams, timers)', /^node:/],
];

export interface GroupRow {
  group: string;
  selfMicros: number;
  share: number;
}
export interface FunctionRow {
  name: string;
  selfMicros: number;
  share: number;
}
export interface ProfileSummary {
  busyMicros: number;
  groups: GroupRow[];
  top: FunctionRow[];
}

/** The hot-path group of a frame (its script URL and function name), as the CPU summary counts it. */
export function groupOf(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'garbage collection';
  // native frames: named by function, as V8 reports them without a script
  if (url === '' && /^f(data)?sync/.test(fn)) return 'commit log fsync (blocking: wall time, little CPU)';
  if (url === '' && /^(writeBuffer|writev|writeUtf8String|writeLatin1String)$/.test(fn))
    return 'I/O writes (sockets, log file)';
  if (url === '' && fn === 'postMessage') return 'store feed (feeder, packing, worker link)';
  if (url === '') return fn === '(program)' ? 'V8/native (program)' : 'native (no script)';
  for (const [name, pattern] of GROUPS) if (pattern.test(url)) return name;
  return 'other JS';
}

/**
 * Self time per group and the `topN` functions with the most self time; idle time is left out, and so is the
 * profiler's own work (whatever runs under `node:inspector`, e.g. the session answering Profiler.stop, which
 * was 5-12% of a profiled run's samples and would dilute every share).
 */
export function summariseProfile(profile: CpuProfile, topN = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame] as const));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const profiler = new Set<number>();
  for (const n of profile.nodes) {
    for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
      if (byId.get(id)?.url === 'node:inspector') {
        profiler.add(n.id);
        break;
      }
    }
  }
  const selfById = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i]!;
    selfById.set(id, (selfById.get(id) ?? 0) + (deltas[i] ?? 0));
  }
  const groups = new Map<string, number>();
  const functions = new Map<string, number>();
  let busy = 0;
  for (const [id, micros] of selfById) {
    const frame = byId.get(id);
    if (!frame || frame.functionName === '(idle)' || profiler.has(id)) continue;
    busy += micros;
    const group = groupOf(frame.url, frame.functionName);
    groups.set(group, (groups.get(group) ?? 0) + micros);
    const file = frame.url.replace(/^.*\/(node_modules\/)?/, '');
    const name = `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + micros);
  }
  const rows = <T extends string>(m: Map<string, number>, key: T) =>
    [...m]
      .map(
        ([k, v]) =>
          ({ [key]: k, selfMicros: v, share: v / Math.max(1, busy) }) as { [K in T]: string } & {
            selfMicros: number;
            share: number;
          },
      )
      .sort((a, b) => b.selfMicros - a.selfMicros);
  return { busyMicros: busy, groups: rows(groups, 'group'), top: rows(functions, 'name').slice(0, topN) };
}
