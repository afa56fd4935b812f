import type { Sensor } from '../config/city-config.ts';
import type { ReadingEvent } from '../ingest/ingest-events.ts';
import type { TimeSeriesStore } from '../store/time-series-store.ts';
import { HOURLY_POLLUTANTS, hourlyAqi, type HourlyPollutant } from './vn-aqi.ts';

/**
 * Turns air readings into hourly averages and, as each hour closes, the hourly VN_AQI of that station
 * (NowCast over the last 12 hours for PM). The service writes each value to the store as field `vnAqi` of
 * measurement `air` and feeds it to the rules as the derived metric `vnAqi`.
 *
 * An hour closes when the station sends a reading of a later hour (a device's readings arrive in order),
 * or `graceMs` after the hour ends for a station that went quiet. The derived value is stamped at the
 * hour's end, as hourly averages are published ("AQI 09:00" covers 08:00-09:00).
 */
export const HOUR_MS = 3_600_000;
export const VN_AQI_METRIC = 'vnAqi';

export interface AqiSample {
  readonly sensorId: string;
  readonly kind: string;
  readonly district: string;
  readonly ts: number;
  readonly aqi: number;
  readonly dominant: string;
}

interface Accumulator {
  sum: number;
  count: number;
}
interface Station {
  readonly sensor: Pick<Sensor, 'id' | 'kind' | 'district'>;
  readonly open: Map<number, Map<HourlyPollutant, Accumulator>>;
  readonly closed: Map<number, Partial<Record<HourlyPollutant, number>>>;
  lastClosed: number;
}

export interface AqiTracker {
  /** Adds a reading; returns the AQI of any hour it closed. */
  ingest(reading: ReadingEvent): readonly AqiSample[];
  /** Closes the hours that ended more than `graceMs` before `now`. */
  closeDue(now: number): AqiSample[];
  /** When the next hour may need closing by timer. */
  nextCloseAt(now: number): number;
  /** Seeds the last 12 hourly averages (and the current hour so far) from the store after a restart. */
  backfill(store: TimeSeriesStore, now: number): Promise<void>;
}

const NONE: readonly AqiSample[] = Object.freeze([]);

export function createAqiTracker(airSensors: readonly Sensor[], graceMs = 5 * 60_000): AqiTracker {
  const stations = new Map<string, Station>(
    airSensors.map((sensor) => [sensor.id, { sensor, open: new Map(), closed: new Map(), lastClosed: -Infinity }]),
  );

  const closeHour = (station: Station, hour: number): AqiSample | undefined => {
    const acc = station.open.get(hour);
    station.open.delete(hour);
    const averages: Partial<Record<HourlyPollutant, number>> = {};
    for (const [p, a] of acc ?? []) averages[p] = a.sum / a.count;
    station.closed.set(hour, averages);
    station.lastClosed = Math.max(station.lastClosed, hour);
    for (const h of station.closed.keys()) if (h <= hour - 12) station.closed.delete(h);
    const series: Partial<Record<HourlyPollutant, Array<number | undefined>>> = {};
    for (const p of HOURLY_POLLUTANTS)
      series[p] = Array.from({ length: 12 }, (_, i) => station.closed.get(hour - i)?.[p]);
    const result = hourlyAqi(series);
    if (!result) return undefined;
    const { sensor } = station;
    return {
      sensorId: sensor.id,
      kind: sensor.kind,
      district: sensor.district,
      ts: (hour + 1) * HOUR_MS,
      aqi: result.aqi,
      dominant: result.dominant,
    };
  };

  const closeBefore = (station: Station, hour: number): readonly AqiSample[] => {
    // the common case, a reading within the hour already open: nothing to close, nothing to allocate
    if (station.open.size === 0 || (station.open.size === 1 && station.open.has(hour))) return NONE;
    const out: AqiSample[] = [];
    for (const h of [...station.open.keys()].sort((a, b) => a - b)) {
      if (h >= hour) break;
      const sample = closeHour(station, h);
      if (sample) out.push(sample);
    }
    return out;
  };

  return {
    ingest(reading) {
      let station = stations.get(reading.sensorId);
      // an air sensor added to the registry while running gets its station with its first reading
      if (!station && reading.kind === 'air') {
        station = {
          sensor: { id: reading.sensorId, kind: reading.kind, district: reading.district },
          open: new Map(),
          closed: new Map(),
          lastClosed: -Infinity,
        };
        stations.set(reading.sensorId, station);
      }
      if (!station) return NONE;
      const hour = Math.floor(reading.ts / HOUR_MS);
      if (hour <= station.lastClosed) return NONE; // too late for an hour already published
      let acc = station.open.get(hour);
      for (const p of HOURLY_POLLUTANTS) {
        const v = reading.values[p];
        if (v === undefined) continue;
        if (!acc) {
          acc = new Map();
          station.open.set(hour, acc);
        }
        const a = acc.get(p);
        if (a) {
          a.sum += v;
          a.count++;
        } else {
          acc.set(p, { sum: v, count: 1 });
        }
      }
      return closeBefore(station, hour);
    },
    closeDue(now) {
      const out: AqiSample[] = [];
      const hour = Math.floor((now - graceMs) / HOUR_MS);
      for (const station of stations.values()) out.push(...closeBefore(station, hour));
      return out.sort((a, b) => a.ts - b.ts);
    },
    nextCloseAt(now) {
      return (Math.floor((now - graceMs) / HOUR_MS) + 1) * HOUR_MS + graceMs;
    },
    async backfill(store, now) {
      const current = Math.floor(now / HOUR_MS);
      for (const station of stations.values()) {
        for (const p of HOURLY_POLLUTANTS) {
          const query = { measurement: 'air', sensorId: station.sensor.id, field: p, every: HOUR_MS };
          const means = await store.aggregate({
            ...query,
            fn: 'mean',
            from: (current - 12) * HOUR_MS,
            to: current * HOUR_MS,
          });
          for (const s of means) {
            const h = Math.floor(s.ts / HOUR_MS);
            station.closed.set(h, { ...station.closed.get(h), [p]: s.value });
            station.lastClosed = Math.max(station.lastClosed, h);
          }
          const [sum] = await store.aggregate({ ...query, fn: 'sum', from: current * HOUR_MS, to: now + 1 });
          const [count] = await store.aggregate({ ...query, fn: 'count', from: current * HOUR_MS, to: now + 1 });
          if (sum && count && count.value > 0) {
            const acc = station.open.get(current) ?? new Map<HourlyPollutant, Accumulator>();
            acc.set(p, { sum: sum.value, count: count.value });
            station.open.set(current, acc);
          }
        }
      }
    },
  };
}
