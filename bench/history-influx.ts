import type { InfluxConfig } from '../config/platform-config.ts';
import type { StoreLifecycleConfig } from '../config/store-lifecycle-config.ts';
import type { Point } from '../store/time-series-store.ts';
import { InfluxHttp } from '../store/influxdb/influx-http.ts';
import { applyRollupSetup, planRollupSetup } from '../store/influxdb/influx-rollup-setup.ts';
import { seriesPrefix, toLine } from '../store/influxdb/line-protocol.ts';

/**
 * The InfluxDB half of bench/history-bench.ts: the same generated month written straight to /write
 * (line protocol, like the adapter's writer, several batches in flight), then `ioc store setup-retention`'s
 * plan applied, which fills the roll-ups from what was loaded.
 */
const LINES_PER_BATCH = 10_000;
const IN_FLIGHT = 4;

export async function loadInflux(
  config: InfluxConfig,
  days: Iterable<Point[]>,
): Promise<{ readings: number; loadS: number }> {
  const http = new InfluxHttp(config);
  await http.run(`CREATE DATABASE "${config.database}"`, { db: config.database });
  const url = `${config.url.replace(/\/$/, '')}/write?${new URLSearchParams({ db: config.database, precision: 'ms' })}`;
  let readings = 0;
  const t = performance.now();
  const pending = new Set<Promise<void>>();
  const send = async (body: string): Promise<void> => {
    const res = await fetch(url, { method: 'POST', body });
    if (!res.ok) throw new Error(`InfluxDB refused a batch: ${res.status} ${(await res.text()).slice(0, 200)}`);
  };
  for (const points of days) {
    for (let i = 0; i < points.length; i += LINES_PER_BATCH) {
      const chunk = points.slice(i, i + LINES_PER_BATCH);
      const body = chunk
        .map((p) => toLine(p, seriesPrefix(p)))
        .filter((l): l is string => l !== undefined)
        .join('\n');
      readings += chunk.length;
      const job: Promise<void> = send(body).finally(() => pending.delete(job));
      pending.add(job);
      if (pending.size >= IN_FLIGHT) await Promise.race(pending);
    }
  }
  await Promise.all(pending);
  return { readings, loadS: (performance.now() - t) / 1000 };
}

export async function setupInfluxRollups(
  config: InfluxConfig,
  lifecycle: StoreLifecycleConfig,
): Promise<{ setupS: number; actions: number }> {
  const http = new InfluxHttp({ ...config, timeoutMs: 120_000 });
  const t = performance.now();
  const plan = await planRollupSetup(http, config, lifecycle, Date.now());
  await applyRollupSetup(http, plan);
  return { setupS: (performance.now() - t) / 1000, actions: plan.actions.length };
}
