import { z } from 'zod';
import type { ReadingEvent } from '../ingest/ingest-events.ts';
import type { I18nText } from './alert-model.ts';
import { fillTemplate, formatDurationText, formatNumber, metricLabel, metricUnit, type Lang } from './alert-locales.ts';
import { advanceCondition, INACTIVE, type Condition, type Step } from './condition.ts';
import {
  AGGREGATES,
  commonRuleFields,
  durationMs,
  durationSchema,
  metricName,
  selectorSchema,
  sensorIdField,
} from './rule-fields.ts';
import { defineRuleType, tickFor, unchanged } from './rule-type.ts';
import { selectSensors } from './rule-targets.ts';
import { SampleWindow } from './sample-window.ts';

/**
 * Rules across sensors: every condition must hold at once (heavy rain at an upstream gauge while the
 * river at Kim Long rises). Each condition keeps its own samples per sensor; the alert belongs to
 * `alertSensor`. `for` damps flapping; there is no per-condition hysteresis.
 */
export const compoundConditionSchema = z
  .object({
    selector: selectorSchema,
    metric: metricName,
    /** any: one selected sensor meeting it is enough (default); all: every selected sensor that reported. */
    match: z.enum(['any', 'all']).default('any'),
    window: durationSchema.optional(),
    aggregate: z.enum(AGGREGATES).optional(),
    above: z.number().optional(),
    below: z.number().optional(),
    rise: z.number().positive().optional(),
    fall: z.number().positive().optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const given = (['above', 'below', 'rise', 'fall'] as const).filter((k) => c[k] !== undefined);
    if (given.length !== 1)
      ctx.addIssue({ code: 'custom', path: ['above'], message: 'give exactly one of above, below, rise or fall' });
    if ((c.rise !== undefined || c.fall !== undefined) && c.window === undefined)
      ctx.addIssue({ code: 'custom', path: ['window'], message: 'rise and fall need a window' });
    if (c.aggregate && c.aggregate !== 'last' && c.window === undefined)
      ctx.addIssue({ code: 'custom', path: ['window'], message: `aggregate ${c.aggregate} needs a window` });
  });
export type CompoundCondition = z.infer<typeof compoundConditionSchema>;

export const compoundRuleSchema = z
  .object({
    ...commonRuleFields,
    type: z.literal('compound'),
    /** The sensor the alert is about (and shown at on the map), e.g. the river station. */
    alertSensor: sensorIdField,
    conditions: z.array(compoundConditionSchema).min(2),
  })
  .strict();
export type CompoundRule = z.infer<typeof compoundRuleSchema>;

export interface CompoundState {
  readonly cond: Condition;
  /** per condition: a window per sensor id */
  readonly windows: ReadonlyArray<ReadonlyMap<string, SampleWindow>>;
}

export function initialCompoundState(rule: CompoundRule): CompoundState {
  return { cond: INACTIVE, windows: rule.conditions.map(() => new Map()) };
}

export interface ConditionValue {
  readonly met: boolean;
  /** the value that decided it (the best sensor's for `any`, the worst's for `all`) */
  readonly value?: number;
  readonly sensorId?: string;
  readonly threshold: number;
}

function windowValue(c: CompoundCondition, window: SampleWindow): number | undefined {
  if (c.rise !== undefined) return window.change('rise');
  if (c.fall !== undefined) return window.change('fall');
  return window.aggregate(c.aggregate ?? 'last');
}

function meets(c: CompoundCondition, value: number): boolean {
  if (c.below !== undefined) return value <= c.below;
  return value >= (c.above ?? c.rise ?? c.fall)!;
}

/** `asOf`: the newest reading time; windowed samples of other sensors older than the window no longer count. */
export function conditionValue(
  c: CompoundCondition,
  bySensor: ReadonlyMap<string, SampleWindow>,
  asOf?: number,
): ConditionValue {
  const threshold = (c.above ?? c.below ?? c.rise ?? c.fall)!;
  if (asOf !== undefined && c.window !== undefined) for (const w of bySensor.values()) w.expire(asOf);
  const values = [...bySensor]
    .map(([sensorId, window]) => ({ sensorId, value: windowValue(c, window) }))
    .filter((v): v is { sensorId: string; value: number } => v.value !== undefined);
  if (values.length === 0) return { met: false, threshold };
  const better = (a: number, b: number) => (c.below !== undefined ? a < b : a > b);
  const pick = values.reduce((best, v) => {
    const wantBest = c.match === 'any';
    return better(v.value, best.value) === wantBest ? v : best;
  });
  const met = c.match === 'any' ? values.some((v) => meets(c, v.value)) : values.every((v) => meets(c, v.value));
  return { met, value: pick.value, sensorId: pick.sensorId, threshold };
}

/**
 * `conditionSensors[i]` is the set of sensor ids condition i selects (resolved once by the service
 * against the city).
 */
export function evaluateCompound(
  rule: CompoundRule,
  conditionSensors: ReadonlyArray<ReadonlySet<string>>,
  state: CompoundState,
  reading: ReadingEvent,
  now: number,
): Step<CompoundState> {
  let touched = false;
  rule.conditions.forEach((c, i) => {
    const raw = reading.values[c.metric];
    const windows = state.windows[i] as Map<string, SampleWindow> | undefined;
    if (raw === undefined || !windows || !conditionSensors[i]?.has(reading.sensorId)) return;
    touched = true;
    let window = windows.get(reading.sensorId);
    // without a window a condition looks at the latest reading only
    if (!window) {
      window = new SampleWindow(c.window !== undefined ? durationMs(c.window) : 1);
      windows.set(reading.sensorId, window);
    }
    window.push({ ts: reading.ts, value: raw });
  });
  if (!touched) return { state, transition: 'none' };
  const values = rule.conditions.map((c, i) => conditionValue(c, state.windows[i]!, reading.ts));
  const holds = values.every((v) => v.met);
  const first = values[0]!;
  const { cond, transition } = advanceCondition(
    state.cond,
    { holds, value: first.value, threshold: first.threshold },
    now,
    durationMs(rule.for),
  );
  return { state: { cond, windows: state.windows }, transition };
}

