import type { ReadingEvent } from '../ingest/ingest-events.ts';
import { advanceCondition, INACTIVE, type Condition, type Step } from './condition.ts';
import { durationMs, type CompoundCondition, type CompoundRule } from './rule-schema.ts';
import { SampleWindow } from './sample-window.ts';

/**
 * Rules across sensors: every condition must hold at once (heavy rain at an upstream gauge while the
 * river at Kim Long rises). Each condition keeps its own samples per sensor; the alert belongs to
 * `alertSensor`. `for` damps flapping; there is no per-condition hysteresis.
 */
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

function valueOf(c: CompoundCondition, window: SampleWindow): number | undefined {
  if (c.rise !== undefined) return window.change('rise');
  if (c.fall !== undefined) return window.change('fall');
  return window.aggregate(c.aggregate ?? 'last');
}

function meets(c: CompoundCondition, value: number): boolean {
  if (c.below !== undefined) return value <= c.below;
  return value >= (c.above ?? c.rise ?? c.fall)!;
}

/** `asOf`: the newest reading time; windowed samples of other sensors older than the window no longer count. */
export function conditionValue(c: CompoundCondition, bySensor: ReadonlyMap<string, SampleWindow>, asOf?: number): ConditionValue {
  const threshold = (c.above ?? c.below ?? c.rise ?? c.fall)!;
  if (asOf !== undefined && c.window !== undefined) for (const w of bySensor.values()) w.expire(asOf);
  const values = [...bySensor]
    .map(([sensorId, window]) => ({ sensorId, value: valueOf(c, window) }))
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
    if (!window) windows.set(reading.sensorId, (window = new SampleWindow(c.window !== undefined ? durationMs(c.window) : 1)));
    window.push({ ts: reading.ts, value: raw });
  });
  if (!touched) return { state, transition: 'none' };
  const values = rule.conditions.map((c, i) => conditionValue(c, state.windows[i]!, reading.ts));
  const holds = values.every((v) => v.met);
  const first = values[0]!;
  const { cond, transition } = advanceCondition(state.cond, { holds, value: first.value, threshold: first.threshold }, now, durationMs(rule.for));
  return { state: { cond, windows: state.windows }, transition };
}
