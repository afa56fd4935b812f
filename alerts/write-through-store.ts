import type { Point, TimeSeriesStore } from '../store/time-series-store.ts';

/**
 * The store the alerts engine is given by the platform: reads from the adapter, writes through the
 * durable write path (the commit log), so alert events and derived VN_AQI values are as durable as
 * readings and reach every store adapter in order.
 */
export function writeThrough(
  store: TimeSeriesStore,
  write: (points: readonly Point[]) => Promise<void>,
): TimeSeriesStore {
  return {
    name: store.name,
    write,
    queryRange: (q) => store.queryRange(q),
    aggregate: (q) => store.aggregate(q),
    latest: (q) => store.latest(q),
    queryPoints: (q) => store.queryPoints(q),
    // the platform closes the real store itself
    close: async () => undefined,
  };
}
