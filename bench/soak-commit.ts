import { readdirSync, readFileSync } from 'node:fs';
import type { Registry } from 'prom-client';

/**
 * The platform's own share of a PUBACK's wait, per soak sample: the p99 of `ioc_commit_seconds` (validated to
 * durable in the commit log) over the sample, estimated from the histogram's buckets (linear inside the bucket
 * it falls in, so as coarse as the buckets). Beside the devices' PUBACK p99 it tells a slow commit (the log's
 * writes and fsyncs) from a slow delivery (CPU queues on either side, the network).
 */
export function commitP99Meter(registry: Registry): () => Promise<number | undefined> {
  let previous = new Map<number, number>();
  return async () => {
    const metric = registry.getSingleMetric('ioc_commit_seconds');
    if (!metric) return undefined;
    const cumulative = new Map<number, number>();
    for (const v of (await metric.get()).values as Array<{
      metricName?: string;
      labels: Record<string, unknown>;
      value: number;
    }>) {
      if (v.metricName !== 'ioc_commit_seconds_bucket') continue;
      cumulative.set(v.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(v.labels.le), v.value);
    }
    const bounds = [...cumulative.keys()].sort((a, b) => a - b);
    const counts = bounds.map((b) => cumulative.get(b)! - (previous.get(b) ?? 0));
    previous = cumulative;
    return quantileMs(bounds, counts, 0.99);
  };
}

/** The q-quantile in ms of cumulative bucket counts (upper bounds in seconds, ascending). */
export function quantileMs(bounds: readonly number[], cumulative: readonly number[], q: number): number | undefined {
  const total = cumulative[cumulative.length - 1] ?? 0;
  if (total <= 0) return undefined;
  const target = q * total;
  for (let i = 0; i < bounds.length; i++) {
    if (cumulative[i]! < target) continue;
    const upper = bounds[i]!;
    const lower = i === 0 ? 0 : bounds[i - 1]!;
    if (!Number.isFinite(upper)) return lower * 1000;
    const below = i === 0 ? 0 : cumulative[i - 1]!;
    const inBucket = cumulative[i]! - below;
    return (lower + ((upper - lower) * (target - below)) / Math.max(1, inBucket)) * 1000;
  }
  return undefined;
}

/**
 * MB/s written to the machine's disks since the last call (every process: a neighbour's writes slow the log's
 * fsyncs too), from /proc/diskstats over whole devices (/sys/block; partitions would count twice). Not the
 * process's own /proc/self/io write_bytes: that charges a page each time it is dirtied again, so a log appended
 * and fsynced a few hundred bytes at a time read 130 MB/s where the disk took 31.
 */
export function diskWriteMeter(): () => number | undefined {
  const read = () => {
    try {
      const devices = new Set(readdirSync('/sys/block'));
      let sectors = 0;
      for (const line of readFileSync('/proc/diskstats', 'utf8').split('\n')) {
        const f = line.trim().split(/\s+/);
        if (f.length > 9 && devices.has(f[2]!)) sectors += Number(f[9]);
      }
      return sectors * 512;
    } catch {
      return undefined;
    }
  };
  let bytes = read();
  let at = performance.now();
  return () => {
    const now = performance.now();
    const next = read();
    const rate = bytes === undefined || next === undefined ? undefined : (next - bytes) / 2 ** 20 / ((now - at) / 1000);
    bytes = next;
    at = now;
    return rate;
  };
}
