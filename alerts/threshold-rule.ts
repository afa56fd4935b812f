import { z } from 'zod';
import type { Sensor } from '../config/city-config.ts';
import type { ReadingEvent } from '../ingest/ingest-events.ts';
import { advanceCondition, INACTIVE, type Condition, type Step } from './condition.ts';
import { AGGREGATES, commonRuleFields, durationMs, durationSchema, metricName, selectorSchema } from './rule-fields.ts';
import { defineRuleType, tickFor, unchanged } from './rule-type.ts';
import { selectSensors } from './rule-targets.ts';
import { SampleWindow } from './sample-window.ts';

/**
 * Threshold with hysteresis: fires at `above` (or `below`), clears only past `clearBelow`/`clearAbove`
 * (or threshold -/+ `hysteresis`), so a value wobbling around the threshold raises one alert, not many.
 * With `window` + `aggregate` the value compared is e.g. the hour's rain sum instead of the last reading.
 */
export const thresholdRuleSchema = z
  .object({
    ...commonRuleFields,
    type: z.literal('threshold'),
    selector: selectorSchema,
    metric: metricName,
    above: z.number().optional(),
    below: z.number().optional(),
    /** Flood alarm level I/II/III: the threshold is the selected station's own `floodLevels[level-1]`. */
    floodLevel: z.union([z.literal(1), z.literal(2), z.literal(3)]).optional(),
    clearBelow: z.number().optional(),
    clearAbove: z.number().optional(),
    /** Margin of hysteresis: clears at threshold - hysteresis (above) or threshold + hysteresis (below). */
    hysteresis: z.number().nonnegative().optional(),
    window: durationSchema.optional(),
    aggregate: z.enum(AGGREGATES).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    const given = (['above', 'below', 'floodLevel'] as const).filter((k) => r[k] !== undefined);
    if (given.length !== 1)
      ctx.addIssue({ code: 'custom', path: ['above'], message: 'give exactly one of above, below or floodLevel' });
    if (r.clearBelow !== undefined) {
      if (r.below !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['clearBelow'],
          message: 'clearBelow goes with above or floodLevel; with below use clearAbove',
        });
      if (r.above !== undefined && r.clearBelow > r.above)
        ctx.addIssue({ code: 'custom', path: ['clearBelow'], message: `must not exceed above (${r.above})` });
    }
    if (r.clearAbove !== undefined) {
      if (r.below === undefined)
        ctx.addIssue({ code: 'custom', path: ['clearAbove'], message: 'clearAbove goes with below' });
      else if (r.clearAbove < r.below)
        ctx.addIssue({ code: 'custom', path: ['clearAbove'], message: `must not be under below (${r.below})` });
    }
    if (r.floodLevel !== undefined && r.clearBelow !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['clearBelow'],
        message: 'with floodLevel give the margin as hysteresis (m)',
      });
    if (r.hysteresis !== undefined && (r.clearBelow !== undefined || r.clearAbove !== undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['hysteresis'],
        message: 'give either hysteresis or clearBelow/clearAbove, not both',
      });
    if (r.aggregate && r.aggregate !== 'last' && r.window === undefined)
      ctx.addIssue({ code: 'custom', path: ['window'], message: `aggregate ${r.aggregate} needs a window` });
  });
export type ThresholdRule = z.infer<typeof thresholdRuleSchema>;

export interface ThresholdState {
  readonly cond: Condition;
  /** only for rules with a window */
  readonly window?: SampleWindow;
}

export const initialThresholdState: ThresholdState = { cond: INACTIVE };

export interface ThresholdLimits {
  readonly direction: 'above' | 'below';
  readonly threshold: number;
  /** the value past which a latched condition clears */
  readonly clear: number;
}

/** The limits for one sensor; undefined when a floodLevel rule meets a station without flood levels. */
export function thresholdLimits(rule: ThresholdRule, sensor: Sensor): ThresholdLimits | undefined {
  if (rule.below !== undefined) {
    return { direction: 'below', threshold: rule.below, clear: rule.clearAbove ?? rule.below + (rule.hysteresis ?? 0) };
  }
  const threshold = rule.floodLevel !== undefined ? sensor.floodLevels?.[rule.floodLevel - 1] : rule.above;
  if (threshold === undefined) return undefined;
  return { direction: 'above', threshold, clear: rule.clearBelow ?? threshold - (rule.hysteresis ?? 0) };
}

