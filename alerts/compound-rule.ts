import type { ReadingEvent } from '../ingest/ingest-events.ts';
import { advanceCondition, INACTIVE, type Condition, type Step } from './condition.ts';
import { durationMs, type CompoundCondition, type CompoundRule } from './rule-schema.ts';
import { aggregateSamples, changeInWindow, pushSample, type WindowSample } from './sample-window.ts';

/**
 * Rules across sensors: every condition must hold at once (heavy rain at an upstream gauge while the
 * river at Kim Long rises). Each condition keeps its own samples per sensor; the alert belongs to
 * `alertSensor`. `for` damps flapping; there is no per-condition hysteresis.
 */
export interface CompoundState {
  readonly cond: Condition;
  /** per condition: samples per sensor id */
  readonly samples: ReadonlyArray<Readonly<Record<string, readonly WindowSample[]>>>;
}

export function initialCompoundState(rule: CompoundRule): CompoundState {
  return { cond: INACTIVE, samples: rule.conditions.map(() => ({})) };
}

export interface ConditionValue {
  readonly met: boolean;
  /** the value that decided it (the best sensor's for `any`, the worst's for `all`) */
  readonly value?: number;
  readonly sensorId?: string;
  readonly threshold: number;
}

function valueOf(c: CompoundCondition, samples: readonly WindowSample[]): number | undefined {
  if (c.rise !== undefined) return changeInWindow(samples, 'rise');
  if (c.fall !== undefined) return changeInWindow(samples, 'fall');
  return aggregateSamples(samples, c.aggregate ?? 'last');
}

function meets(c: CompoundCondition, value: number): boolean {
  if (c.below !== undefined) return value <= c.below;
  return value >= (c.above ?? c.rise ?? c.fall)!;
}

/** `asOf`: the newest reading time; windowed samples of other sensors older than the window no longer count. */
export function conditionValue(c: CompoundCondition, bySensor: Readonly<Record<string, readonly WindowSample[]>>, asOf?: number): ConditionValue {
  const threshold = (c.above ?? c.below ?? c.rise ?? c.fall)!;
  const windowMs = c.window !== undefined ? durationMs(c.window) : undefined;
  const current = (samples: readonly WindowSample[]) => (asOf !== undefined && windowMs !== undefined ? samples.filter((s) => s.ts > asOf - windowMs) : samples);
  const values = Object.entries(bySensor)
    .map(([sensorId, samples]) => ({ sensorId, value: valueOf(c, current(samples)) }))
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
  const samples = rule.conditions.map((c, i) => {
    const current = state.samples[i] ?? {};
    const raw = reading.values[c.metric];
    if (raw === undefined || !conditionSensors[i]?.has(reading.sensorId)) return current;
    touched = true;
    // without a window a condition looks at the latest reading only
    const windowMs = c.window !== undefined ? durationMs(c.window) : 1;
    return { ...current, [reading.sensorId]: pushSample(current[reading.sensorId] ?? [], { ts: reading.ts, value: raw }, windowMs) };
  });
  if (!touched) return { state, transition: 'none' };
  const values = rule.conditions.map((c, i) => conditionValue(c, samples[i]!, reading.ts));
  const holds = values.every((v) => v.met);
  const first = values[0]!;
  const { cond, transition } = advanceCondition(state.cond, { holds, value: first.value, threshold: first.threshold }, now, durationMs(rule.for));
  return { state: { cond, samples }, transition };
}
