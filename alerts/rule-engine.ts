import type { City, Sensor } from '../config/city-config.ts';
import type { CameraEvent, DeviceRefusalEvent, DeviceStatusEvent, ReadingEvent } from '../ingest/ingest-events.ts';
import { describeAlert, type AlertFacts } from './alert-text.ts';
import type { Condition, Step, Transition } from './condition.ts';
import { defaultNextCheckAt, type RuleInput, type RuleState } from './rule-type.ts';
import { builtinRuleTypes, type AnyRuleType, type Rule, type RuleTypes } from './rule-types.ts';

/**
 * Holds the state of every (rule, sensor) pair and hands what arrives to the pair's rule type
 * (rule-type.ts). Synchronous and single-threaded on purpose: each event is evaluated to completion before
 * the next, which is what makes "one open alert per rule and sensor" hold however many readings arrive at once.
 */
interface Entry {
  readonly key: string;
  readonly sensor: Sensor;
  readonly rule: Rule;
  readonly def: AnyRuleType;
  s: RuleState;
}

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
  /** sensor id -> the entries its readings, status and events feed (made with the entries, by setRules) */
  private bySensor = new Map<string, Entry[]>();
  private rules = new Map<string, Rule>();
  private lastSeen = new Map<string, number>();

  constructor(
    private readonly city: City,
    private readonly ruleTypes: RuleTypes = builtinRuleTypes,
  ) {}

  /** Replaces the rule set. Pairs whose rule is unchanged keep their state; others start afresh. */
  setRules(rules: readonly Rule[], now: number): void {
    const previous = this.entries;
    this.entries = new Map();
    this.bySensor = new Map();
    const oldRules = this.rules;
    this.rules = new Map(rules.map((r) => [r.id, r]));
    const index = (sensorId: string, entry: Entry) => {
      const list = this.bySensor.get(sensorId) ?? [];
      list.push(entry);
      this.bySensor.set(sensorId, list);
    };
    for (const rule of rules) {
      if (!rule.enabled) continue;
      const unchanged = JSON.stringify(oldRules.get(rule.id)) === JSON.stringify(rule);
      const def = this.ruleTypes.of(rule);
      for (const sensor of def.targets(rule, this.city)) {
        const key = entryKey(rule.id, sensor.id);
        // a sensor edited in the registry (district, flood levels) starts afresh under the same rule
        const kept = unchanged && previous.get(key)?.sensor === sensor ? previous.get(key) : undefined;
        const entry = kept ?? {
          key,
          sensor,
          rule,
          def,
          s: def.initialState(rule, sensor, { now, lastSeen: this.lastSeen.get(sensor.id), city: this.city }),
        };
        this.entries.set(key, entry);
        for (const id of def.feeds ? new Set(def.feeds(rule, this.city, sensor)) : [sensor.id]) index(id, entry);
      }
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
    for (const e of this.bySensor.get(sensorId) ?? []) {
      if (e.def.seen && e.sensor.id === sensorId) e.s = e.def.seen(e.rule, e.s, ts);
    }
  }

  /** Puts a pair back into the phase of its alert restored from the store (Prometheus-style `for` restore). */
  restore(key: string, cond: Condition, now: number): void {
    const e = this.entries.get(key);
    if (!e) return;
    e.s = e.def.restore ? e.def.restore(e.rule, e.s, cond, now) : { ...e.s, cond };
  }

  /**
   * Starts the pairs of these sensors afresh, silence counted from `seen` (cluster hand-over: another node
   * evaluated them until now). Returns their keys, for the scheduler.
   */
  resetSensors(match: (sensorId: string) => boolean, now: number, seen: ReadonlyMap<string, number>): string[] {
    for (const [sensorId, ts] of seen) if (match(sensorId)) this.lastSeen.set(sensorId, ts);
    const keys: string[] = [];
    for (const e of this.entries.values()) {
      if (!match(e.sensor.id)) continue;
      const lastSeen = this.lastSeen.get(e.sensor.id);
      e.s = e.def.initialState(e.rule, e.sensor, { now, lastSeen, city: this.city });
      keys.push(e.key);
    }
    return keys;
  }

  onReadings(readings: readonly ReadingEvent[], now: number, derived = false): Change[] {
    const changes: Change[] = [];
    for (const reading of readings) {
      if (!derived) this.lastSeen.set(reading.sensorId, now);
      this.feed(reading.sensorId, { type: 'reading', reading, derived }, now, changes);
    }
    return changes;
  }

  onStatus(event: DeviceStatusEvent, now: number): Change[] {
    const changes: Change[] = [];
    if (event.status === 'online') this.lastSeen.set(event.sensorId, now);
    this.feed(event.sensorId, { type: 'status', event }, now, changes);
    return changes;
  }

  onCameraEvent(event: CameraEvent, now: number): Change[] {
    const changes: Change[] = [];
    this.lastSeen.set(event.sensorId, now);
    this.feed(event.sensorId, { type: 'camera', event }, now, changes);
    return changes;
  }

  /** A refused message: not a sign of life (lastSeen stays), only evidence for device-health rules. */
  onRefusal(event: DeviceRefusalEvent, now: number): Change[] {
    const changes: Change[] = [];
    this.feed(event.sensorId, { type: 'refusal', event }, now, changes);
    return changes;
  }

  /** Time-driven changes: `for` elapsed, silence reached, camera window emptied. */
  onTimer(key: string, now: number): Change[] {
    const e = this.entries.get(key);
    const changes: Change[] = [];
    if (e) this.apply(e, e.def.evaluate(e.rule, e.sensor, e.s, TICK, now), changes);
    return changes;
  }

  /** The next clock time this pair may change without an event, for the service's timer. */
  nextCheckAt(key: string): number | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    return e.def.nextCheckAt ? e.def.nextCheckAt(e.rule, e.s) : defaultNextCheckAt(e.rule, e.s);
  }

  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  private feed(sensorId: string, input: RuleInput, now: number, changes: Change[]): void {
    // the entries themselves, not their keys: no lookup per rule per reading
    for (const e of this.bySensor.get(sensorId) ?? NO_ENTRIES) {
      this.apply(e, e.def.evaluate(e.rule, e.sensor, e.s, input, now), changes);
    }
  }

  private apply(e: Entry, step: Step<RuleState>, changes: Change[]): void {
    e.s = step.state;
    if (step.transition === 'none') return;
    changes.push({
      key: e.key,
      rule: e.rule,
      sensor: e.sensor,
      transition: step.transition,
      cond: step.state.cond,
      facts: this.describe(e),
    });
  }

  private describe(e: Entry): AlertFacts {
    const cond = e.s.cond;
    return describeAlert({
      rule: e.rule,
      sensor: e.sensor,
      city: this.city,
      value: cond.value,
      threshold: cond.threshold,
      messages: e.def.messages,
      parts: e.def.describe(e.rule, e.sensor, e.s, this.city),
    });
  }

  describeKey(key: string): AlertFacts | undefined {
    const e = this.entries.get(key);
    return e ? this.describe(e) : undefined;
  }
}

const TICK: RuleInput = { type: 'tick' };
const NO_ENTRIES: readonly Entry[] = [];
