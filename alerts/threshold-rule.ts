import type { Sensor } from '../config/city-config.ts';
import type { ReadingEvent } from '../ingest/ingest-events.ts';
import { advanceCondition, INACTIVE, type Condition, type Step } from './condition.ts';
import { durationMs, type ThresholdRule } from './rule-schema.ts';
import { SampleWindow } from './sample-window.ts';

/**
 * Threshold with hysteresis: fires at `above` (or `below`), clears only past `clearBelow`/`clearAbove`
 * (or threshold -/+ `hysteresis`), so a value wobbling around the threshold raises one alert, not many.
 * With `window` + `aggregate` the value compared is e.g. the hour's rain sum instead of the last reading.
 */
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

export function evaluateThreshold(rule: ThresholdRule, sensor: Sensor, state: ThresholdState, reading: ReadingEvent, now: number): Step<ThresholdState> {
  const raw = reading.values[rule.metric];
  const limits = thresholdLimits(rule, sensor);
  if (raw === undefined || limits === undefined) return { state, transition: 'none' };
  let window = state.window;
  if (rule.window !== undefined) {
    window ??= new SampleWindow(durationMs(rule.window));
    window.push({ ts: reading.ts, value: raw });
  }
  const value = window ? (window.aggregate(rule.aggregate ?? 'last') ?? raw) : raw;
  const holds = holdsThreshold(limits, value, state.cond.phase !== 'inactive');
  const { cond, transition } = advanceCondition(state.cond, { holds, value, threshold: limits.threshold }, now, durationMs(rule.for));
  return { state: { cond, window }, transition };
}
