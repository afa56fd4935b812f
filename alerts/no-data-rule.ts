import { z } from 'zod';
import { advanceCondition, INACTIVE, pendingDueAt, type Condition, type Step } from './condition.ts';
import { commonRuleFields, durationMs, durationSchema, selectorSchema } from './rule-fields.ts';
import { defineRuleType, unchanged } from './rule-type.ts';
import { selectSensors } from './rule-targets.ts';

/**
 * No data / device offline: holds while the status topic says offline (the device's MQTT last will) or
 * while nothing arrived for `silence`. Silence is measured in clock time of arrival, not the device's
 * timestamps: a device with a wrong clock that still talks is alive. The service calls `checkNoData` from
 * a clock timer at `noDataCheckAt`, because silence is, by nature, the absence of an event.
 */
export const noDataRuleSchema = z
  .object({
    ...commonRuleFields,
    type: z.literal('noData'),
    selector: selectorSchema,
    /** Fires when a sensor sent no reading for this long. */
    silence: durationSchema.optional(),
    /** Fires when the device's status topic says offline (its MQTT last will). */
    offline: z.boolean().default(true),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.silence === undefined && !r.offline)
      ctx.addIssue({ code: 'custom', path: ['silence'], message: 'give silence, or leave offline: true' });
    if (r.silence !== undefined && durationMs(r.silence) <= 0)
      ctx.addIssue({ code: 'custom', path: ['silence'], message: 'must be longer than 0' });
  });
export type NoDataRule = z.infer<typeof noDataRuleSchema>;

export interface NoDataState {
  readonly cond: Condition;
  /**
   * clock time of the last reading or online status. Moved in place by a reading from a device that is fine (the
   * common case): a state is owned by its one rule entry, as a threshold state's window is, and a new state per
   * reading lived until the device's next one, long enough to be copied by the young-generation GC
   */
  lastSeen: number;
  readonly offline: boolean;
}

export function initialNoDataState(now: number): NoDataState {
  return { cond: INACTIVE, lastSeen: now, offline: false };
}

export type NoDataInput =
  | { readonly type: 'reading' }
  | { readonly type: 'status'; readonly status: 'online' | 'offline' }
  | { readonly type: 'tick' };

function observe(
  rule: NoDataRule,
  state: NoDataState,
  now: number,
): { holds: boolean; value?: number; threshold?: number } {
  const silenceMs = rule.silence !== undefined ? durationMs(rule.silence) : undefined;
  const silentFor = now - state.lastSeen;
  const silent = silenceMs !== undefined && silentFor >= silenceMs;
  const holds = (rule.offline && state.offline) || silent;
  // value and threshold in minutes so messages read "15 phút"
  return {
    holds,
    value: Math.round(silentFor / 60_000),
    threshold: silenceMs !== undefined ? silenceMs / 60_000 : undefined,
  };
}

export function evaluateNoData(
  rule: NoDataRule,
  state: NoDataState,
  input: NoDataInput,
  now: number,
): Step<NoDataState> {
  // the common case, a reading from a device that is fine: only the time it was last seen moves
  if (input.type === 'reading' && state.cond.phase === 'inactive' && !state.offline) {
    if (now > state.lastSeen) state.lastSeen = now;
    return { state, transition: 'none' };
  }
  let next = state;
  if (input.type === 'reading') next = { ...state, lastSeen: Math.max(state.lastSeen, now), offline: false };
  else if (input.type === 'status') {
    next =
      input.status === 'online'
        ? { ...state, offline: false, lastSeen: Math.max(state.lastSeen, now) }
        : { ...state, offline: true };
  }
  const { cond, transition } = advanceCondition(next.cond, observe(rule, next, now), now, durationMs(rule.for));
  return { state: { ...next, cond }, transition };
}

/** The next clock time at which the rule may change without any event arriving. */
export function noDataCheckAt(rule: NoDataRule, state: NoDataState): number | undefined {
  const due = pendingDueAt(state.cond, durationMs(rule.for));
  const silenceAt =
    rule.silence !== undefined && state.cond.phase === 'inactive'
      ? state.lastSeen + durationMs(rule.silence)
      : undefined;
  const candidates = [due, silenceAt].filter((t): t is number => t !== undefined);
  return candidates.length ? Math.min(...candidates) : undefined;
}

export const noDataType = defineRuleType<NoDataRule, NoDataState>({
  type: 'noData',
  schema: noDataRuleSchema,
  aboutDevice: true,
  messages: {
    silence: {
      vi: 'Không nhận dữ liệu từ {sensor} trong {value} phút (ngưỡng {threshold} phút)',
      en: 'No data from {sensor} for {value} min (limit {threshold} min)',
    },
    offline: { vi: 'Thiết bị {sensor} báo mất kết nối (offline)', en: 'Device {sensor} reported offline' },
  },
  targets: (rule, city) => selectSensors(city, rule.selector),
  check(rule, _city, checks) {
    checks.selector('selector', rule.selector);
    checks.selectsSome('selector', rule.selector);
  },
  // silence counts from when the device was last heard of, also before a restart
  initialState: (_rule, _target, { now, lastSeen }) => initialNoDataState(Math.min(now, lastSeen ?? now)),
  evaluate(rule, _target, state, input, now) {
    switch (input.type) {
      // a value the engine derived says nothing about the device being alive
      case 'reading':
        return input.derived ? unchanged(state) : evaluateNoData(rule, state, { type: 'reading' }, now);
      case 'status':
        return evaluateNoData(rule, state, { type: 'status', status: input.event.status }, now);
      case 'tick':
        return evaluateNoData(rule, state, { type: 'tick' }, now);
      case 'camera':
      case 'refusal':
        return unchanged(state);
    }
  },
  nextCheckAt: noDataCheckAt,
  // a restored offline alert holds until the device is heard from again
  restore: (rule, state, cond) => ({ ...state, cond, offline: rule.offline }),
  seen: (_rule, state, ts) => ({ ...state, lastSeen: Math.min(state.lastSeen, ts) }),
  describe: (_rule, _target, state) => ({
    messageKey: state.offline ? 'offline' : 'silence',
    unit: { vi: 'phút', en: 'min' },
  }),
});
