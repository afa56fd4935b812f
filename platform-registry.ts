import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { provisionRoutes } from './api/provision-routes.ts';
import { sensorAdminRoutes } from './api/sensor-admin-routes.ts';
import { sensorImportRoutes } from './api/sensor-import-routes.ts';
import type { AuditRecorder } from './audit/audit-log.ts';
import type { City } from './config/city-config.ts';
import type { Clock, TimerHandle } from './core/clock.ts';
import type { AuthStore, Principal } from './config/credentials.ts';
import type { LiveAuth } from './config/accounts/live-auth.ts';
import type { LiveSessionRegistry } from './config/accounts/live-sessions.ts';
import type { PlatformConfig } from './config/platform-config.ts';
import { loadCityBounds } from './config/sensors/city-bounds.ts';
import { liveCity } from './config/sensors/live-city.ts';
import { ProvisioningCodes } from './config/sensors/provisioning-codes.ts';
import { createProvisioningLimiter } from './config/sensors/provisioning-limiter.ts';
import type { SharedLimits } from './cluster/shared-limits.ts';
import { createSensorAdmin } from './config/sensors/sensor-admin.ts';
import { SensorRegistry, type RegistryChange } from './config/sensors/sensor-registry.ts';

/**
 * The device registry wired into the running platform (the composition root's helper, like
 * platform-listeners.ts): opens `<dataDir>/sensors.json` (seeded from the city's YAML), gives the platform
 * the live city every module reads sensors from, and makes each change take effect at once:
 * - a disabled or deleted sensor's MQTT sessions close (the live-session registry) and its logins are
 *   refused (`gateDevices`);
 * - rules are re-targeted (`onSensorsChanged`: the alerts engine), so a new sensor in a rule's kind or
 *   district is evaluated from its first reading;
 * - `ioc sensors import` in another process rewrites the file; a watch reloads it, as auth.json's does.
 */
export interface PlatformRegistry {
  readonly registry: SensorRegistry;
  /** one-time provisioning codes (`<dataDir>/provisioning.json`; a cluster's, in a cluster) */
  readonly codes: ProvisioningCodes;
  readonly city: City;
  /** the broker's AuthStore, refusing devices whose sensor is disabled */
  gateDevices(auth: AuthStore): AuthStore;
  /** false for a device principal whose sensor is disabled or gone */
  isCurrentDevice(principal: Principal): boolean;
  /** called after every change, once the sessions are closed (the platform re-targets rules) */
  onSensorsChanged(listener: (change: RegistryChange) => void): void;
  /** the live sessions to close and the metrics registry, once the platform made them */
  attach(sessions: LiveSessionRegistry, metrics: Registry): void;
  close(): void;
}

