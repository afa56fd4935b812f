import type { City } from '../config/city-config.ts';
import { createManualClock } from '../core/clock.ts';
import {
  CAMERA_EVENT_MEASUREMENT,
  DEVICE_STATUS_MEASUREMENT,
  IngestEvents,
  type CameraEvent,
  type DeviceStatusEvent,
  type ReadingEvent,
} from '../ingest/ingest-events.ts';
import type { Point, TimeSeriesStore } from '../store/time-series-store.ts';
import type { AlertEvent } from './alert-model.ts';
import { createAlertService } from './alert-service.ts';
import { VN_AQI_METRIC } from './aqi-tracker.ts';
import type { Rule } from './rule-schema.ts';
import { builtinRuleTypes } from './rule-types.ts';

/**
 * Replays stored history through a rule set, in simulated time, with the very service that runs live:
 * what would have fired, and when. Nothing is written: the replay reads the store and keeps its alert
 * events (and derived VN_AQI values) in memory.
 */
export interface BacktestResult {
  readonly events: AlertEvent[];
  readonly replayed: { readonly readings: number; readonly statuses: number; readonly cameraEvents: number };
}

type Replay =
  | { readonly ts: number; readonly type: 'readings'; readonly event: ReadingEvent }
  | { readonly ts: number; readonly type: 'status'; readonly event: DeviceStatusEvent }
  | { readonly ts: number; readonly type: 'cameraEvent'; readonly event: CameraEvent };

/** Reads the real store, but starts with no alert history or device state and never writes. */
function dryRun(store: TimeSeriesStore): TimeSeriesStore {
  return {
    name: `${store.name} (backtest)`,
    write: async () => undefined,
    queryRange: (q) => store.queryRange(q),
    aggregate: (q) => store.aggregate(q),
    latest: async () => [],
    queryPoints: async () => [],
    close: async () => undefined,
  };
}

async function loadHistory(
  store: TimeSeriesStore,
  city: City,
  rules: readonly Rule[],
  from: number,
  to: number,
): Promise<Replay[]> {
  const sensorIds = new Set<string>();
  for (const rule of rules) {
    const ruleType = builtinRuleTypes.of(rule);
    for (const s of ruleType.targets(rule, city)) {
      sensorIds.add(s.id);
      for (const id of ruleType.feeds?.(rule, city, s) ?? []) sensorIds.add(id);
    }
  }
  const out: Replay[] = [];
  for (const id of sensorIds) {
    const sensor = city.sensorsById.get(id);
    const kind = sensor && city.kinds.get(sensor.kind);
    if (!sensor || !kind) continue;
    const byTs = new Map<number, Record<string, number>>();
    // vnAqi stored by the live engine is not read back: the replay derives it again
    for (const metric of Object.keys(kind.metrics).filter((m) => m !== VN_AQI_METRIC)) {
      for (const s of await store.queryRange({ measurement: sensor.kind, sensorId: id, field: metric, from, to })) {
        byTs.set(s.ts, { ...byTs.get(s.ts), [metric]: s.value });
      }
    }
    for (const [ts, values] of byTs)
      out.push({
        ts,
        type: 'readings',
        event: { sensorId: id, kind: sensor.kind, district: sensor.district, ts, values },
      });
  }
  const inScope = (p: Point) => sensorIds.has(p.tags.sensorId ?? '');
  for (const p of (await store.queryPoints({ measurement: DEVICE_STATUS_MEASUREMENT, from, to })).filter(inScope)) {
    const status = p.fields.status;
    if (status !== 'online' && status !== 'offline') continue;
    const sensor = city.sensorsById.get(p.tags.sensorId!)!;
    const source = p.fields.source === 'will' || p.fields.source === 'broker' ? p.fields.source : 'device';
    out.push({
      ts: p.ts,
      type: 'status',
      event: { sensorId: sensor.id, kind: sensor.kind, district: sensor.district, status, ts: p.ts, source },
    });
  }
  for (const p of (await store.queryPoints({ measurement: CAMERA_EVENT_MEASUREMENT, from, to })).filter(inScope)) {
    if (typeof p.fields.type !== 'string') continue;
    const sensor = city.sensorsById.get(p.tags.sensorId!)!;
    out.push({
      ts: p.ts,
      type: 'cameraEvent',
      event: { sensorId: sensor.id, district: sensor.district, ts: p.ts, type: p.fields.type, data: {} },
    });
  }
  return out.sort((a, b) => a.ts - b.ts);
}

export async function runBacktest(options: {
  store: TimeSeriesStore;
  city: City;
  rules: readonly Rule[];
  from: number;
  to: number;
}): Promise<BacktestResult> {
  const { store, city, rules, from, to } = options;
  const history = await loadHistory(store, city, rules, from, to);
  const clock = createManualClock(from);
  const events = new IngestEvents();
  const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
  const service = createAlertService({ store: dryRun(store), city, events, clock, logger: quiet, rulesDir: '', rules });
  const fired: AlertEvent[] = [];
  service.bus.on('alert', (e) => fired.push(e));
  await service.start();
  const replayed = { readings: 0, statuses: 0, cameraEvents: 0 };
  for (const item of history) {
    // timers due before this item (`for`, silence, windows) fire first, at their own time
    if (item.ts > clock.now()) clock.set(item.ts);
    if (item.type === 'readings') {
      events.emit('readings', [item.event]);
      replayed.readings++;
    } else if (item.type === 'status') {
      events.emit('status', item.event);
      replayed.statuses++;
    } else {
      events.emit('cameraEvent', item.event);
      replayed.cameraEvents++;
    }
  }
  clock.set(to);
  await service.idle();
  await service.stop();
  return { events: fired, replayed };
}
