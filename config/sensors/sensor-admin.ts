import { rotateDevice } from '../accounts/account-changes.ts';
import type { AuthFile } from '../accounts/auth-file.ts';
import { DomainError } from '../../core/domain-error.ts';
import type { RegistryEntry } from './registry-file.ts';
import type { ImportPlanEntry, SensorPatch, SensorRegistry } from './sensor-registry.ts';

/**
 * What an admin does to a device, as one service for the API, the console and the tests: the registry
 * entry and the device's secret in auth.json change together. A new sensor gets a secret at once (shown
 * once); a deleted one loses its secret, so the reload closes its live session (live-auth.ts); a disabled
 * one keeps its secret for when it comes back, and the platform closes its session (platform-registry.ts).
 */
export interface SensorAdminDeps {
  registry: SensorRegistry;
  /** read-change-write auth.json and reload (LiveAuth.change, or updateAuthFile from the CLI) */
  changeAuth<T>(fn: (auth: AuthFile) => T): T;
}

export interface DeviceCredentials {
  sensorId: string;
  kind: string;
  username: string;
  password: string;
}

export interface SensorAdmin {
  create(raw: unknown): { entry: RegistryEntry; credentials: DeviceCredentials };
  update(id: string, patch: SensorPatch): { before: RegistryEntry; after: RegistryEntry };
  setDisabled(id: string, disabled: boolean): { before: RegistryEntry; after: RegistryEntry };
  remove(id: string): RegistryEntry;
  rotate(id: string): DeviceCredentials;
  /** applies a checked plan; the sensors new to the registry get a secret each (returned once) */
  importPlan(plan: readonly ImportPlanEntry[]): { created: DeviceCredentials[]; updated: string[] };
}

export function createSensorAdmin(deps: SensorAdminDeps): SensorAdmin {
  const { registry } = deps;
  const credentialsOf = (entry: RegistryEntry, password: string): DeviceCredentials => ({
    sensorId: entry.id,
    kind: entry.kind,
    username: entry.id,
    password,
  });
  const rotate = (id: string): DeviceCredentials => {
    const entry = registry.entry(id);
    if (!entry)
      throw new DomainError('not_found', 'sensor_not_found', `no sensor "${id.slice(0, 64)}" in the registry`);
    return credentialsOf(
      entry,
      deps.changeAuth((auth) => rotateDevice(auth, id, true)),
    );
  };
  return {
    create(raw) {
      const entry = registry.create(raw);
      return { entry, credentials: rotate(entry.id) };
    },
    update: (id, patch) => registry.update(id, patch),
    setDisabled(id, disabled) {
      const before = registry.entry(id);
      const after = registry.setDisabled(id, disabled);
      return { before: before ?? after, after };
    },
    remove(id) {
      const before = registry.remove(id);
      deps.changeAuth((auth) => {
        delete auth.devices[id];
      });
      return before;
    },
    rotate,
    importPlan(plan) {
      registry.applyImport(plan);
      const fresh = plan.filter((p) => !p.existing).map((p) => p.sensor);
      const created = deps.changeAuth((auth) =>
        fresh.map((s) => ({ sensorId: s.id, kind: s.kind, username: s.id, password: rotateDevice(auth, s.id, true) })),
      );
      return { created, updated: plan.filter((p) => p.existing).map((p) => p.sensor.id) };
    },
  };
}
