import type { City } from '../config/city-config.ts';
import type { TimeSeriesStore } from '../store/time-series-store.ts';
import { DEVICE_STATUS_MEASUREMENT, type IngestEvents } from './ingest-events.ts';

/**
 * What operators see of each device right now: online/offline (from its status topic and last will) and
 * when it was last heard from. Restored from the store at start so a restart does not show every device
 * as unknown.
 */
export type DeviceStatus = 'online' | 'offline' | 'unknown';

export interface DeviceState {
  readonly status: DeviceStatus;
  readonly statusSince?: number;
  readonly lastSeen?: number;
  /** percent, from the last status that carried one (LoRaWAN DevStatusAns through ChirpStack) */
  readonly batteryLevel?: number;
}

export class DeviceStateTracker {
  private readonly states = new Map<
    string,
    { status: DeviceStatus; statusSince?: number; lastSeen?: number; batteryLevel?: number }
  >();
  private readingsSeen = 0;

  constructor(
    private readonly city: City,
    events: IngestEvents,
  ) {
    for (const sensor of city.sensors) this.states.set(sensor.id, { status: 'unknown' });
    events.on('readings', (readings) => {
      this.readingsSeen += readings.length;
      for (const r of readings) this.touch(r.sensorId, r.ts);
    });
    events.on('cameraEvent', (e) => this.touch(e.sensorId, e.ts));
    events.on('status', (s) => {
      if (!this.states.has(s.sensorId) && city.sensorsById.has(s.sensorId))
        this.states.set(s.sensorId, { status: 'unknown' });
      const state = this.states.get(s.sensorId);
      if (!state) return;
      state.status = s.status;
      state.statusSince = s.ts;
      if (s.batteryLevel !== undefined) state.batteryLevel = s.batteryLevel;
      if (s.status === 'online') this.touch(s.sensorId, s.ts);
    });
  }

  async restore(store: TimeSeriesStore, now: number): Promise<void> {
    const latest = await store.latest({});
    for (const v of latest) {
      const state = this.states.get(v.sensorId);
      if (state && (state.lastSeen === undefined || v.ts > state.lastSeen)) state.lastSeen = v.ts;
    }
    const statuses = await store.queryPoints({
      measurement: DEVICE_STATUS_MEASUREMENT,
      from: now - 30 * 86_400_000,
      to: now + 1,
    });
    for (const p of statuses) {
      const state = this.states.get(p.tags.sensorId ?? '');
      const status = p.fields.status;
      if (state && (status === 'online' || status === 'offline') && (state.statusSince ?? 0) <= p.ts) {
        state.status = status;
        state.statusSince = p.ts;
      }
      if (state && typeof p.fields.batteryLevel === 'number') state.batteryLevel = p.fields.batteryLevel;
    }
  }

  get(sensorId: string): DeviceState | undefined {
    return this.states.get(sensorId);
  }

  counts(): Record<DeviceStatus, number> {
    const counts: Record<DeviceStatus, number> = { online: 0, offline: 0, unknown: 0 };
    for (const s of this.states.values()) counts[s.status]++;
    return counts;
  }

  /** readings accepted since start (for a readings-per-second figure) */
  get readingsAccepted(): number {
    return this.readingsSeen;
  }

  private touch(sensorId: string, ts: number): void {
    // a sensor added to the registry while running: tracked from its first message
    if (!this.states.has(sensorId) && this.city.sensorsById.has(sensorId))
      this.states.set(sensorId, { status: 'unknown' });
    const state = this.states.get(sensorId);
    if (!state) return;
    if (state.lastSeen === undefined || ts > state.lastSeen) state.lastSeen = ts;
    if (state.status === 'unknown') state.status = 'online';
  }
}
