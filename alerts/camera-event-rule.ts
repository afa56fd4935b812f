import { z } from 'zod';
import type { CameraEvent } from '../ingest/ingest-events.ts';
import { ownValue } from '../config/lookup-table.ts';
import { LOCALES } from './alert-locales.ts';
import { advanceCondition, INACTIVE, pendingDueAt, type Condition, type Step } from './condition.ts';
import { commonRuleFields, durationMs, durationSchema, selectorSchema } from './rule-fields.ts';
import { defineRuleType, unchanged } from './rule-type.ts';
import { selectSensors } from './rule-targets.ts';

/**
 * Camera events: at least `count` events of the listed types within `window` (one smoke or fire
 * detection; three intrusions in ten minutes). The alert clears once fewer remain in the window, which the
 * service notices through a clock timer at `cameraCheckAt`.
 */
export const cameraEventRuleSchema = z
  .object({
    ...commonRuleFields,
    type: z.literal('cameraEvent'),
    selector: selectorSchema,
    eventTypes: z.array(z.string().min(1)).min(1),
    /** Fires when at least this many matching events arrived within the window; clears when fewer remain. */
    count: z.number().int().min(1).default(1),
    window: durationSchema.default('5m'),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (durationMs(r.window) <= 0) ctx.addIssue({ code: 'custom', path: ['window'], message: 'must be longer than 0' });
  });
export type CameraEventRule = z.infer<typeof cameraEventRuleSchema>;

export interface CameraEventState {
  readonly cond: Condition;
  /** clock times of matching events inside the window, oldest first */
  readonly times: readonly number[];
}

export const initialCameraEventState: CameraEventState = { cond: INACTIVE, times: [] };

export type CameraInput = { readonly type: 'event'; readonly event: CameraEvent } | { readonly type: 'tick' };

export function evaluateCameraEvent(
  rule: CameraEventRule,
  state: CameraEventState,
  input: CameraInput,
  now: number,
): Step<CameraEventState> {
  const windowMs = durationMs(rule.window);
  const matches = input.type === 'event' && rule.eventTypes.includes(input.event.type);
  if (input.type === 'event' && !matches) return { state, transition: 'none' };
  const times = [...state.times, ...(matches ? [now] : [])].filter((t) => t > now - windowMs);
  const holds = times.length >= rule.count;
  const { cond, transition } = advanceCondition(
    state.cond,
    { holds, value: times.length, threshold: rule.count },
    now,
    durationMs(rule.for),
  );
  return { state: { cond, times }, transition };
}

export function cameraCheckAt(rule: CameraEventRule, state: CameraEventState): number | undefined {
  const due = pendingDueAt(state.cond, durationMs(rule.for));
  const expiry = state.times.length ? state.times[0]! + durationMs(rule.window) : undefined;
  const candidates = [due, expiry].filter((t): t is number => t !== undefined);
  return candidates.length ? Math.min(...candidates) : undefined;
}

export const cameraEventType = defineRuleType<CameraEventRule, CameraEventState>({
  type: 'cameraEvent',
  schema: cameraEventRuleSchema,
  messages: {
    cameraEvent: {
      vi: 'Phát hiện {eventType} tại {sensor}: {value} sự kiện trong {window} (ngưỡng {threshold})',
      en: '{eventType} at {sensor}: {value} event(s) within {window} (threshold {threshold})',
    },
  },
  targets: (rule, city) => selectSensors(city, rule.selector),
  check(rule, city, checks) {
    checks.selector('selector', rule.selector);
    const selected = selectSensors(city, rule.selector);
    const known = new Set(selected.flatMap((s) => city.kinds.get(s.kind)?.eventTypes ?? []));
    rule.eventTypes.forEach((t, i) => {
      if (!known.has(t))
        checks.issue(
          `eventTypes.${i}`,
          `no selected sensor reports event type "${t}" (known: ${[...known].join(', ') || 'none'})`,
        );
    });
  },
  initialState: () => initialCameraEventState,
  evaluate(rule, _target, state, input, now) {
    if (input.type === 'camera') return evaluateCameraEvent(rule, state, { type: 'event', event: input.event }, now);
    return input.type === 'tick' ? evaluateCameraEvent(rule, state, { type: 'tick' }, now) : unchanged(state);
  },
  nextCheckAt: cameraCheckAt,
  // the events before a restart are not known: the alert holds for one more window
  restore: (rule, state, cond, now) => ({ ...state, cond, times: Array.from({ length: rule.count }, () => now) }),
  describe: (rule) => ({
    messageKey: 'cameraEvent',
    windowMs: durationMs(rule.window),
    vars: (lang) => ({ eventType: rule.eventTypes.map((t) => ownValue(LOCALES[lang].eventType, t) ?? t).join('/') }),
  }),
});
