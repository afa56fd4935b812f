/**
 * Sensor health as work (issue 16 item 6): the signs that a gauge, not the river, is wrong. Each detector
 * is a pure function of what the device sent and the clock, so each is checked in simulated time and the
 * `device-health` rule type (device-health-rule.ts) only keeps the recent window and asks them.
 */
export interface Sample {
  readonly ts: number;
  readonly value: number;
  readonly receivedAt: number;
}

export type HealthProblem = 'flatline' | 'spike' | 'drift' | 'clockSkew' | 'refusals';
export interface Finding {
  readonly problem: HealthProblem;
  readonly value: number;
  readonly bound: number;
}

/** the current run of one repeated value: since when (device time) and how many readings */
export interface Run {
  readonly value: number;
  readonly since: number;
  readonly count: number;
}

export function extendRun(run: Run | undefined, sample: Sample): Run {
  return run && run.value === sample.value
    ? { ...run, count: run.count + 1 }
    : { value: sample.value, since: sample.ts, count: 1 };
}

/**
 * The same value at least `readings` times in a row, covering at least `minutes`: a real river or air
 * sensor always wobbles in its last digit; a frozen one repeats itself. Both counts must hold, so a fast
 * device repeating for ten seconds (or a slow one twice) is not flagged; the run is counted from its start,
 * so a gauge reporting every 5 s that stays frozen for an hour is flagged as one reporting every 5 min is.
 */
export function detectFlatline(run: Run, at: number, readings: number, minutes: number): Finding | undefined {
  if (run.count < readings) return undefined;
  const spanMin = (at - run.since) / 60_000;
  return spanMin >= minutes ? { problem: 'flatline', value: run.count, bound: minutes } : undefined;
}

/** a jump between consecutive readings beyond what the metric can physically do (`maxJump`, in its unit) */
export function detectSpike(previous: Sample | undefined, current: Sample, maxJump: number): Finding | undefined {
  if (!previous) return undefined;
  const jump = Math.abs(current.value - previous.value);
  return jump > maxJump ? { problem: 'spike', value: jump, bound: maxJump } : undefined;
}

export function median(values: readonly number[]): number | undefined {
  if (!values.length) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Far from what its neighbours of the same kind say: the distance from the median of their latest
 * values (those fresher than `maxAgeMs`). At least two neighbours, or one odd neighbour would accuse it.
 */
export function detectDrift(
  value: number,
  neighbours: ReadonlyArray<{ value: number; ts: number }>,
  now: number,
  maxDistance: number,
  maxAgeMs: number,
): Finding | undefined {
  const fresh = neighbours.filter((n) => now - n.ts <= maxAgeMs).map((n) => n.value);
  if (fresh.length < 2) return undefined;
  const distance = Math.abs(value - median(fresh)!);
  return distance > maxDistance ? { problem: 'drift', value: distance, bound: maxDistance } : undefined;
}

/** the device's timestamp ahead of or behind the platform's clock by more than `maxSkewMs` */
export function detectClockSkew(sample: Sample, maxSkewMs: number): Finding | undefined {
  const skew = sample.ts - sample.receivedAt;
  return Math.abs(skew) > maxSkewMs ? { problem: 'clockSkew', value: skew, bound: maxSkewMs } : undefined;
}

/** more than `max` refusals (readings ingest rejected) within `windowMs` of now */
export function detectRefusals(
  refusedAt: readonly number[],
  now: number,
  windowMs: number,
  max: number,
): Finding | undefined {
  const count = refusedAt.filter((t) => t > now - windowMs && t <= now).length;
  return count > max ? { problem: 'refusals', value: count, bound: max } : undefined;
}

/** great-circle distance in km (neighbours "within R km") */
export function distanceKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** the k nearest sensors of the same kind within `radiusKm`, nearest first */
export function nearestNeighbours<T extends { id: string; kind: string; lat: number; lon: number }>(
  target: T,
  all: readonly T[],
  k: number,
  radiusKm: number,
): T[] {
  return all
    .filter((s) => s.id !== target.id && s.kind === target.kind)
    .map((s) => ({ s, d: distanceKm(target, s) }))
    .filter((x) => x.d <= radiusKm)
    .sort((a, b) => a.d - b.d || a.s.id.localeCompare(b.s.id))
    .slice(0, k)
    .map((x) => x.s);
}
