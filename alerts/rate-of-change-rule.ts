import type { ReadingEvent } from '../ingest/ingest-events.ts';
import { advanceCondition, INACTIVE, type Condition, type Step } from './condition.ts';
import { durationMs, type RateOfChangeRule } from './rule-schema.ts';
import { SampleWindow } from './sample-window.ts';

/**
 * Rate of change over a window (a river rising 0.3 m within an hour): the value is the rise (newest minus
 * the window's lowest) or the fall. Samples are placed by the reading's own timestamp, so late or
 * replayed readings land where they belong.
 */
export interface RateOfChangeState {
  readonly cond: Condition;
  readonly window?: SampleWindow;
}

export const initialRateOfChangeState: RateOfChangeState = { cond: INACTIVE };

export function evaluateRateOfChange(rule: RateOfChangeRule, state: RateOfChangeState, reading: ReadingEvent, now: number): Step<RateOfChangeState> {
  const raw = reading.values[rule.metric];
  if (raw === undefined) return { state, transition: 'none' };
  const window = state.window ?? new SampleWindow(durationMs(rule.window));
  window.push({ ts: reading.ts, value: raw });
  const direction = rule.rise !== undefined ? 'rise' : 'fall';
  const threshold = (rule.rise ?? rule.fall)!;
  const change = window.change(direction) ?? 0;
  const latched = state.cond.phase !== 'inactive';
  const holds = change >= (latched ? threshold - (rule.hysteresis ?? 0) : threshold);
  const { cond, transition } = advanceCondition(state.cond, { holds, value: change, threshold }, now, durationMs(rule.for));
  return { state: { cond, window }, transition };
}
