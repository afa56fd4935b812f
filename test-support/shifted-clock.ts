import { systemClock, type Clock } from '../core/clock.ts';

/**
 * Real time moved to another instant: timers run as usual, `now()` starts at `start`. For tests that
 * replay a documented payload with its own timestamps (ChirpStack's examples are from 2022) through a
 * platform whose age limits would otherwise refuse them.
 */
export function shiftedClock(start: number): Clock {
  const offset = start - Date.now();
  return { ...systemClock, now: () => Date.now() + offset };
}
