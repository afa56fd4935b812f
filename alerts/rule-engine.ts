import type { City, Sensor } from '../config/city-config.ts';
import type { CameraEvent, DeviceStatusEvent, ReadingEvent } from '../ingest/ingest-events.ts';
import { describeAlert, type AlertFacts } from './alert-text.ts';
import { cameraCheckAt, evaluateCameraEvent, initialCameraEventState, type CameraEventState } from './camera-event-rule.ts';
import { conditionValue, evaluateCompound, initialCompoundState, type CompoundState } from './compound-rule.ts';
import { pendingDueAt, promoteIfDue, type Condition, type Step, type Transition } from './condition.ts';
import { evaluateNoData, initialNoDataState, noDataCheckAt, type NoDataState } from './no-data-rule.ts';
import { evaluateRateOfChange, initialRateOfChangeState, type RateOfChangeState } from './rate-of-change-rule.ts';
import { durationMs, type CameraEventRule, type CompoundRule, type NoDataRule, type RateOfChangeRule, type Rule, type ThresholdRule } from './rule-schema.ts';
import { conditionSensorSets, ruleTargets } from './rule-targets.ts';
import { evaluateThreshold, initialThresholdState, type ThresholdState } from './threshold-rule.ts';

/**
 * Holds the state of every (rule, sensor) pair and routes events to the pure evaluators. Synchronous and
 * single-threaded on purpose: each event is evaluated to completion before the next, which is what makes
 * "one open alert per rule and sensor" hold however many readings arrive at once.
 */
type Entry = { readonly key: string; readonly sensor: Sensor } & (
  | { kind: 'threshold'; rule: ThresholdRule; s: ThresholdState }
  | { kind: 'rateOfChange'; rule: RateOfChangeRule; s: RateOfChangeState }
  | { kind: 'noData'; rule: NoDataRule; s: NoDataState }
  | { kind: 'cameraEvent'; rule: CameraEventRule; s: CameraEventState }
  | { kind: 'compound'; rule: CompoundRule; s: CompoundState; sets: ReadonlyArray<ReadonlySet<string>> }
);

export interface Change {
  readonly key: string;
  readonly rule: Rule;
  readonly sensor: Sensor;
  readonly transition: Exclude<Transition, 'none'>;
  readonly cond: Condition;
  readonly facts: AlertFacts;
}

export function entryKey(ruleId: string, sensorId: string): string {
  return `${ruleId}\u0001${sensorId}`;
}

export class RuleEngine {
  private entries = new Map<string, Entry>();
  /** sensor id -> keys of the entries its readings, status and events feed */
  private bySensor = new Map<string, string[]>();
  private rules = new Map<string, Rule>();
  private lastSeen = new Map<string, number>();

  constructor(private readonly city: City) {}

  /** Replaces the rule set. Pairs whose rule is unchanged keep their state; others start afresh. */
  setRules(rules: readonly Rule[], now: number): void {
    const previous = this.entries;
    this.entries = new Map();
    this.bySensor = new Map();
    const oldRules = this.rules;
    this.rules = new Map(rules.map((r) => [r.id, r]));
    const index = (sensorId: string, key: string) => {
      const list = this.bySensor.get(sensorId) ?? [];
      list.push(key);
      this.bySensor.set(sensorId, list);
    };
    for (const rule of rules) {
      if (!rule.enabled) continue;
      const unchanged = JSON.stringify(oldRules.get(rule.id)) === JSON.stringify(rule);
      for (const sensor of ruleTargets(rule, this.city)) {
        const key = entryKey(rule.id, sensor.id);
        const kept = unchanged ? previous.get(key) : undefined;
        const entry = kept ?? this.createEntry(key, rule, sensor, now);
        this.entries.set(key, entry);
        if (entry.kind === 'compound') for (const id of new Set(entry.sets.flatMap((s) => [...s]))) index(id, key);
        else index(sensor.id, key);
      }
    }
  }

  private createEntry(key: string, rule: Rule, sensor: Sensor, now: number): Entry {
    switch (rule.kind) {
      case 'threshold': return { key, sensor, kind: rule.kind, rule, s: initialThresholdState };
      case 'rateOfChange': return { key, sensor, kind: rule.kind, rule, s: initialRateOfChangeState };
      case 'noData': return { key, sensor, kind: rule.kind, rule, s: initialNoDataState(Math.min(now, this.lastSeen.get(sensor.id) ?? now)) };
      case 'cameraEvent': return { key, sensor, kind: rule.kind, rule, s: initialCameraEventState };
      case 'compound': return { key, sensor, kind: rule.kind, rule, s: initialCompoundState(rule), sets: conditionSensorSets(rule, this.city) };
    }
  }

