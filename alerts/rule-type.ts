import type { z } from 'zod';
import type { City, Sensor } from '../config/city-config.ts';
import type { CameraEvent, DeviceRefusalEvent, DeviceStatusEvent, ReadingEvent } from '../ingest/ingest-events.ts';
import type { I18nText } from './alert-model.ts';
import { pendingDueAt, promoteIfDue, type Condition, type Step } from './condition.ts';
import { durationMs, type RuleBase, type Selector } from './rule-fields.ts';

/**
 * The contract of a rule type, as simulator-contract.ts is for simulators: one file per type exports one
 * `defineRuleType({...})` with everything the platform needs to know about it (its schema, which sensors it
 * raises alerts for, how it evaluates what arrives and the clock, when it next needs the clock, and the text
 * of its alerts in Vietnamese and English), and rule-types.ts lists it. The engine, the rule loader, the
 * alert texts and the API hold no per-type branch.
 */
export type RuleInput =
  | {
      readonly type: 'reading';
      readonly reading: ReadingEvent /** a value the engine derived (vnAqi), not a device reading */;
      readonly derived: boolean;
    }
  | { readonly type: 'status'; readonly event: DeviceStatusEvent }
  | { readonly type: 'camera'; readonly event: CameraEvent }
  /** a message of the sensor refused by ingest or the broker (device-health counts them) */
  | { readonly type: 'refusal'; readonly event: DeviceRefusalEvent }
  /** the clock reached the time nextCheckAt asked for */
  | { readonly type: 'tick' };

/** State of one (rule, sensor) pair: whatever the type keeps, around the shared condition (condition.ts). */
export interface RuleState {
  readonly cond: Condition;
}

/** Checks of a rule against the city, for rule-loading errors that name the field (load-rules.ts). */
export interface RuleChecks {
  /** unknown sensors, kinds, districts named by the selector at `field` */
  selector(field: string, selector: Selector): void;
  /** the selector at `selectorField` selects sensors, and their kinds have `metric` (or derive it) */
  metric(field: string, selectorField: string, selector: Selector, metric: string): void;
  /** the selector selects at least one sensor */
  selectsSome(selectorField: string, selector: Selector): void;
  sensorExists(field: string, sensorId: string): void;
  issue(field: string, message: string): void;
}

/** What an alert's text is made of; alert-text.ts fills the type's template with it. */
export interface AlertTextParts {
  /** key of the type's `messages` */
  readonly messageKey: string;
  /** the metric the alert is about, if any (its label and unit go into the text) */
  readonly metric?: string;
  /** the sensor whose kind gives the metric's unit (default: the alert's sensor) */
  readonly unitSensor?: Sensor;
  /** a unit of the type's own, e.g. minutes of silence */
  readonly unit?: I18nText;
  /** the window the condition looks at, shown as "1 giờ" / "1 h" */
  readonly windowMs?: number;
  /** more template variables, per language */
  vars?(lang: 'vi' | 'en'): Readonly<Record<string, string | undefined>>;
}

export interface RuleTypeDefinition<R extends RuleBase = RuleBase, S extends RuleState = RuleState> {
  readonly type: R['type'];
  /** a strict zod object over commonRuleFields (rule-fields.ts) with `type: z.literal(...)` */
  readonly schema: z.ZodType<R>;
  /** vi/en message templates by key ({value} {threshold} {unit} {sensor} {metric} {district} {window} ...) */
  readonly messages: Readonly<Record<string, I18nText>>;
  /** its alerts say the device itself is silent or offline: a device under maintenance raises none */
  readonly aboutDevice?: boolean;
  /** the sensors the rule raises alerts for: one open alert per rule and each of them */
  targets(rule: R, city: City): Sensor[];
  /** ids of the sensors whose events reach the pair of `target` (default: the target alone) */
  feeds?(rule: R, city: City, target: Sensor): Iterable<string>;
  /** what the schema cannot know: the sensors, metrics and event types it names exist in the city */
  check(rule: R, city: City, checks: RuleChecks): void;
  /** `lastSeen`: when the target was last heard from (clock time), if known */
  initialState(
    rule: R,
    target: Sensor,
    context: { readonly now: number; readonly lastSeen?: number; readonly city: City },
  ): S;
  evaluate(rule: R, target: Sensor, state: S, input: RuleInput, now: number): Step<S>;
  /** the next clock time the pair may change without an event (default: a pending `for` falling due) */
  nextCheckAt?(rule: R, state: S): number | undefined;
  /** the pair put back into the phase of its alert restored after a restart (default: the condition only) */
  restore?(rule: R, state: S, cond: Condition, now: number): S;
  /** the target was heard from at `ts` before a restart (from the store) */
  seen?(rule: R, state: S, ts: number): S;
  describe(rule: R, target: Sensor, state: S, city: City): AlertTextParts;
}

/** Identity with the types checked: `export const thresholdType = defineRuleType({...})`. */
export function defineRuleType<R extends RuleBase, S extends RuleState>(
  definition: RuleTypeDefinition<R, S>,
): RuleTypeDefinition<R, S> {
  return definition;
}

/** The default answer to a clock tick: a pending condition that has held for `for` fires. */
export function tickFor<S extends RuleState>(rule: RuleBase, state: S, now: number): Step<S> {
  const { cond, transition } = promoteIfDue(state.cond, now, durationMs(rule.for));
  return { state: { ...state, cond }, transition };
}

export function defaultNextCheckAt(rule: RuleBase, state: RuleState): number | undefined {
  return pendingDueAt(state.cond, durationMs(rule.for));
}

export const unchanged = <S>(state: S): Step<S> => ({ state, transition: 'none' });