export function holdsThreshold(limits: ThresholdLimits, value: number, latched: boolean): boolean {
  if (limits.direction === 'above') return latched ? value >= limits.clear : value >= limits.threshold;
  return latched ? value <= limits.clear : value <= limits.threshold;
}

export function evaluateThreshold(
  rule: ThresholdRule,
  sensor: Sensor,
  state: ThresholdState,
  reading: ReadingEvent,
  now: number,
): Step<ThresholdState> {
  const raw = reading.values[rule.metric];
  // most readings a rule sees lack its metric (a VN_AQI rule gets every air reading): no limits object for them
  if (raw === undefined) return { state, transition: 'none' };
  const limits = thresholdLimits(rule, sensor);
  if (limits === undefined) return { state, transition: 'none' };
  let window = state.window;
  if (rule.window !== undefined) {
    window ??= new SampleWindow(durationMs(rule.window));
    window.push({ ts: reading.ts, value: raw });
  }
  const value = window ? (window.aggregate(rule.aggregate ?? 'last') ?? raw) : raw;
  const holds = holdsThreshold(limits, value, state.cond.phase !== 'inactive');
  const { cond, transition } = advanceCondition(
    state.cond,
    { holds, value, threshold: limits.threshold },
    now,
    durationMs(rule.for),
  );
  // a reading that changes nothing keeps the state object: a new one per reading per rule lived until the sensor's
  // next reading, long enough to be copied by the young-generation GC (the soak's largest survivor)
  return cond === state.cond && window === state.window
    ? { state, transition }
    : { state: { cond, window }, transition };
}

const ROMAN = ['I', 'II', 'III'];

export const thresholdType = defineRuleType<ThresholdRule, ThresholdState>({
  type: 'threshold',
  schema: thresholdRuleSchema,
  messages: {
    above: {
      vi: '{metric} tại {sensor} là {value} {unit}, vượt ngưỡng {threshold} {unit}',
      en: '{metric} at {sensor} is {value} {unit}, above the threshold of {threshold} {unit}',
    },
    below: {
      vi: '{metric} tại {sensor} là {value} {unit}, dưới ngưỡng {threshold} {unit}',
      en: '{metric} at {sensor} is {value} {unit}, below the threshold of {threshold} {unit}',
    },
    floodLevel: {
      vi: 'Mực nước {value} {unit} tại {sensor} vượt báo động {level} ({threshold} {unit})',
      en: 'Water level {value} {unit} at {sensor} is above flood alarm level {level} ({threshold} {unit})',
    },
  },
  targets(rule, city) {
    const selected = selectSensors(city, rule.selector);
    // a flood-level rule applies to the stations that have flood levels
    return rule.floodLevel !== undefined ? selected.filter((s) => s.floodLevels !== undefined) : selected;
  },
  check(rule, city, checks) {
    checks.selector('selector', rule.selector);
    checks.metric('metric', 'selector', rule.selector, rule.metric);
    const selected = selectSensors(city, rule.selector);
    if (rule.floodLevel !== undefined && selected.length && !selected.some((s) => s.floodLevels)) {
      checks.issue('floodLevel', 'none of the selected sensors has floodLevels in the sensors file');
    }
  },
  initialState: () => initialThresholdState,
  evaluate(rule, target, state, input, now) {
    if (input.type === 'reading')
      return input.reading.sensorId === target.id
        ? evaluateThreshold(rule, target, state, input.reading, now)
        : unchanged(state);
    return input.type === 'tick' ? tickFor(rule, state, now) : unchanged(state);
  },
  describe: (rule) => ({
    messageKey: rule.floodLevel !== undefined ? 'floodLevel' : rule.below !== undefined ? 'below' : 'above',
    metric: rule.metric,
    windowMs: rule.window !== undefined ? durationMs(rule.window) : undefined,
    vars: () => ({ level: rule.floodLevel !== undefined ? ROMAN[rule.floodLevel - 1] : undefined }),
  }),
});
