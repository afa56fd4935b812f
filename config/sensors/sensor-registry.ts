import type { City, Sensor } from '../city-config.ts';
import type { Clock } from '../../core/clock.ts';
import { sensorNameClash } from '../accounts/account-name-policy.ts';
import { DomainError } from '../../core/domain-error.ts';
import type { CityBounds } from './city-bounds.ts';
import { readRegistryFile, registryFilePath, writeRegistryFile, type RegistryEntry } from './registry-file.ts';
import { checkSensor, type SensorCheckContext } from './sensor-checks.ts';

/**
 * The device registry at runtime: every sensor the platform knows, enabled or not, kept in
 * `<dataDir>/sensors.json` (registry-file.ts). The city's YAML seeds it on the first start; afterwards
 * the API, the console and `ioc sensors import` change it and the running platform follows at once:
 * `active` is what ingest, the broker and the rules read (live-city.ts), and listeners hear every change
 * (the platform re-targets rules and closes the MQTT sessions of a disabled or deleted sensor).
 */
export type SensorPatch = Partial<Pick<Sensor, 'name' | 'kind' | 'lat' | 'lon' | 'district' | 'tags'>> & {
  floodLevels?: number[] | null;
};

export type RegistryChange =
  | { readonly action: 'create' | 'update' | 'enable' | 'disable' | 'delete'; readonly id: string }
  | { readonly action: 'import' | 'reload'; readonly ids: readonly string[] };

export interface ImportPlanEntry {
  readonly sensor: Sensor;
  readonly existing: boolean;
}

export interface SensorRegistryDeps {
  dataDir: string;
  /** the city as configured: its kinds, and its sensors to seed an empty registry */
  city: Pick<City, 'kinds' | 'sensors'>;
  bounds: CityBounds;
  clock: Clock;
  /**
   * the people's account names: a sensor id that equals one, or is a prefix of one or starts with one, would
   * share MQTT clientId lanes with that account (config/accounts/account-name-policy.ts, both ways)
   */
  accountNames?: () => Iterable<string>;
}

const strip = (e: RegistryEntry): Sensor =>
  Object.freeze({
    id: e.id,
    kind: e.kind,
    name: e.name,
    lat: e.lat,
    lon: e.lon,
    district: e.district,
    tags: Object.freeze({ ...e.tags }) as Sensor['tags'],
    ...(e.floodLevels ? { floodLevels: Object.freeze([...e.floodLevels]) as number[] } : {}),
  });

export class SensorRegistry {
  readonly file: string;
  readonly checks: SensorCheckContext;
  private entries = new Map<string, RegistryEntry>();
  /** enabled sensors, the same object for a sensor until it changes (rules keep their state by it) */
  private activeById = new Map<string, Sensor>();
  private activeList: readonly Sensor[] = [];
  private lastText = '';
  private readonly listeners: Array<(change: RegistryChange) => void> = [];

  constructor(private readonly deps: SensorRegistryDeps) {
    this.file = registryFilePath(deps.dataDir);
    this.checks = { kinds: deps.city.kinds, bounds: deps.bounds };
    const stored = readRegistryFile(this.file);
    if (stored) {
      this.replaceAll(stored.sensors);
    } else {
      // first start on this data directory: the city's YAML becomes the registry (checked at load already)
      const at = this.now();
      this.replaceAll(
        deps.city.sensors.map((s) => ({ ...s, tags: { ...s.tags }, disabled: false, createdAt: at, updatedAt: at })),
      );
      this.save();
    }
  }

  get size(): number {
    return this.entries.size;
  }
  get sensors(): readonly Sensor[] {
    return this.activeList;
  }
  get sensorsById(): ReadonlyMap<string, Sensor> {
    return this.activeById;
  }
  all(): readonly RegistryEntry[] {
    return [...this.entries.values()];
  }
  entry(id: string): RegistryEntry | undefined {
    return this.entries.get(id);
  }
  isActive(id: string): boolean {
    return this.activeById.has(id);
  }
  onChange(listener: (change: RegistryChange) => void): void {
    this.listeners.push(listener);
  }

  create(raw: unknown): RegistryEntry {
    const sensor = this.check(raw);
    this.refuseAccountClash([sensor.id]);
    if (this.entries.has(sensor.id))
      throw new DomainError('conflict', 'sensor_exists', `a sensor with id "${sensor.id}" exists already`);
    const at = this.now();
    const entry: RegistryEntry = { ...sensor, disabled: false, createdAt: at, updatedAt: at };
    this.commit([...this.entries.values(), entry], { action: 'create', id: sensor.id });
    return entry;
  }

  update(id: string, patch: SensorPatch): { before: RegistryEntry; after: RegistryEntry } {
    const before = this.require(id);
    const { floodLevels, ...rest } = patch;
    const merged: Record<string, unknown> = { ...this.configOf(before), ...rest };
    if (floodLevels === null) delete merged.floodLevels;
    else if (floodLevels !== undefined) merged.floodLevels = floodLevels;
    const sensor = this.check(merged);
    const after: RegistryEntry = {
      ...sensor,
      disabled: before.disabled,
      createdAt: before.createdAt,
      updatedAt: this.now(),
    };
    this.commit(
      [...this.entries.values()].map((e) => (e.id === id ? after : e)),
      { action: 'update', id },
    );
    return { before, after };
  }

