import type { Random } from './seeded-random.ts';

/**
 * Background weather each outdoor device carries: showers as a two-state (dry/wet) Markov chain whose
 * odds follow Huế's seasons (rainy season September-December), and a slow day-to-day anomaly that
 * shifts temperatures and pollution. Scenario rainfall is added on top by the simulators.
 */
export interface WeatherState {
  wet: boolean;
  /** mm/h of the current shower */
  intensity: number;
  /** a unitless AR(1) anomaly, mean 0, sd about 1, correlation time one day */
  anomaly: number;
}

// Chance per hour that a shower starts, by month (index 0 = January); Huế gets ~70% of its rain Sep-Dec.
const START_PER_HOUR = [0.03, 0.02, 0.015, 0.02, 0.03, 0.03, 0.025, 0.035, 0.07, 0.1, 0.11, 0.08];
const MEAN_INTENSITY = [2, 1.5, 1.5, 2.5, 4, 4, 4, 4, 6, 7, 7, 5];
const STOP_PER_HOUR = 0.3;
const ANOMALY_TAU_H = 24;

export function createWeather(rng: Random): WeatherState {
  return { wet: false, intensity: 0, anomaly: rng.normal(0.5) };
}

/** Advances the weather by stepMs and returns the background rainfall (mm/h) now. */
export function stepWeather(state: WeatherState, rng: Random, month: number, stepMs: number): number {
  const hours = Math.max(0, stepMs) / 3_600_000;
  const decay = Math.exp(-hours / ANOMALY_TAU_H);
  state.anomaly = state.anomaly * decay + Math.sqrt(1 - decay * decay) * rng.normal();
  if (state.wet) {
    if (rng.chance(1 - (1 - STOP_PER_HOUR) ** hours)) state.wet = false;
  } else if (rng.chance(1 - (1 - START_PER_HOUR[month - 1]!) ** hours)) {
    state.wet = true;
    state.intensity = -Math.log(1 - rng.next()) * MEAN_INTENSITY[month - 1]!;
  }
  if (!state.wet) return 0;
  // showers fluctuate minute to minute
  return Math.max(0, state.intensity * (1 + rng.normal(0.25)));
}

/** Mean daily temperature in Huế by month (°C), from climate normals. */
export const MONTHLY_MEAN_TEMP = [20, 21, 23.5, 26.5, 28.5, 29.5, 29.5, 29, 27.5, 25.5, 23.5, 21];