  rule(id: string): Rule | undefined {
    return this.rules.get(id);
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  condition(key: string): Condition | undefined {
    return this.entries.get(key)?.s.cond;
  }

  /** When a device was last heard of before a restart (from the store), so silence counts from there. */
  seedLastSeen(sensorId: string, ts: number): void {
    this.lastSeen.set(sensorId, ts);
    for (const key of this.bySensor.get(sensorId) ?? []) {
      const e = this.entries.get(key);
      if (e?.kind === 'noData' && e.sensor.id === sensorId) e.s = { ...e.s, lastSeen: Math.min(e.s.lastSeen, ts) };
    }
  }

  /** Puts a pair back into the phase of its alert restored from the store (Prometheus-style `for` restore). */
  restore(key: string, cond: Condition, now: number): void {
    const e = this.entries.get(key);
    if (!e) return;
    switch (e.kind) {
      case 'threshold': e.s = { ...e.s, cond }; break;
      case 'rateOfChange': e.s = { ...e.s, cond }; break;
      case 'compound': e.s = { ...e.s, cond }; break;
      // a restored offline alert holds until the device is heard from again
      case 'noData': e.s = { ...e.s, cond, offline: e.rule.offline }; break;
      // we do not know the events before the restart: hold the alert for one more window
      case 'cameraEvent': e.s = { ...e.s, cond, times: Array.from({ length: e.rule.count }, () => now) }; break;
    }
  }

  onReadings(readings: readonly ReadingEvent[], now: number, derived = false): Change[] {
    const changes: Change[] = [];
    for (const reading of readings) {
      if (!derived) this.lastSeen.set(reading.sensorId, now);
      for (const key of this.bySensor.get(reading.sensorId) ?? []) {
        const e = this.entries.get(key)!;
        switch (e.kind) {
          case 'threshold': if (e.sensor.id === reading.sensorId) this.apply(e, evaluateThreshold(e.rule, e.sensor, e.s, reading, now), changes); break;
          case 'rateOfChange': if (e.sensor.id === reading.sensorId) this.apply(e, evaluateRateOfChange(e.rule, e.s, reading, now), changes); break;
          case 'noData': if (!derived) this.apply(e, evaluateNoData(e.rule, e.s, { type: 'reading' }, now), changes); break;
          case 'compound': this.apply(e, evaluateCompound(e.rule, e.sets, e.s, reading, now), changes); break;
          case 'cameraEvent': break;
        }
      }
    }
    return changes;
  }

  onStatus(event: DeviceStatusEvent, now: number): Change[] {
    const changes: Change[] = [];
    if (event.status === 'online') this.lastSeen.set(event.sensorId, now);
    for (const key of this.bySensor.get(event.sensorId) ?? []) {
      const e = this.entries.get(key)!;
      if (e.kind === 'noData') this.apply(e, evaluateNoData(e.rule, e.s, { type: 'status', status: event.status }, now), changes);
    }
    return changes;
  }

  onCameraEvent(event: CameraEvent, now: number): Change[] {
    const changes: Change[] = [];
    this.lastSeen.set(event.sensorId, now);
    for (const key of this.bySensor.get(event.sensorId) ?? []) {
      const e = this.entries.get(key)!;
      if (e.kind === 'cameraEvent') this.apply(e, evaluateCameraEvent(e.rule, e.s, { type: 'event', event }, now), changes);
    }
    return changes;
  }

  /** Time-driven changes: `for` elapsed, silence reached, camera window emptied. */
  onTimer(key: string, now: number): Change[] {
    const e = this.entries.get(key);
    const changes: Change[] = [];
    if (!e) return changes;
    switch (e.kind) {
      case 'noData': this.apply(e, evaluateNoData(e.rule, e.s, { type: 'tick' }, now), changes); break;
      case 'cameraEvent': this.apply(e, evaluateCameraEvent(e.rule, e.s, { type: 'tick' }, now), changes); break;
      default: {
        const { cond, transition } = promoteIfDue(e.s.cond, now, durationMs(e.rule.for));
        this.apply(e, { state: { ...e.s, cond }, transition } as Step<typeof e.s>, changes);
      }
    }
    return changes;
  }

  /** The next clock time this pair may change without an event, for the service's timer. */
  nextCheckAt(key: string): number | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.kind === 'noData') return noDataCheckAt(e.rule, e.s);
    if (e.kind === 'cameraEvent') return cameraCheckAt(e.rule, e.s);
    return pendingDueAt(e.s.cond, durationMs(e.rule.for));
  }

  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  private apply(e: Entry, step: Step<Entry['s']>, changes: Change[]): void {
    (e as { s: Entry['s'] }).s = step.state;
    if (step.transition === 'none') return;
    changes.push({ key: e.key, rule: e.rule, sensor: e.sensor, transition: step.transition, cond: step.state.cond, facts: this.describe(e) });
  }

  describe(e: Entry): AlertFacts {
    const cond = e.s.cond;
    const base = { rule: e.rule, sensor: e.sensor, city: this.city, value: cond.value, threshold: cond.threshold };
    if (e.kind === 'compound') return describeAlert({ ...base, conditions: e.rule.conditions.map((c, i) => conditionValue(c, e.s.windows[i] ?? new Map())) });
    if (e.kind === 'noData') return describeAlert({ ...base, offline: e.s.offline && e.rule.offline });
    return describeAlert(base);
  }

  describeKey(key: string): AlertFacts | undefined {
    const e = this.entries.get(key);
    return e ? this.describe(e) : undefined;
  }
}

