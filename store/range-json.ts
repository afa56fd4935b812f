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
  const page = samples.length > limit ? samples.slice(0, limit) : samples;
  // the key list keeps each sample to ts and value, in that order, whatever else a store's rows carry
  const text = JSON.stringify(page, ['ts', 'value']);
  const next = samples.length > limit ? samples[limit]!.ts : undefined;
  return { points: new TextEncoder().encode(text), count: page.length, ...(next !== undefined ? { next } : {}) };
}