  setDisabled(id: string, disabled: boolean): RegistryEntry {
    const before = this.require(id);
    if (before.disabled === disabled) return before;
    const after: RegistryEntry = { ...before, disabled, updatedAt: this.now() };
    this.commit(
      [...this.entries.values()].map((e) => (e.id === id ? after : e)),
      { action: disabled ? 'disable' : 'enable', id },
    );
    return after;
  }

  remove(id: string): RegistryEntry {
    const before = this.require(id);
    this.commit(
      [...this.entries.values()].filter((e) => e.id !== id),
      { action: 'delete', id },
    );
    return before;
  }

  /** All or nothing: the plan was checked whole (sensor-import.ts); one write applies every entry. */
  applyImport(plan: readonly ImportPlanEntry[]): void {
    this.refuseAccountClash(plan.filter((p) => !this.entries.has(p.sensor.id)).map((p) => p.sensor.id));
    const at = this.now();
    const next = new Map(this.entries);
    for (const { sensor } of plan) {
      const old = next.get(sensor.id);
      next.set(sensor.id, {
        ...sensor,
        disabled: old?.disabled ?? false,
        createdAt: old?.createdAt ?? at,
        updatedAt: at,
      });
    }
    this.commit([...next.values()], { action: 'import', ids: plan.map((p) => p.sensor.id) });
  }

  /**
   * Takes entries from the cluster's copy (cluster/shared-state.ts): each id set to its entry or removed,
   * written and applied like any change (sessions of sensors now disabled close, rules re-target).
   */
  applyShared(changes: ReadonlyMap<string, RegistryEntry | null>): void {
    const next = new Map(this.entries);
    for (const [id, entry] of changes) {
      if (entry) next.set(id, entry);
      else next.delete(id);
    }
    this.commit([...next.values()], { action: 'reload', ids: [...changes.keys()] });
  }

  /** Re-reads the file (changed by `ioc sensors` in another process); false when it is invalid. */
  reload(): boolean {
    const stored = readRegistryFile(this.file);
    if (!stored) return false;
    const text = JSON.stringify(stored);
    if (text === this.lastText) return true;
    const ids = [...new Set([...this.entries.keys(), ...stored.sensors.map((s) => s.id)])];
    this.replaceAll(stored.sensors);
    this.lastText = text;
    this.emit({ action: 'reload', ids });
    return true;
  }

  /** the sensor config of an entry, without the registry's own fields */
  configOf(e: RegistryEntry): Sensor {
    return {
      id: e.id,
      kind: e.kind,
      name: e.name,
      lat: e.lat,
      lon: e.lon,
      district: e.district,
      tags: { ...e.tags },
      ...(e.floodLevels ? { floodLevels: [...e.floodLevels] } : {}),
    };
  }

  /** Refuses new ids that clash with an account name (a device would take over that person's MQTT lane). */
  refuseAccountClash(ids: readonly string[]): void {
    if (!this.deps.accountNames) return;
    const names = [...this.deps.accountNames()];
    const clashes = ids.flatMap((id) => {
      const name = sensorNameClash(id, names);
      return name === undefined ? [] : [`"${id}" clashes with the account "${name}"`];
    });
    if (clashes.length === 0) return;
    throw new DomainError(
      'conflict',
      'sensor_id_is_account',
      `sensor ids must not equal, prefix or extend an account name ` +
        `(MQTT clientIds are scoped by both): ${clashes.slice(0, 20).join('; ')}`,
      { problems: clashes },
    );
  }

  private check(raw: unknown): Sensor {
    const checked = checkSensor(raw, this.checks);
    if (!checked.ok)
      throw new DomainError('invalid', 'invalid_sensor', `invalid sensor: ${checked.problems.join('; ')}`, {
        problems: checked.problems,
      });
    return checked.sensor;
  }

  private require(id: string): RegistryEntry {
    const e = this.entries.get(id);
    if (!e) throw new DomainError('not_found', 'sensor_not_found', `no sensor "${id.slice(0, 64)}" in the registry`);
    return e;
  }

  /** durable first: nothing changes in memory when the write fails */
  private commit(next: readonly RegistryEntry[], change: RegistryChange): void {
    writeRegistryFile(this.file, { version: 1, sensors: [...next] });
    this.replaceAll(next);
    this.lastText = JSON.stringify({ version: 1, sensors: next });
    this.emit(change);
  }

  private save(): void {
    const sensors = [...this.entries.values()];
    writeRegistryFile(this.file, { version: 1, sensors });
    this.lastText = JSON.stringify({ version: 1, sensors });
  }

  private replaceAll(list: readonly RegistryEntry[]): void {
    const previous = this.entries;
    const previousActive = this.activeById;
    this.entries = new Map(list.map((e) => [e.id, e]));
    this.activeById = new Map();
    for (const e of list) {
      if (e.disabled) continue;
      const old = previousActive.get(e.id);
      const same =
        old &&
        JSON.stringify(previous.get(e.id) && this.configOf(previous.get(e.id)!)) === JSON.stringify(this.configOf(e));
      this.activeById.set(e.id, same ? old : strip(e));
    }
    this.activeList = Object.freeze([...this.activeById.values()]);
  }

  private emit(change: RegistryChange): void {
    for (const l of this.listeners) l(change);
  }

  private now(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }
}
