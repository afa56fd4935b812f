import type { LatestReading, SensorInfo } from './api-types.ts';

/**
 * The sensors and their latest values. Polled (GET /api/sensors for status, /api/readings/latest for
 * values); only sensors whose picture changed are marked dirty, so 5,000 markers are not restyled
 * every few seconds.
 */
export class SensorStore {
  version = 0;
  private readonly byId = new Map<string, SensorInfo>();
  private readonly dirty = new Set<string>();
  private listVersion = 0;
  private online = 0;
  private onlineCountedAt = -1;

  /** Bumps when sensors are added or removed (the map rebuilds its markers, filters their options). */
  get membershipVersion(): number {
    return this.listVersion;
  }

  applySensors(sensors: readonly SensorInfo[]): void {
    const seen = new Set<string>();
    let membershipChanged = false;
    for (const incoming of sensors) {
      seen.add(incoming.id);
      const current = this.byId.get(incoming.id);
      if (!current) {
        this.byId.set(incoming.id, { ...incoming, latest: { ...incoming.latest } });
        membershipChanged = true;
        this.dirty.add(incoming.id);
        continue;
      }
      if (current.status !== incoming.status || current.lastSeen !== incoming.lastSeen) {
        current.status = incoming.status;
        current.lastSeen = incoming.lastSeen;
        this.dirty.add(incoming.id);
      }
      for (const [metric, latest] of Object.entries(incoming.latest))
        this.setLatest(current, metric, latest.value, latest.ts);
    }
    for (const id of [...this.byId.keys()]) {
      if (!seen.has(id)) {
        this.byId.delete(id);
        membershipChanged = true;
      }
    }
    if (membershipChanged) this.listVersion++;
    this.version++;
  }

  applyLatest(readings: readonly LatestReading[]): void {
    for (const reading of readings) {
      const sensor = this.byId.get(reading.sensorId);
      if (sensor) this.setLatest(sensor, reading.metric, reading.value, reading.ts);
    }
    this.version++;
  }

  get(id: string): SensorInfo | undefined {
    return this.byId.get(id);
  }

  all(): IterableIterator<SensorInfo> {
    return this.byId.values();
  }

  get size(): number {
    return this.byId.size;
  }

  /** Counted once per change of the store, not on every repaint of the KPIs (5,000 sensors each time). */
  onlineCount(): number {
    if (this.onlineCountedAt !== this.version) {
      this.online = 0;
      for (const sensor of this.byId.values()) if (sensor.status === 'online') this.online++;
      this.onlineCountedAt = this.version;
    }
    return this.online;
  }

  takeDirty(): Set<string> {
    const out = new Set(this.dirty);
    this.dirty.clear();
    return out;
  }

  private setLatest(sensor: SensorInfo, metric: string, value: number, ts: number | string): void {
    const epoch = typeof ts === 'number' ? ts : Date.parse(ts);
    const current = sensor.latest[metric];
    if (current && current.ts >= epoch) return;
    sensor.latest[metric] = { value, ts: epoch };
    if (sensor.lastSeen === undefined || epoch > sensor.lastSeen) sensor.lastSeen = epoch;
    this.dirty.add(sensor.id);
  }
}
