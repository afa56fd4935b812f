import { join } from 'node:path';
import type { Logger } from 'pino';
import type { City } from '../config/city-config.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type {
  CameraEvent,
  DeviceRefusalEvent,
  DeviceStatusEvent,
  IngestEvents,
  ReadingEvent,
} from '../ingest/ingest-events.ts';
import type { TimeSeriesStore } from '../store/time-series-store.ts';
import { AlertEventLog } from './alert-event-log.ts';
import { AlertLifecycle } from './alert-lifecycle.ts';
import { createPartitionControl, type PartitionControl } from './alert-partition-control.ts';
import { AlertQueries, type ClusterAlertView } from './alert-queries.ts';
import { restoreAlertState } from './alert-restore.ts';
import { AlertRuleAdmin } from './alert-rule-admin.ts';
import { AlertScheduler } from './alert-scheduler.ts';
import type { AlertService, RaiseHook } from './alert-service-api.ts';
import { type AqiSample, createAqiTracker, VN_AQI_METRIC } from './aqi-tracker.ts';
import { formatIssue } from './load-rules.ts';
import { type Change, entryKey, RuleEngine } from './rule-engine.ts';
import { builtinRuleTypes, type RuleTypes } from './rule-types.ts';
import { createFixedRuleStore, createRuleStore } from './rule-registry.ts';
import type { Rule } from './rule-schema.ts';

export type { AlertFilter, AlertService } from './alert-service-api.ts';

export interface AlertServiceDeps {
  readonly store: TimeSeriesStore;
  readonly city: City;
  readonly events: IngestEvents;
  readonly clock: Clock;
  readonly logger: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
  /** the city's shipped rule files */
  readonly rulesDir: string;
  /** rules changed through the API are kept in `<dataDir>/rules/` */
  readonly dataDir?: string;
  /** a fixed rule set instead of rulesDir and dataDir (the backtest) */
  readonly rules?: readonly Rule[];
  /** the rule types this service knows (default: the built-ins, rule-types.ts) */
  readonly ruleTypes?: RuleTypes;
  /** how far back start() looks for open alerts (default 30 days, as far back as ingest accepts readings) */
  readonly restoreWindowMs?: number;
  /** derive hourly VN_AQI from air readings (default true) */
  readonly vnAqi?: boolean;
  /** flapping bound per rule and sensor (config limits.alertFlap*); default 6 changes in 10 minutes */
  readonly flap?: { readonly transitions: number; readonly windowMs: number };
  /** routing and silences for each new alert (alerts/workflow/); set once the workflow is built */
  readonly raise?: RaiseHook;
  /**
   * Cluster mode (cluster/alert-cluster.ts): whether this node owns the rule partition of a sensor. Changes of
   * pairs it does not own are dropped (their owner raises them); absent, every pair is this node's.
   */
  readonly owns?: (sensorId: string) => boolean;
  /**
   * Cluster mode: the cluster's alerts as its shared alert stream shows them (cluster/alert-stream-feed.ts),
   * laid over this node's own in reads (GET /api/alerts, one alert), so every node answers alike.
   */
  readonly clusterView?: ClusterAlertView;
}

const DAY = 86_400_000;

/**
 * The alerts engine: rules over ingest events -> alert lifecycle -> `bus`. An event is announced on the bus
 * the moment it is raised, and persisted to the store in the background: operators hear of an alert within
 * milliseconds, not after a disk flush. `idle()`, the operator actions (acknowledge, resolve, rule changes)
 * and `stop()` wait until their events are durable, so a restart restores what was announced and announces
 * nothing twice. Only a crash in the few milliseconds between an announcement and its write can make an
 * alert whose condition still holds be announced again after restart (at least once, never lost).
 */
