import { z } from 'zod';
import type { ReadingEvent } from '../ingest/ingest-events.ts';
import { advanceCondition, INACTIVE, type Condition, type Step } from './condition.ts';
import { commonRuleFields, durationMs, durationSchema, metricName, selectorSchema } from './rule-fields.ts';
import { defineRuleType, tickFor, unchanged } from './rule-type.ts';
import { selectSensors } from './rule-targets.ts';
import { SampleWindow } from './sample-window.ts';

/**
 * Rate of change over a window (a river rising 0.3 m within an hour): the value is the rise (newest minus
 * the window's lowest) or the fall. Samples are placed by the reading's own timestamp, so late or
 * replayed readings land where they belong.
 */
export const rateOfChangeRuleSchema = z
  .object({
    ...commonRuleFields,
    type: z.literal('rateOfChange'),
    selector: selectorSchema,
    metric: metricName,
    window: durationSchema,
    /** Fires when the value rose by at least this much within the window (latest minus the window's lowest). */
    rise: z.number().positive().optional(),
    /** Fires when the value fell by at least this much within the window (window's highest minus latest). */
    fall: z.number().positive().optional(),
    hysteresis: z.number().nonnegative().optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if ((r.rise === undefined) === (r.fall === undefined))
      ctx.addIssue({ code: 'custom', path: ['rise'], message: 'give exactly one of rise or fall' });
    if (durationMs(r.window) <= 0) ctx.addIssue({ code: 'custom', path: ['window'], message: 'must be longer than 0' });
  });
export type RateOfChangeRule = z.infer<typeof rateOfChangeRuleSchema>;

export interface RateOfChangeState {
  readonly cond: Condition;
  readonly window?: SampleWindow;
}

export const initialRateOfChangeState: RateOfChangeState = { cond: INACTIVE };

export function evaluateRateOfChange(
  rule: RateOfChangeRule,
  state: RateOfChangeState,
  reading: ReadingEvent,
  now: number,
): Step<RateOfChangeState> {
  const raw = reading.values[rule.metric];
  if (raw === undefined) return { state, transition: 'none' };
  const window = state.window ?? new SampleWindow(durationMs(rule.window));
  window.push({ ts: reading.ts, value: raw });
  const direction = rule.rise !== undefined ? 'rise' : 'fall';
  const threshold = (rule.rise ?? rule.fall)!;
  const change = window.change(direction) ?? 0;
  const latched = state.cond.phase !== 'inactive';
  const holds = change >= (latched ? threshold - (rule.hysteresis ?? 0) : threshold);
  const { cond, transition } = advanceCondition(
    state.cond,
    { holds, value: change, threshold },
    now,
    durationMs(rule.for),
  );
  return { state: { cond, window }, transition };
}

export const rateOfChangeType = defineRuleType<RateOfChangeRule, RateOfChangeState>({
  type: 'rateOfChange',
  schema: rateOfChangeRuleSchema,
  messages: {
    rise: {
      vi: '{metric} tại {sensor} tăng {value} {unit} trong {window} (ngưỡng {threshold} {unit})',
      en: '{metric} at {sensor} rose {value} {unit} within {window} (threshold {threshold} {unit})',
    },
    fall: {
      vi: '{metric} tại {sensor} giảm {value} {unit} trong {window} (ngưỡng {threshold} {unit})',
      en: '{metric} at {sensor} fell {value} {unit} within {window} (threshold {threshold} {unit})',
    },
  },
  targets: (rule, city) => selectSensors(city, rule.selector),
  check(rule, _city, checks) {
    checks.selector('selector', rule.selector);
    checks.metric('metric', 'selector', rule.selector, rule.metric);
  },
  initialState: () => initialRateOfChangeState,
  evaluate(rule, target, state, input, now) {
    if (input.type === 'reading')
      return input.reading.sensorId === target.id
        ? evaluateRateOfChange(rule, state, input.reading, now)
        : unchanged(state);
    return input.type === 'tick' ? tickFor(rule, state, now) : unchanged(state);
  },
  describe: (rule) => ({
    messageKey: rule.rise !== undefined ? 'rise' : 'fall',
    metric: rule.metric,
    windowMs: durationMs(rule.window),
  }),
});
