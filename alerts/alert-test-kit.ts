import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { stringify } from 'yaml';
import { loadCity, type City } from '../config/city-config.ts';
import { createManualClock, type ManualClock } from '../core/clock.ts';
import { IngestEvents, type CameraEvent, type DeviceStatusEvent, type ReadingEvent } from '../ingest/ingest-events.ts';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { TimeSeriesStore } from '../store/time-series-store.ts';
import type { AlertEvent } from './alert-model.ts';
import { createAlertService, type AlertEngine } from './alert-service.ts';
import type { RuleTypes } from './rule-types.ts';

/**
 * Small factories for the alerts tests: the real Huế city, the real embedded store in a temp dir, and a
 * service in simulated time. Each test makes its own data and directories.
 */
export const CONFIG_DIR = new URL('../config/', import.meta.url).pathname;
let city: City | undefined;
export function hueCity(): City {
  city ??= loadCity(join(CONFIG_DIR, 'cities/hue/city.yaml'), join(CONFIG_DIR, 'kinds'));
  return city;
}

export const T0 = Date.UTC(2026, 9, 1, 0, 0, 0);

export function reading(sensorId: string, values: Record<string, number>, ts: number): ReadingEvent {
  const sensor = hueCity().sensorsById.get(sensorId)!;
  return { sensorId, kind: sensor.kind, district: sensor.district, ts, values };
}

export function status(sensorId: string, value: 'online' | 'offline', ts: number): DeviceStatusEvent {
  const sensor = hueCity().sensorsById.get(sensorId)!;
  return {
    sensorId,
    kind: sensor.kind,
    district: sensor.district,
    status: value,
    ts,
    source: value === 'offline' ? 'will' : 'device',
  };
}

export function cameraEvent(sensorId: string, type: string, ts: number): CameraEvent {
  const sensor = hueCity().sensorsById.get(sensorId)!;
  return { sensorId, district: sensor.district, ts, type, data: {} };
}

export interface Harness {
  readonly dir: string;
  readonly rulesDir: string;
  readonly dataDir: string;
  readonly clock: ManualClock;
  readonly events: IngestEvents;
  store: SqliteStore;
  service: AlertEngine;
  readonly seen: AlertEvent[];
  /** waits until every alert event so far is stored and emitted */
  settle(): Promise<void>;
  /** a new service over the same store file and dirs, as after a process restart */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  start?: number;
  vnAqi?: boolean;
  /** what the service writes through, around the real store (e.g. a write that waits) */
  wrapStore?: (store: SqliteStore) => TimeSeriesStore;
  /** the rule types (default: the built-ins) */
  ruleTypes?: RuleTypes;
  /** where the service logs (default: silent) */
  logger?: Logger;
}

export async function startHarness(rules: unknown[], options: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-alerts-'));
  const rulesDir = join(dir, 'rules');
  const dataDir = join(dir, 'data');
  mkdirSync(rulesDir);
  writeFileSync(join(rulesDir, 'test.yaml'), stringify(rules));
  const clock = createManualClock(options.start ?? T0);
  const events = new IngestEvents();
  const logger = options.logger ?? pino({ level: 'silent' });
  const storeFile = join(dataDir, 'store.sqlite');
  const seen: AlertEvent[] = [];
  const make = async (real: SqliteStore): Promise<AlertEngine> => {
    const store = options.wrapStore?.(real) ?? real;
    const service = createAlertService({
      store,
      city: hueCity(),
      events,
      clock,
      logger,
      rulesDir,
      dataDir,
      vnAqi: options.vnAqi ?? false,
      ruleTypes: options.ruleTypes,
    });
    service.bus.on('alert', (e) => seen.push(e));
    await service.start();
    return service;
  };
  const store = await SqliteStore.open(storeFile);
  const h: Harness = {
    dir,
    rulesDir,
    dataDir,
    clock,
    events,
    store,
    seen,
    service: await make(store),
    async settle() {
      await h.service.idle();
    },
    async restart() {
      await h.service.stop();
      await h.store.close();
      h.store = await SqliteStore.open(storeFile);
      h.service = await make(h.store);
    },
    async close() {
      await h.service.stop();
      await h.store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}
