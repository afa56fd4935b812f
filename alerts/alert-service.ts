import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { City, Sensor } from '../config/city-config.ts';
import type { Clock, TimerHandle } from '../config/clock.ts';
import { DomainError } from '../config/domain-error.ts';
import { DEVICE_STATUS_MEASUREMENT, type CameraEvent, type DeviceStatusEvent, type IngestEvents, type ReadingEvent } from '../ingest/ingest-events.ts';
import type { TimeSeriesStore } from '../store/time-series-store.ts';
import type { Alert, AlertEvent, AlertEventType } from './alert-model.ts';
import type { AlertFilter, AlertService, RaiseHook } from './alert-service-api.ts';
import { eventToPoint, latestSnapshots, readAlertHistory } from './alert-journal.ts';
import { LOCALES } from './alert-text.ts';
import { createAqiTracker, VN_AQI_METRIC, type AqiSample } from './aqi-tracker.ts';
import { formatIssue } from './load-rules.ts';
import { entryKey, RuleEngine, type Change } from './rule-engine.ts';
import { createFixedRuleStore, createRuleStore } from './rule-registry.ts';
import type { Rule } from './rule-schema.ts';
import { ProgressWaiters } from '../store/progress-waiters.ts';
import { FlapLimiter } from './flap-limiter.ts';
import { builtinRuleKinds, type RuleKinds } from './rule-kinds.ts';

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
  /** the rule kinds this service knows (default: the built-ins, rule-kinds.ts) */
  readonly ruleKinds?: RuleKinds;
  /** how far back start() looks for open alerts (default 30 days, as far back as ingest accepts readings) */
  readonly restoreWindowMs?: number;
  /** derive hourly VN_AQI from air readings (default true) */
  readonly vnAqi?: boolean;
  /** flapping bound per rule and sensor (config limits.alertFlap*); default 6 changes in 10 minutes */
  readonly flap?: { readonly transitions: number; readonly windowMs: number };
  /** routing and silences for each new alert (alerts/workflow/); set once the workflow is built */
  raise?: RaiseHook;
}

const DAY = 86_400_000;
/**
 * Events of one (rule, sensor) in the same millisecond are stored a millisecond apart (emit), so the last
 * of a burst (an operator's acknowledge, start and steps in quick succession) can lie a little ahead of
 * the clock: reads of the history look this far ahead.
 */
const AHEAD_MS = 60_000;
const RECENT_LIMIT = 2000;

/**
 * The alerts engine: rules over ingest events -> alert lifecycle -> `bus`. An event is announced on the bus
 * the moment it is raised, and persisted to the store in the background: operators hear of an alert within
 * milliseconds, not after a disk flush. Events are written in groups (whatever queued while the previous
 * write was in flight goes in the next one); `idle()`, the operator actions (acknowledge, resolve, rule
 * changes) and `stop()` wait until their events are durable, so a restart restores what was announced and
 * announces nothing twice. Only a crash in the few milliseconds between an announcement and its write can
 * make an alert whose condition still holds be announced again after restart (at least once, never lost).
 */
export interface AlertEngine extends AlertService {
  /** Resolves once every alert event raised so far is stored and emitted (tests, backtest, shutdown). */
  idle(): Promise<void>;
  /** Installs the workflow's hook for new alerts (platform.ts wires it after both exist). */
  setRaiseHook(hook: RaiseHook): void;
}