export function openPlatformRegistry(deps: {
  dataDir: string;
  city: City;
  clock: Clock;
  logger: Logger;
  accountNames?: () => Iterable<string>;
}): PlatformRegistry {
  const registry = new SensorRegistry({
    dataDir: deps.dataDir,
    city: deps.city,
    bounds: loadCityBounds(deps.city.boundaryFile),
    clock: deps.clock,
    ...(deps.accountNames ? { accountNames: deps.accountNames } : {}),
  });
  const city = liveCity(deps.city, registry);
  const codes = new ProvisioningCodes(deps.dataDir, deps.clock);
  let sessions: LiveSessionRegistry | undefined;
  let changes: Counter<'action'> | undefined;
  const listeners: Array<(change: RegistryChange) => void> = [];
  const deviceOf = (p: Principal) => (p.role === 'device' ? (p.sensorId ?? p.name) : undefined);
  // a device whose sensor left the active set; an account named like a device is not one
  const stale = (p: Principal) => {
    const id = deviceOf(p);
    return id !== undefined && registry.entry(id) !== undefined && !registry.isActive(id);
  };

  registry.onChange((change) => {
    changes?.inc({ action: change.action });
    const ids = 'id' in change ? [change.id] : change.ids;
    const gone = new Set(ids.filter((id) => !registry.isActive(id)));
    if (gone.size) {
      const closed =
        sessions?.closeWhere((p) => {
          const id = deviceOf(p);
          return id !== undefined && gone.has(id);
        }, 'sensor disabled or deleted') ?? [];
      if (closed.length)
        deps.logger.info(
          { sensors: [...gone].slice(0, 50), closed: closed.length },
          'closed the MQTT sessions of disabled or deleted sensors',
        );
    }
    deps.logger.info(
      { action: change.action, sensors: ids.slice(0, 50), count: ids.length },
      'device registry changed',
    );
    for (const l of listeners) {
      try {
        l(change);
      } catch (err) {
        deps.logger.error({ err }, 'a device registry listener failed');
      }
    }
  });

  // Watch the directory (an atomic rename replaces the file's inode); one reload after a burst of events.
  let pending: TimerHandle | undefined;
  let lastError: string | undefined;
  const watcher: FSWatcher = watch(dirname(registry.file), (_event, name) => {
    if (name !== basename(registry.file)) return;
    pending?.cancel();
    pending = deps.clock.setTimeout(() => {
      pending = undefined;
      try {
        registry.reload();
        lastError = undefined;
      } catch (err) {
        const message = (err as Error).message;
        if (message !== lastError)
          deps.logger.error({ err: message }, 'sensors.json changed but is invalid: keeping the sensors loaded before');
        lastError = message;
      }
    }, 50);
  });
  watcher.on('error', (err) =>
    deps.logger.error(
      { err: err.message },
      'cannot watch sensors.json: registry changes from the command line need a restart',
    ),
  );

  return {
    registry,
    codes,
    city,
    gateDevices: (auth) => ({
      verifyDevice: (u, p) => {
        const principal = auth.verifyDevice(u, p);
        return principal && stale(principal) ? undefined : principal;
      },
      ...(auth.device ? { device: (id: string) => auth.device?.(id) } : {}),
      verifyToken: (t) => auth.verifyToken(t),
      get deviceCount() {
        return auth.deviceCount;
      },
      get tokenCount() {
        return auth.tokenCount;
      },
    }),
    isCurrentDevice: (p) => !stale(p),
    onSensorsChanged: (l) => {
      listeners.push(l);
    },
    attach(liveSessions, metrics) {
      sessions = liveSessions;
      changes = new Counter({
        name: 'ioc_sensor_registry_changes_total',
        help: 'Changes to the device registry, by action',
        labelNames: ['action'],
        registers: [metrics],
      });
      new Gauge({
        name: 'ioc_sensors',
        help: 'Sensors in the device registry, by state',
        labelNames: ['state'],
        registers: [metrics],
        collect() {
          const all = registry.all();
          this.set({ state: 'enabled' }, all.filter((e) => !e.disabled).length);
          this.set({ state: 'disabled' }, all.filter((e) => e.disabled).length);
        },
      });
    },
    close() {
      pending?.cancel();
      watcher.close();
    },
  };
}

export interface RegistryRoutesDeps {
  config: Pick<PlatformConfig, 'dataDir' | 'accounts' | 'audit'>;
  clock: Clock;
  /** device secrets: created, rotated and removed with their sensors */
  accounts: Pick<LiveAuth, 'change' | 'device'>;
  audit: AuditRecorder;
  metrics: Registry;
  /** what a provisioned device is told to connect to (known once the broker listens) */
  mqttUrl(): string;
  /** cluster mode: failed claims counted in Redis for every node (cluster/shared-limits.ts) */
  sharedLimits?: Pick<SharedLimits, 'provisioning'>;
}

/**
 * The registry's HTTP side: the admin routes (list, create, edit, disable, delete, provisioning codes), the
 * bulk import, and the public provisioning route, whose one-time code is the credential and whose failures
 * are limited per address like sign-ins (`accounts.maxFailuresPerAddress` per `failureWindowMinutes`).
 */
export function registryRoutes(devices: PlatformRegistry, deps: RegistryRoutesDeps): FastifyPluginAsync[] {
  const { config, clock, accounts, audit, metrics } = deps;
  const registry = devices.registry;
  const admin = createSensorAdmin({ registry, changeAuth: (fn) => accounts.change(fn) });
  const codes = devices.codes;
  const localLimiter = createProvisioningLimiter(
    {
      maxFailures: config.accounts.maxFailuresPerAddress,
      windowMs: config.accounts.failureWindowMinutes * 60_000,
    },
    clock,
  );
  const limiter = deps.sharedLimits ? deps.sharedLimits.provisioning(localLimiter) : localLimiter;
  return [
    sensorAdminRoutes({
      registry,
      admin,
      codes,
      hasSecret: (id) => accounts.device?.(id) !== undefined,
      audit,
      metrics,
    }),
    sensorImportRoutes({ registry, admin, audit }),
    provisionRoutes({
      codes,
      admin,
      exists: (id) => registry.entry(id) !== undefined,
      limiter,
      registry: metrics,
      audit,
      clock: deps.clock,
      auditPerMinute: deps.config.audit.authFailuresPerMinute,
      mqttUrl: deps.mqttUrl,
    }),
  ];
}
