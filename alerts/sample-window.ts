import type { WindowAggregate } from './rule-schema.ts';

export interface WindowSample {
  readonly ts: number;
  readonly value: number;
}

/**
 * Adds a sample and keeps those in (newest - windowMs, newest], oldest first. Returns a new array: rule
 * state stays immutable. Late samples are inserted in order; samples older than the window are dropped.
 */
export function pushSample(samples: readonly WindowSample[], sample: WindowSample, windowMs: number): WindowSample[] {
  const next = samples.filter((s) => s.ts !== sample.ts);
  let at = next.length;
  while (at > 0 && next[at - 1]!.ts > sample.ts) at--;
  next.splice(at, 0, sample);
  const newest = next[next.length - 1]!.ts;
  return next.filter((s) => s.ts > newest - windowMs);
}

export function aggregateSamples(samples: readonly WindowSample[], fn: WindowAggregate): number | undefined {
  if (samples.length === 0) return undefined;
  const values = samples.map((s) => s.value);
  switch (fn) {
    case 'last': return values[values.length - 1];
    case 'mean': return values.reduce((a, b) => a + b, 0) / values.length;
    case 'min': return Math.min(...values);
    case 'max': return Math.max(...values);
    case 'sum': return values.reduce((a, b) => a + b, 0);
  }
}

/** Change within the window: a rise is newest minus the lowest before it, a fall the highest minus newest. */
export function changeInWindow(samples: readonly WindowSample[], direction: 'rise' | 'fall'): number | undefined {
  if (samples.length < 2) return undefined;
  const newest = samples[samples.length - 1]!.value;
  const values = samples.map((s) => s.value);
  return direction === 'rise' ? newest - Math.min(...values) : Math.max(...values) - newest;
}