export function createAlertService(deps: AlertServiceDeps): AlertEngine {
  const { store, city, events, clock, logger } = deps;
  const bus = new EventEmitter<{ alert: [AlertEvent] }>();
  bus.setMaxListeners(100);
  const ruleKinds = deps.ruleKinds ?? builtinRuleKinds;
  const engine = new RuleEngine(city, ruleKinds);
  const ruleStore = deps.rules
    ? createFixedRuleStore(city, deps.rules, ruleKinds)
    : createRuleStore(city, deps.rulesDir, deps.dataDir ? join(deps.dataDir, 'rules') : undefined, ruleKinds);
  const aqi = deps.vnAqi === false ? undefined : createAqiTracker(city.sensors.filter((s) => s.kind === 'air'));

  const open = new Map<string, Alert>();
  const byKey = new Map<string, string>();
  const recent = new Map<string, Alert>();
  /** pairs resolved by an operator while their condition still held: quiet until it clears */
  const suppressed = new Set<string>();
  const lastPointTs = new Map<string, number>();
  const timers = new Map<string, { at: number; handle: TimerHandle }>();
  let aqiTimer: TimerHandle | undefined;
  let seq = 0;
  let started = false;

  const points: ReturnType<typeof eventToPoint>[] = [];
  let writing: Promise<void> | undefined;
  let durableSeq = 0;
  const waiters = new ProgressWaiters(clock);
  const flaps = new FlapLimiter(deps.flap ?? { transitions: 6, windowMs: 600_000 });

  const flush = async (): Promise<void> => {
    while (points.length) {
      const batch = points.splice(0);
      const last = seq; // every event up to the newest is in this batch or an earlier one
      try {
        await store.write(batch);
      } catch (err) {
        // the operators heard of it already; the history misses it, which we say loudly
        logger.error({ err, count: batch.length }, 'alert events could not be stored');
      }
      durableSeq = last;
      waiters.reached(durableSeq);
    }
    writing = undefined;
  };

  /** false: a flapping pair's change, recorded in the history but not announced (alerts/flap-limiter.ts) */
  const announceable = (type: AlertEventType, key: string, now: number): boolean | 'flapping' => {
    if (type === 'pending' || type === 'firing' || type === 'resolved') {
      const verdict = flaps.observe(key, now);
      if (verdict === 'announce-flapping') logger.warn({ key }, 'alert flapping: further state changes are recorded but not announced until it settles');
      return verdict === 'hold' ? false : verdict === 'announce-flapping' ? 'flapping' : true;
    }
    return !(type === 'updated' && flaps.isFlapping(key));
  };

  const emit = (type: AlertEventType, given: Alert): number => {
    const now = clock.now();
    const key = entryKey(given.ruleId, given.sensorId);
    const announce = announceable(type, key, now);
    const alert: Alert = announce === 'flapping' ? { ...given, flapping: true } : given;
    // one point per event even when two happen in the same millisecond (same series and time would merge)
    const ts = Math.max(now, (lastPointTs.get(key) ?? -Infinity) + 1);
    lastPointTs.set(key, ts);
    const event: AlertEvent = { seq: ++seq, type, ts: now, alert };
    points.push(eventToPoint(event, ts));
    try {
      if (announce) bus.emit('alert', event);
    } catch (err) {
      logger.error({ err, seq: event.seq }, 'an alert listener threw');
    }
    if (!writing) writing = flush();
    return event.seq;
  };

  const persisted = async (s: number): Promise<void> => {
    await waiters.wait(durableSeq, s);
  };

  const remember = (alert: Alert) => {
    recent.set(alert.id, alert);
    if (recent.size > RECENT_LIMIT) recent.delete(recent.keys().next().value!);
  };

  const close = (alert: Alert, by: string, note: string | undefined, change?: (a: Alert) => Alert): { alert: Alert; seq: number } => {
    const now = clock.now();
    const base: Alert = { ...alert, state: 'resolved', resolvedAt: now, resolvedBy: by, updatedAt: now, ...(note ? { resolveNote: note } : {}) };
    const resolved = change ? change(base) : base;
    open.delete(alert.id);
    const key = entryKey(alert.ruleId, alert.sensorId);
    if (byKey.get(key) === alert.id) byKey.delete(key);
    remember(resolved);
    return { alert: resolved, seq: emit('resolved', resolved) };
  };

  let raiseHook = deps.raise;
  /** a new alert through the workflow's hook; undefined: held back (a device under maintenance) */
  const raise = (change: Change, state: 'pending' | 'firing'): Alert | undefined => {
    const alert = newAlert(change, change.sensor, state);
    if (!raiseHook) return alert;
    try {
      return raiseHook(alert, { rule: change.rule, aboutDevice: ruleKinds.get(change.rule.kind)?.aboutDevice === true });
    } catch (err) {
      // routing must never lose an alert: raise it unrouted and say so
      logger.error({ err, ruleId: alert.ruleId, sensorId: alert.sensorId }, 'alert routing failed; raised without an agency');
      return alert;
    }
  };

  const newAlert = (change: Change, sensor: Sensor, state: 'pending' | 'firing'): Alert => {
    const now = clock.now();
    const { rule, facts } = change;
    return {
      id: randomUUID(),
      ruleId: rule.id,
      sensorId: sensor.id,
      kind: sensor.kind,
      district: sensor.district,
      severity: rule.severity,
      category: rule.category,
      subCategory: rule.subCategory,
      state,
      title: facts.title,
      message: facts.message,
      ...(facts.metric !== undefined ? { metric: facts.metric } : {}),
      ...(facts.value !== undefined ? { value: facts.value } : {}),
      ...(facts.threshold !== undefined ? { threshold: facts.threshold } : {}),
      ...(facts.unit !== undefined ? { unit: facts.unit } : {}),
      location: { lat: sensor.lat, lon: sensor.lon },
      startsAt: change.cond.since ?? now,
      ...(state === 'firing' ? { firingAt: now } : {}),
      updatedAt: now,
    };
  };

  const applyChange = (change: Change): void => {
    const { key } = change;
    const current = byKey.get(key);
    const alert = current ? open.get(current) : undefined;
    if (change.transition === 'resolved') {
      suppressed.delete(key);
      if (alert) close(alert, 'system', LOCALES.vi.resolvedByRule + ' / ' + LOCALES.en.resolvedByRule);
      return;
    }
    if (suppressed.has(key)) return;
    const now = clock.now();
    if (change.transition === 'pending') {
      if (alert) return;
      const created = raise(change, 'pending');
      if (!created) { suppressed.add(key); return; }
      open.set(created.id, created);
      byKey.set(key, created.id);
      emit('pending', created);
      return;
    }
    // firing
    if (alert && alert.state !== 'pending') return;
    const fired: Alert | undefined = alert
      ? { ...alert, state: 'firing', firingAt: now, updatedAt: now, title: change.facts.title, message: change.facts.message, ...(change.facts.value !== undefined ? { value: change.facts.value } : {}) }
      : raise(change, 'firing');
    // held back: quiet until the condition clears, as after an operator's resolve
    if (!fired) { suppressed.add(key); return; }
    open.set(fired.id, fired);
    byKey.set(key, fired.id);
    emit('firing', fired);
  };

  const schedule = (key: string): void => {
    const at = engine.nextCheckAt(key);
    const existing = timers.get(key);
    if (at === undefined) {
      existing?.handle.cancel();
      timers.delete(key);
      return;
    }
    // an earlier timer that finds nothing due re-arms itself, so moving a timer later is never needed
    if (existing && existing.at <= at) return;
    existing?.handle.cancel();
    const handle = clock.setTimeout(() => {
      timers.delete(key);
      handleChanges(engine.onTimer(key, clock.now()));
      schedule(key);
    }, Math.max(0, at - clock.now()));
    timers.set(key, { at, handle });
  };

  function handleChanges(changes: readonly Change[]): void {
    for (const change of changes) {
      applyChange(change);
      schedule(change.key);
    }
  }

  const derive = (samples: readonly AqiSample[]): void => {
    if (samples.length === 0) return;
    store.write(samples.map((s) => ({
      measurement: 'air',
      tags: { sensorId: s.sensorId, kind: s.kind, district: s.district },
      fields: { [VN_AQI_METRIC]: s.aqi },
      ts: s.ts,
    }))).catch((err: unknown) => logger.error({ err }, 'VN_AQI values could not be stored'));
    const readings: ReadingEvent[] = samples.map((s) => ({ sensorId: s.sensorId, kind: s.kind, district: s.district, ts: s.ts, values: { [VN_AQI_METRIC]: s.aqi } }));
    handleChanges(engine.onReadings(readings, clock.now(), true));
  };

  const armAqiTimer = (): void => {
    if (!aqi) return;
    aqiTimer = clock.setTimeout(() => {
      derive(aqi.closeDue(clock.now()));
      armAqiTimer();
    }, Math.max(0, aqi.nextCloseAt(clock.now()) - clock.now()));
  };

  const onReadings = (readings: readonly ReadingEvent[]): void => {
    try {
      const now = clock.now();
      handleChanges(engine.onReadings(readings, now));
      if (aqi) {
        let closed: AqiSample[] | undefined;
        for (const r of readings) {
          if (r.kind !== 'air') continue;
          const hours = aqi.ingest(r);
          if (hours.length) (closed ??= []).push(...hours);
        }
        if (closed) derive(closed);
      }
    } catch (err) {
      logger.error({ err }, 'rule evaluation failed');
    }
  };
  const onStatus = (event: DeviceStatusEvent): void => {
    try {
      handleChanges(engine.onStatus(event, clock.now()));
    } catch (err) {
      logger.error({ err }, 'rule evaluation failed');
    }
  };
  const onCamera = (event: CameraEvent): void => {
    try {
      handleChanges(engine.onCameraEvent(event, clock.now()));
    } catch (err) {
      logger.error({ err }, 'rule evaluation failed');
    }
  };

  /** Applies a new rule set: open alerts of rules that are gone resolve; changed rules keep their alerts. */
  const applyRules = (rules: readonly Rule[], by: string): void => {
    const now = clock.now();
    engine.setRules(rules, now);
    for (const alert of [...open.values()]) {
      const key = entryKey(alert.ruleId, alert.sensorId);
      const rule = engine.rule(alert.ruleId);
      if (!rule || !engine.has(key)) {
        close(alert, by, `${LOCALES.vi.ruleRemoved} / ${LOCALES.en.ruleRemoved}`);
        continue;
      }
      if (engine.condition(key)?.phase === 'inactive') {
        engine.restore(key, { phase: alert.state === 'pending' ? 'pending' : 'firing', since: alert.startsAt, value: alert.value, threshold: alert.threshold }, now);
      }
      if (rule.severity !== alert.severity || rule.category !== alert.category || rule.subCategory !== alert.subCategory) {
        const updated: Alert = { ...alert, severity: rule.severity, category: rule.category, subCategory: rule.subCategory, updatedAt: now };
        open.set(updated.id, updated);
        emit('updated', updated);
      }
    }
    for (const key of [...timers.keys()]) if (!engine.has(key)) { timers.get(key)!.handle.cancel(); timers.delete(key); }
    for (const key of engine.keys()) schedule(key);
  };

  const find = async (id: string): Promise<Alert | undefined> => {
    const known = open.get(id) ?? recent.get(id);
    if (known) return known;
    const now = clock.now();
    const history = await readAlertHistory(store, now - (deps.restoreWindowMs ?? 30 * DAY), now + AHEAD_MS);
    return latestSnapshots(history.events).get(id);
  };

  /** The open alert with this id, or why there is none: resolved already (409) or unknown (404). */
  const openAlert = async (id: string): Promise<Alert> => {
    const alert = open.get(id);
    if (alert) return alert;
    const closed = await find(id);
    throw closed
      ? new DomainError('conflict', 'alert_resolved', `alert ${id} is already resolved`)
      : new DomainError('not_found', 'alert_not_found', `no alert ${id}`);
  };

  const service: AlertEngine = {
    bus,
    idle: () => persisted(seq),
    async start() {
      if (started) return;
      const now = clock.now();
      const loaded = ruleStore.load();
      for (const issue of loaded.issues) logger.error({ rule: issue.ruleId, file: issue.file }, `invalid rule, skipped: ${formatIssue(issue)}`);
      engine.setRules(loaded.rules, now);
      // silence counts from when each device was last heard of, not from this start
      const latest = await store.latest({}).catch((err: unknown) => {
        logger.warn({ err }, 'latest readings could not be read; silence counts from now');
        return [];
      });
      const seen = new Map<string, number>();
      for (const v of latest) seen.set(v.sensorId, Math.max(seen.get(v.sensorId) ?? -Infinity, v.ts));
      for (const [sensorId, ts] of seen) engine.seedLastSeen(sensorId, ts);
      // A store that cannot be read must not keep the platform down: start without the open alerts
      // (they may be announced again) and number events from the clock, so seq still only grows.
      const history = await readAlertHistory(store, now - (deps.restoreWindowMs ?? 30 * DAY), now + AHEAD_MS).catch((err: unknown) => {
        logger.error({ err }, 'open alerts could not be restored from the store; starting without them');
        return { events: [], lastTs: new Map<string, number>(), skipped: 0, failed: true };
      });
      if (history.skipped) logger.warn({ skipped: history.skipped }, 'unreadable alert events in the store were skipped');
      for (const [k, ts] of history.lastTs) lastPointTs.set(k, ts);
      seq = 'failed' in history ? now : history.events.reduce((m, e) => Math.max(m, e.seq), 0);
      durableSeq = seq;
      for (const alert of latestSnapshots(history.events).values()) {
        if (alert.state === 'resolved') { remember(alert); continue; }
        open.set(alert.id, alert);
        byKey.set(entryKey(alert.ruleId, alert.sensorId), alert.id);
      }
      if (aqi) await aqi.backfill(store, now).catch((err: unknown) => logger.warn({ err }, 'VN_AQI history could not be read; NowCast starts empty'));
      applyRules(loaded.rules, 'system');
      // devices whose last word before the restart was "offline" (and that sent nothing since) are still
      // offline: the retained status is not published again to ingest
      const statuses = await store.queryPoints({ measurement: DEVICE_STATUS_MEASUREMENT, from: now - (deps.restoreWindowMs ?? 30 * DAY), to: now + 1 })
        .catch((err: unknown) => { logger.warn({ err }, 'device statuses could not be read'); return []; });
      const lastStatus = new Map(statuses.map((p) => [p.tags.sensorId ?? '', p]));
      for (const [sensorId, p] of lastStatus) {
        const sensor = city.sensorsById.get(sensorId);
        if (!sensor || p.fields.status !== 'offline' || (seen.get(sensorId) ?? -Infinity) > p.ts) continue;
        handleChanges(engine.onStatus({ sensorId, kind: sensor.kind, district: sensor.district, status: 'offline', ts: p.ts, source: 'will' }, now));
      }
      events.on('readings', onReadings);
      events.on('status', onStatus);
      events.on('cameraEvent', onCamera);
      armAqiTimer();
      started = true;
      logger.info({ rules: loaded.rules.length, open: open.size, seq }, 'alerts engine started');
    },
    async stop() {
      events.off('readings', onReadings);
      events.off('status', onStatus);
      events.off('cameraEvent', onCamera);
      for (const t of timers.values()) t.handle.cancel();
      timers.clear();
      aqiTimer?.cancel();
      started = false;
      while (writing) await writing;
    },
    async list(filter: AlertFilter) {
      const now = clock.now();
      const from = filter.from ?? now - 7 * DAY;
      const to = filter.to ?? now;
      const tags: Record<string, string> = {};
      if (filter.sensorId) tags.sensorId = filter.sensorId;
      if (filter.kind?.length === 1) tags.kind = filter.kind[0]!;
      const history = await readAlertHistory(store, from, Math.max(to, now) + AHEAD_MS, Object.keys(tags).length ? tags : undefined);
      const all = latestSnapshots(history.events);
      for (const a of [...recent.values(), ...open.values()]) all.set(a.id, a);
      const matches = [...all.values()].filter((a) =>
        (!filter.state || filter.state.includes(a.state)) &&
        (!filter.severity || filter.severity.includes(a.severity)) &&
        (!filter.kind || filter.kind.includes(a.kind)) &&
        (!filter.district || filter.district.includes(a.district)) &&
        (!filter.sensorId || filter.sensorId === a.sensorId) &&
        // without an explicit `from`, open alerts count however long ago they last changed
        (a.updatedAt >= from || (filter.from === undefined && a.state !== 'resolved')) && a.startsAt < to + 1);
      matches.sort((a, b) => b.updatedAt - a.updatedAt);
      return matches.slice(0, filter.limit ?? 500);
    },
    get: find,
    open: () => [...open.values()],
    async acknowledge(id, by, note) {
      const alert = await openAlert(id);
      if (alert.state === 'pending') throw new DomainError('conflict', 'alert_pending', `alert ${id} is pending; it can be acknowledged once it fires`);
      if (alert.state === 'acknowledged' || alert.state === 'inProgress') throw new DomainError('conflict', 'alert_acknowledged', `alert ${id} was already acknowledged by ${alert.acknowledgedBy}`);
      const now = clock.now();
      const acked: Alert = { ...alert, state: 'acknowledged', acknowledgedAt: now, acknowledgedBy: by, updatedAt: now, ...(note ? { ackNote: note } : {}) };
      open.set(id, acked);
      await persisted(emit('acknowledged', acked));
      return acked;
    },
    async resolve(id, by, note, change) {
      const alert = await openAlert(id);
      const key = entryKey(alert.ruleId, alert.sensorId);
      // the change may refuse (throws) before anything is touched
      if (change) change({ ...alert, state: 'resolved' });
      const phase = engine.condition(key)?.phase;
      if (phase && phase !== 'inactive') suppressed.add(key);
      const { alert: resolved, seq: s } = close(alert, by, note, change);
      await persisted(s);
      return resolved;
    },
    async amend(id, type, change) {
      const alert = await openAlert(id);
      const changed = change(alert);
      // the await above may have let another change in: apply only to the alert as it is now
      if (open.get(id) !== alert) return service.amend(id, type, change);
      open.set(id, changed);
      await persisted(emit(type, changed));
      return changed;
    },
    setRaiseHook(hook) { raiseHook = hook; },
    rules: {
      list: () => ruleStore.list(),
      get: (id) => ruleStore.get(id),
      async put(raw, by) {
        const rule = ruleStore.put(raw, by, clock.now());
        applyRules(ruleStore.list(), by);
        logger.info({ rule: rule.id, by }, 'rule saved');
        await persisted(seq);
        return rule;
      },
      async remove(id, by) {
        ruleStore.remove(id, by);
        applyRules(ruleStore.list(), by);
        logger.info({ rule: id, by }, 'rule removed');
        await persisted(seq);
      },
    },
  };
  return service;
}
