import type { CameraEvent } from '../ingest/ingest-events.ts';
import { advanceCondition, INACTIVE, pendingDueAt, type Condition, type Step } from './condition.ts';
import { durationMs, type CameraEventRule } from './rule-schema.ts';

/**
 * Camera events: at least `count` events of the listed types within `window` (one smoke or fire
 * detection; three intrusions in ten minutes). The alert clears once fewer remain in the window, which the
 * service notices through a clock timer at `cameraCheckAt`.
 */
export interface CameraEventState {
  readonly cond: Condition;
  /** clock times of matching events inside the window, oldest first */
  readonly times: readonly number[];
}

export const initialCameraEventState: CameraEventState = { cond: INACTIVE, times: [] };

export type CameraInput = { readonly type: 'event'; readonly event: CameraEvent } | { readonly type: 'tick' };

export function evaluateCameraEvent(rule: CameraEventRule, state: CameraEventState, input: CameraInput, now: number): Step<CameraEventState> {
  const windowMs = durationMs(rule.window);
  const matches = input.type === 'event' && rule.eventTypes.includes(input.event.type);
  if (input.type === 'event' && !matches) return { state, transition: 'none' };
  const times = [...state.times, ...(matches ? [now] : [])].filter((t) => t > now - windowMs);
  const holds = times.length >= rule.count;
  const { cond, transition } = advanceCondition(state.cond, { holds, value: times.length, threshold: rule.count }, now, durationMs(rule.for));
  return { state: { cond, times }, transition };
}

export function cameraCheckAt(rule: CameraEventRule, state: CameraEventState): number | undefined {
  const due = pendingDueAt(state.cond, durationMs(rule.for));
  const expiry = state.times.length ? state.times[0]! + durationMs(rule.window) : undefined;
  const candidates = [due, expiry].filter((t): t is number => t !== undefined);
  return candidates.length ? Math.min(...candidates) : undefined;
}
