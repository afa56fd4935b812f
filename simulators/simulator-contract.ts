import type { Sensor, SensorKind } from '../config/city-config.ts';
import type { LocalTime } from './local-time.ts';
import type { Random } from './seeded-random.ts';

/**
 * The contract every sensor-kind simulator exports (one file per kind, `simulators/*-simulator.ts`, default
 * export or a named `simulator` export). A simulator is pure: readings depend only on the state it made,
 * the simulated time and the seeded random source, so a scenario's seed fixes every reading.
 */

/** A scenario-controlled input such as `rainfall` (mm/h) or `incident` (0-1). */
export interface DriverSpec {
  readonly description: string;
  readonly unit: string;
  /** the value when no scenario effect sets it */
  readonly default: number;
  readonly min: number;
  readonly max: number;
}

export interface SimulatorContext {
  /** the device's random source, seeded from the scenario seed and the sensor id */
  readonly rng: Random;
  /** city-local calendar fields of simTimeMs (daily and weekly cycles) */
  readonly local: LocalTime;
  /** simulated ms since this device's previous generate call (its reading interval) */
  readonly stepMs: number;
  /** driver values in force for this sensor now: the scenario's effects over the drivers' defaults */
  readonly drivers: Readonly<Record<string, number>>;
  /** the sensor kind's schema (metric ranges): generators clamp to it */
  readonly kind: SensorKind;
}

export interface SimulatedEvent {
  /** one of the kind's eventTypes */
  readonly type: string;
  readonly data: Readonly<Record<string, string | number | boolean>>;
}

export interface SimulatorOutput {
  /** metric values measured at simTimeMs (the runner stamps them); omitted while the device is offline */
  readonly values?: Readonly<Record<string, number>>;
  readonly events?: readonly SimulatedEvent[];
  /** set when the device goes offline or comes back at this step */
  readonly status?: 'online' | 'offline';
}

export interface Simulator<State> {
  /** the sensor kind this plays (a file in config/kinds/) */
  readonly kind: string;
  readonly description: string;
  /** metrics it reports, a subset of the kind's metrics */
  readonly metrics: readonly string[];
  /** inputs scenarios can drive; effects naming anything else are rejected when the scenario loads */
  readonly drivers: Readonly<Record<string, DriverSpec>>;
  createState(sensor: Sensor, rng: Random): State;
  generate(state: State, simTimeMs: number, ctx: SimulatorContext): SimulatorOutput;
}

/** A simulator with its state type erased, as the registry and runner hold it. */
export interface AnySimulator {
  readonly kind: string;
  readonly description: string;
  readonly metrics: readonly string[];
  readonly drivers: Readonly<Record<string, DriverSpec>>;
  createState(sensor: Sensor, rng: Random): unknown;
  generate(state: unknown, simTimeMs: number, ctx: SimulatorContext): SimulatorOutput;
}

/** Type-checks a simulator against its own state type, then erases it for the registry. */
export function defineSimulator<State>(simulator: Simulator<State>): AnySimulator {
  return simulator as unknown as AnySimulator;
}

/** Clamps to the kind's range and rounds to `decimals` (integer metrics to whole numbers). */
export function fitToKind(kind: SensorKind, metric: string, value: number, decimals = 2): number {
  const spec = kind.metrics[metric];
  if (!spec) throw new RangeError(`kind "${kind.kind}" has no metric "${metric}"`);
  const clamped = Math.min(spec.max, Math.max(spec.min, Number.isFinite(value) ? value : spec.min));
  if (spec.integer) return Math.round(clamped);
  const f = 10 ** decimals;
  return Math.round(clamped * f) / f;
}
