import { Session } from 'node:inspector/promises';
import { groupOf } from './cpu-profile-groups.ts';

/**
 * V8's sampling heap profiler on this process's main thread: one sample per `intervalBytes` allocated on average,
 * each standing for its interval, attributed to the function that allocated it (and its hot-path group, as the CPU
 * summary groups them). What it keeps:
 * - `all`: every allocation, including what the young and old collections freed (short-lived garbage is most of
 *   what a reading costs the scavenger);
 * - `survivors`: what outlived at least one young collection (promoted, or still live when sampling stopped),
 *   which is what makes a scavenge slow (it copies survivors) and what fills the old generation.
 */
export interface AllocationSummary {
  bytes: number;
  byFunction: Map<string, number>;
  byGroup: Map<string, number>;
}

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

export async function startHeapSampling(
  kind: 'all' | 'survivors',
  intervalBytes = 512,
): Promise<() => Promise<AllocationSummary>> {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: intervalBytes,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: kind === 'all',
  } as { samplingInterval: number });
  return async () => {
    try {
      const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: HeapNode } };
      return summarise(profile.head);
    } finally {
      session.disconnect();
    }
  };
}

function summarise(head: HeapNode): AllocationSummary {
  const byFunction = new Map<string, number>();
  const byGroup = new Map<string, number>();
  let bytes = 0;
  const walk = (node: HeapNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    // the profiler's own session is not the platform's work
    if (node.selfSize > 0 && url !== 'node:inspector') {
      const name = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules\/)?/, '')}:${lineNumber + 1}`;
      byFunction.set(name, (byFunction.get(name) ?? 0) + node.selfSize);
      const group = groupOf(url, functionName);
      byGroup.set(group, (byGroup.get(group) ?? 0) + node.selfSize);
      bytes += node.selfSize;
    }
    for (const child of node.children) walk(child);
  };
  walk(head);
  return { bytes, byFunction, byGroup };
}

/** The `n` largest entries, largest first. */
export function largest(m: ReadonlyMap<string, number>, n: number): Array<[string, number]> {
  return [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
}