export interface AlertEngine extends AlertService {
  /** Resolves once every alert event raised so far is stored and emitted (tests, backtest, shutdown). */
  idle(): Promise<void>;
  /** the seq of the newest event raised (a stream snapshot reflects it) */
  readonly lastSeq: number;
  /** Installs the workflow's hook for new alerts (platform.ts wires it after both exist). */
  setRaiseHook(hook: RaiseHook): void;
  /** The device registry changed (platform-registry.ts): re-target the rules; new sensors are evaluated at once. */
  sensorsChanged(by: string): void;
  /** Cluster mode: a rule partition's pairs taken over from, or handed to, another node. */
  readonly partitions: PartitionControl;
  /** Cluster mode: the rule changes made through the API, shared with the other nodes (cluster/shared-state.ts). */
  readonly ruleChanges: Pick<AlertRuleAdmin, 'entries' | 'applyShared' | 'onChange'>;
}

/**
 * Composes the parts, one responsibility each: the rule engine (rule-engine.ts) turns ingest events into
 * changes; the lifecycle (alert-lifecycle.ts) turns changes and operator actions into events; the event log
 * (alert-event-log.ts) numbers, announces and stores them; the scheduler (alert-scheduler.ts) runs the
 * rules' timers; queries (alert-queries.ts), rule administration (alert-rule-admin.ts) and the restore at
 * start (alert-restore.ts). This file only wires them to ingest events and the clock.
 */
