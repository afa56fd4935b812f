import { readFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';
import type { ThreadHeap } from '../store/time-series-store.ts';

/**
 * Where the platform process's resident memory is, so that a soak's RSS series can be read: the main thread's
 * JavaScript heap as V8 has committed it (young and old generations apart: the young one is sized by
 * --max-semi-space-size), and from the kernel's count (/proc/self/status on Linux) anonymous memory (every heap:
 * V8's, the SQLite worker's, malloc's) against mapped files (the binary, libraries, SQLite's shared WAL index).
 * Native = anonymous less the committed heaps: SQLite's page cache, buffers,
 * and what the allocator keeps.
 * The store's worker threads' heaps (`threads`, as the store reports them) are counted apart from native.
 */
export interface MemoryBreakdown {
  heapCommittedMb: number;
  youngCommittedMb: number;
  /** the store's worker threads' committed heaps, together */
  threadsMb: number;
  anonMb?: number;
  fileMb?: number;
  nativeMb?: number;
}

export function memoryBreakdown(threads: readonly ThreadHeap[] = [], status = readProcStatus()): MemoryBreakdown {
  let heap = 0;
  let young = 0;
  for (const space of getHeapSpaceStatistics()) {
    heap += space.physical_space_size;
    if (space.space_name === 'new_space') young += space.physical_space_size;
  }
  const breakdown: MemoryBreakdown = {
    heapCommittedMb: heap / 2 ** 20,
    youngCommittedMb: young / 2 ** 20,
    threadsMb: threads.reduce((sum, t) => sum + t.committedBytes, 0) / 2 ** 20,
  };
  const anon = kilobytes(status, 'RssAnon');
  const file = kilobytes(status, 'RssFile');
  if (anon !== undefined) {
    breakdown.anonMb = anon / 1024;
    breakdown.nativeMb = Math.max(0, anon / 1024 - breakdown.heapCommittedMb - breakdown.threadsMb);
  }
  if (file !== undefined) breakdown.fileMb = file / 1024;
  return breakdown;
}

function readProcStatus(): string | undefined {
  try {
    return readFileSync('/proc/self/status', 'utf8');
  } catch {
    return undefined;
  }
}

/** A `Name:  1234 kB` line of /proc/<pid>/status, in kB; undefined when absent. */
export function kilobytes(status: string | undefined, name: string): number | undefined {
  if (status === undefined) return undefined;
  const match = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(status);
  return match ? Number(match[1]) : undefined;
}
