/**
 * The lifecycle every rule type shares, kept apart from what each type measures: a condition is inactive,
 * pending (holds, but not yet for `for`) or firing. Pure functions of (state, observation, time), so rule
 * semantics are tested in simulated time and replayed unchanged by the backtest.
 */
export type Phase = 'inactive' | 'pending' | 'firing';

export interface Condition {
  readonly phase: Phase;
  /** when the condition started to hold (epoch ms) */
  readonly since?: number;
  readonly value?: number;
  readonly threshold?: number;
}

export const INACTIVE: Condition = { phase: 'inactive' };

export type Transition = 'none' | 'pending' | 'firing' | 'resolved';

export interface Observation {
  readonly holds: boolean;
  readonly value?: number;
  readonly threshold?: number;
}

export interface Step<S> {
  readonly state: S;
  readonly transition: Transition;
}

/** Moves the condition on an observation. `for` of 0 fires at once (no pending event). */
export function advanceCondition(
  cond: Condition,
  obs: Observation,
  now: number,
  forMs: number,
): { cond: Condition; transition: Transition } {
  if (!obs.holds) {
    return cond.phase === 'inactive' ? { cond, transition: 'none' } : { cond: INACTIVE, transition: 'resolved' };
  }
  const since = cond.phase === 'inactive' ? now : (cond.since ?? now);
  const next = { since, value: obs.value, threshold: obs.threshold };
  if (cond.phase === 'firing') return { cond: { ...next, phase: 'firing' }, transition: 'none' };
  if (now - since >= forMs) return { cond: { ...next, phase: 'firing' }, transition: 'firing' };
  return { cond: { ...next, phase: 'pending' }, transition: cond.phase === 'pending' ? 'none' : 'pending' };
}

/** A pending condition that has held for `for` fires even if no new reading arrives (clock timer). */
export function promoteIfDue(cond: Condition, now: number, forMs: number): { cond: Condition; transition: Transition } {
  if (cond.phase === 'pending' && cond.since !== undefined && now - cond.since >= forMs) {
    return { cond: { ...cond, phase: 'firing' }, transition: 'firing' };
  }
  return { cond, transition: 'none' };
}

/** When a pending condition is due to fire, for the service's timer. */
export function pendingDueAt(cond: Condition, forMs: number): number | undefined {
  return cond.phase === 'pending' && cond.since !== undefined ? cond.since + forMs : undefined;
}