/** How one condition reads inside the alert's message ("{conditions}"). */
const CONDITION_TEXT: Readonly<Record<string, I18nText>> = {
  above: {
    vi: '{metric} tại {at} là {value} {unit} (ngưỡng {threshold} {unit})',
    en: '{metric} at {at} is {value} {unit} (threshold {threshold} {unit})',
  },
  below: {
    vi: '{metric} tại {at} là {value} {unit} (dưới {threshold} {unit})',
    en: '{metric} at {at} is {value} {unit} (below {threshold} {unit})',
  },
  rise: {
    vi: '{metric} tại {at} tăng {value} {unit} trong {window} (ngưỡng {threshold} {unit})',
    en: '{metric} at {at} rose {value} {unit} within {window} (threshold {threshold} {unit})',
  },
  fall: {
    vi: '{metric} tại {at} giảm {value} {unit} trong {window} (ngưỡng {threshold} {unit})',
    en: '{metric} at {at} fell {value} {unit} within {window} (threshold {threshold} {unit})',
  },
  sum: { vi: 'tổng {window}', en: '{window} total' },
  mean: { vi: 'trung bình {window}', en: '{window} mean' },
  max: { vi: 'cao nhất {window}', en: '{window} highest' },
  min: { vi: 'thấp nhất {window}', en: '{window} lowest' },
  and: { vi: '; đồng thời ', en: '; while ' },
};

function describeConditions(
  rule: CompoundRule,
  state: CompoundState,
  city: Parameters<typeof metricUnit>[0],
  fallbackKind: string,
  lang: Lang,
): string {
  return rule.conditions
    .map((c, i) => {
      const v = conditionValue(c, state.windows[i] ?? new Map());
      const at = v.sensorId ? city.sensorsById.get(v.sensorId) : undefined;
      const kind = at?.kind ?? fallbackKind;
      const window = c.window !== undefined ? formatDurationText(durationMs(c.window), lang) : '';
      const key =
        c.rise !== undefined ? 'rise' : c.fall !== undefined ? 'fall' : c.below !== undefined ? 'below' : 'above';
      const agg =
        c.aggregate && c.aggregate !== 'last' && key !== 'rise' && key !== 'fall'
          ? ` (${fillTemplate(CONDITION_TEXT[c.aggregate]![lang], { window })})`
          : '';
      return fillTemplate(CONDITION_TEXT[key]![lang], {
        metric: metricLabel(city, kind, c.metric, lang) + agg,
        at: at?.name ?? '?',
        value: formatNumber(v.value, lang) ?? '?',
        threshold: formatNumber(v.threshold, lang),
        unit: at ? metricUnit(city, at, c.metric) : '',
        window,
      });
    })
    .join(CONDITION_TEXT.and![lang]);
}

export function conditionSensorSets(rule: CompoundRule, city: Parameters<typeof selectSensors>[0]): Array<Set<string>> {
  return rule.conditions.map((c) => new Set(selectSensors(city, c.selector).map((s) => s.id)));
}

/** The sets each compound rule's conditions select, resolved once per rule set (not per reading). */
const sensorSets = new WeakMap<CompoundRule, ReadonlyArray<ReadonlySet<string>>>();

export const compoundType = defineRuleType<CompoundRule, CompoundState>({
  type: 'compound',
  schema: compoundRuleSchema,
  messages: {
    compound: { vi: '{sensor}: {conditions}', en: '{sensor}: {conditions}' },
  },
  targets(rule, city) {
    const sensor = city.sensorsById.get(rule.alertSensor);
    return sensor ? [sensor] : [];
  },
  feeds: (rule, city) => new Set(conditionSensorSets(rule, city).flatMap((set) => [...set])),
  check(rule, _city, checks) {
    checks.sensorExists('alertSensor', rule.alertSensor);
    rule.conditions.forEach((c, i) => {
      checks.selector(`conditions.${i}.selector`, c.selector);
      checks.metric(`conditions.${i}.metric`, `conditions.${i}.selector`, c.selector, c.metric);
    });
  },
  initialState(rule, _target, { city }) {
    sensorSets.set(rule, conditionSensorSets(rule, city));
    return initialCompoundState(rule);
  },
  evaluate(rule, _target, state, input, now) {
    if (input.type === 'reading') return evaluateCompound(rule, sensorSets.get(rule) ?? [], state, input.reading, now);
    return input.type === 'tick' ? tickFor(rule, state, now) : unchanged(state);
  },
  describe(rule, target, state, city) {
    const first = conditionValue(rule.conditions[0]!, state.windows[0] ?? new Map());
    return {
      messageKey: 'compound',
      metric: rule.conditions[0]!.metric,
      unitSensor: first.sensorId ? city.sensorsById.get(first.sensorId) : undefined,
      vars: (lang) => ({ conditions: describeConditions(rule, state, city, target.kind, lang) }),
    };
  },
});