export function createAlertService(deps: AlertServiceDeps): AlertEngine {
  const { store, city, events, clock, logger } = deps;
  const windowMs = deps.restoreWindowMs ?? 30 * DAY;
  const ruleTypes = deps.ruleTypes ?? builtinRuleTypes;
  const engine = new RuleEngine(city, ruleTypes);
  const ruleStore = deps.rules
    ? createFixedRuleStore(city, deps.rules, ruleTypes)
    : createRuleStore(city, deps.rulesDir, deps.dataDir ? join(deps.dataDir, 'rules') : undefined, ruleTypes);
  const aqi = deps.vnAqi === false ? undefined : createAqiTracker(city.sensors.filter((s) => s.kind === 'air'));
  const log = new AlertEventLog(store, clock, logger, deps.flap ?? { transitions: 6, windowMs: 600_000 });
  const lifecycle = new AlertLifecycle(log, clock, ruleTypes, logger);
  lifecycle.raiseHook = deps.raise;
  const owns = deps.owns;
  const handleChanges = (changes: readonly Change[]): void => {
    for (const change of changes) {
      if (owns && !owns(change.sensor.id)) continue;
      lifecycle.apply(change);
      scheduler.schedule(change.key);
    }
  };
  const scheduler = new AlertScheduler(engine, clock, handleChanges);
  const queries = new AlertQueries(store, lifecycle, clock, windowMs, deps.clusterView);
  const admin = new AlertRuleAdmin(engine, lifecycle, scheduler, ruleStore, log, clock, logger);
  let aqiTimer: TimerHandle | undefined;
  let started = false;

  /** Hourly VN_AQI values: stored as readings of the derived metric, and evaluated by the rules. */
  const derive = (samples: readonly AqiSample[]): void => {
    if (samples.length === 0) return;
    const points = samples.map((s) => ({
      measurement: 'air',
      tags: { sensorId: s.sensorId, kind: s.kind, district: s.district },
      fields: { [VN_AQI_METRIC]: s.aqi },
      ts: s.ts,
    }));
    store.write(points).catch((err: unknown) => logger.error({ err }, 'VN_AQI values could not be stored'));
    const readings: ReadingEvent[] = samples.map((s) => ({
      sensorId: s.sensorId,
      kind: s.kind,
      district: s.district,
      ts: s.ts,
      values: { [VN_AQI_METRIC]: s.aqi },
    }));
    handleChanges(engine.onReadings(readings, clock.now(), true));
  };
  const armAqiTimer = (): void => {
    if (!aqi) return;
    aqiTimer = clock.setTimeout(
      () => {
        derive(aqi.closeDue(clock.now()));
        armAqiTimer();
      },
      Math.max(0, aqi.nextCloseAt(clock.now()) - clock.now()),
    );
  };

  // a rule that throws must not take ingest down with it
  const guarded =
    <T>(run: (input: T) => void) =>
    (input: T): void => {
      try {
        run(input);
      } catch (err) {
        logger.error({ err }, 'rule evaluation failed');
      }
    };
  const onReadings = guarded((readings: readonly ReadingEvent[]) => {
    handleChanges(engine.onReadings(readings, clock.now()));
    if (!aqi) return;
    // hours that closed with these readings; most close none, so no array is made for them
    let closed: AqiSample[] | undefined;
    for (const r of readings) {
      if (r.kind !== 'air') continue;
      const hours = aqi.ingest(r);
      if (hours.length === 0) continue;
      closed ??= [];
      closed.push(...hours);
    }
    if (closed) derive(closed);
  });
  const onStatus = guarded((event: DeviceStatusEvent) => handleChanges(engine.onStatus(event, clock.now())));
  const onCamera = guarded((event: CameraEvent) => handleChanges(engine.onCameraEvent(event, clock.now())));
  const onRefused = guarded((event: DeviceRefusalEvent) => handleChanges(engine.onRefusal(event, clock.now())));
  const find = (id: string) => queries.find(id);

  const service: AlertEngine = {
    bus: log.bus,
    idle: () => log.persisted(log.lastSeq),
    get lastSeq() {
      return log.lastSeq;
    },
    sensorsChanged(by) {
      if (started) admin.apply(ruleStore.list(), by);
    },
    async start() {
      if (started) return;
      const loaded = ruleStore.load();
      for (const issue of loaded.issues) {
        logger.error({ rule: issue.ruleId, file: issue.file }, `invalid rule, skipped: ${formatIssue(issue)}`);
      }
      for (const warning of loaded.warnings) logger.warn({ file: warning.file }, formatIssue(warning));
      const restoreDeps = {
        store,
        city,
        engine,
        log,
        lifecycle,
        admin,
        aqi,
        logger,
        windowMs,
        onChanges: handleChanges,
      };
      await restoreAlertState(restoreDeps, loaded.rules, clock.now());
      events.on('readings', onReadings);
      events.on('status', onStatus);
      events.on('cameraEvent', onCamera);
      events.on('refused', onRefused);
      armAqiTimer();
      started = true;
      const open = lifecycle.open().length;
      logger.info({ rules: loaded.rules.length, open, seq: log.lastSeq }, 'alerts engine started');
    },
    async stop() {
      events.off('readings', onReadings);
      events.off('status', onStatus);
      events.off('cameraEvent', onCamera);
      events.off('refused', onRefused);
      scheduler.stop();
      aqiTimer?.cancel();
      started = false;
      await log.drain();
    },
    list: (filter) => queries.list(filter),
    get: find,
    open: () => lifecycle.open(),
    async acknowledge(id, by, note) {
      const { alert, seq } = lifecycle.acknowledge(await lifecycle.openAlert(id, find), by, note);
      await log.persisted(seq);
      return alert;
    },
    async resolve(id, by, note, change) {
      const alert = await lifecycle.openAlert(id, find);
      const phase = engine.condition(entryKey(alert.ruleId, alert.sensorId))?.phase;
      const stillHolds = phase !== undefined && phase !== 'inactive';
      const { alert: resolved, seq } = lifecycle.resolveBy(alert, by, note, stillHolds, change);
      await log.persisted(seq);
      return resolved;
    },
    async amend(id, type, change) {
      const alert = await lifecycle.openAlert(id, find);
      const changed = change(alert);
      // the await above may have let another change in: apply only to the alert as it is now
      if (lifecycle.current(id) !== alert) return service.amend(id, type, change);
      const seq = lifecycle.amend(alert, type, changed);
      await log.persisted(seq);
      return changed;
    },
    setRaiseHook(hook) {
      lifecycle.raiseHook = hook;
    },
    rules: admin.registry(),
    ruleChanges: {
      entries: () => admin.entries(),
      applyShared: (changes, by) => admin.applyShared(changes, by),
      onChange: (listener) => admin.onChange(listener),
    },
    partitions: createPartitionControl({ engine, lifecycle, scheduler, clock }),
  };
  return service;
}
