import type { RangeJson, Sample } from './time-series-store.ts';

/**
 * A page of raw samples as JSON text, `[{"ts":..,"value":..},...]`, and where the next page starts.
 * The embedded store builds it in its reader worker (a week of raw readings is 10,000 samples: as
 * objects they were cloned across threads and serialised again on the main thread, where the broker
 * and every other request wait); other stores get it built here from their samples.
 *
 * `samples`: up to limit + 1, oldest first; the one past `limit` only says where the next page starts.
 */
export function samplesJson(samples: readonly Sample[], limit: number): RangeJson {
  const count = Math.min(limit, samples.length);
  const parts: string[] = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const s = samples[i]!;
    // String() of a finite number is its JSON; what the stores return is numeric (json_type filters)
    parts[i] = `{"ts":${String(s.ts)},"value":${Number.isFinite(s.value) ? String(s.value) : 'null'}}`;
  }
  const next = samples.length > limit ? samples[limit]!.ts : undefined;
  return { points: new TextEncoder().encode(`[${parts.join(',')}]`), count, ...(next !== undefined ? { next } : {}) };
}
