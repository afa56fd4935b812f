import type { Sensor } from '../config/city-config.ts';
import type { Random } from './seeded-random.ts';
import { defineSimulator, fitToKind } from './simulator-contract.ts';
import { createWeather, stepWeather, type WeatherState } from './weather-process.ts';

/**
 * Water stations by their `role` tag:
 * - `river-level`: stage (m above the gauge datum) from rainfall routed through a catchment of two linear
 *   reservoirs in series (a Nash cascade): the river answers rain hours later, rises at most ~0.4 m/h in
 *   a storm at Kim Long, and recedes more slowly over a day or two, as Huế's floods do. Stations with a
 *   `stationCode` (hydrological stations) also report flow. Calibrated per station from its flood alarm
 *   levels: dry-season stage at 40% of level I, about 15% above level III under 30 mm/h of sustained rain.
 * - `rain`: a tipping-bucket gauge (0.2 mm steps): precipitation fallen during the reading's interval.
 * - `quality` (or none of the above): pH, turbidity, dissolved oxygen, conductivity.
 * Drivers: `rainfall` (basin-average mm/h, on top of background showers) and `floodWave` (m): extra inflow
 * (an upstream dam release, a storm surge) that would hold the stage that much higher once steady; it is
 * routed through the same reservoirs so it rises and recedes at the river's own pace. `stuck` (0 or 1) is a
 * broken gauge: while it is 1 or more a river-level gauge repeats the stage it last reported, whatever the
 * river does (a float jammed on its wire), which the city's device-health rules flag as a flatline.
 */
type Role = 'river-level' | 'rain' | 'quality';

interface WaterState {
  role: Role;
  weather: WeatherState;
  /** storages of the two reservoirs, mm over the catchment */
  s1: number;
  s2: number;
  /** reservoir time constant, hours */
  k: number;
  baseLevel: number;
  /** metres of stage per mm/h of catchment outflow */
  gain: number;
  /** hydrological stations report flow; plain gauges do not */
  reportsFlow: boolean;
  areaKm2: number;
  tideAmplitude: number;
  tidePhase: number;
  /** how much more (or less) rain this gauge catches than the basin average (orography) */
  catchFactor: number;
  /** the stage last reported, repeated while `stuck` */
  lastLevel?: number;
}

const DESIGN_RAIN_MM_H = 30;
const MAX_SUBSTEP_H = 0.25;
const TIDE_PERIOD_H = 12.42;

function roleOf(sensor: Sensor): Role {
  const role = sensor.tags.role;
  return role === 'river-level' || role === 'rain' ? role : 'quality';
}

function createRiver(
  sensor: Sensor,
  rng: Random,
): Pick<WaterState, 'k' | 'baseLevel' | 'gain' | 'areaKm2' | 'tideAmplitude'> {
  const levels = sensor.floodLevels;
  const baseLevel = levels ? 0.4 * levels[0]! : 0.4 + rng.uniform(-0.05, 0.05);
  const gain = levels ? (1.15 * levels[2]! - baseLevel) / DESIGN_RAIN_MM_H : 0.11;
  return {
    k: 4 * rng.uniform(0.95, 1.05),
    baseLevel,
    gain,
    areaKm2: 1500 * rng.uniform(0.9, 1.1),
    tideAmplitude: levels ? 0.03 : 0.08,
  };
}

/** Routes `input` (mm/h) through both reservoirs for `hours`, in sub-steps short enough to stay smooth. */
function route(state: WaterState, input: number, hours: number): void {
  let left = hours;
  while (left > 1e-9) {
    const dt = Math.min(MAX_SUBSTEP_H, left);
    const decay = Math.exp(-dt / state.k);
    const q1Before = state.s1 / state.k;
    state.s1 = input * state.k + (state.s1 - input * state.k) * decay;
    const q1 = (q1Before + state.s1 / state.k) / 2;
    state.s2 = q1 * state.k + (state.s2 - q1 * state.k) * decay;
    left -= dt;
  }
}

export const waterSimulator = defineSimulator<WaterState>({
  kind: 'water',
  description: 'river-level stations (rainfall-driven flood waves), rain gauges and water-quality probes',
  metrics: ['waterLevel', 'flow', 'precipitation', 'pH', 'turbidity', 'dissolvedOxygen', 'conductivity'],
  drivers: {
    rainfall: {
      description: 'basin-average rain on top of background showers',
      unit: 'mm/h',
      default: 0,
      min: 0,
      max: 300,
    },
    floodWave: {
      description: 'extra inflow (dam release, surge) as the stage rise it would hold once steady',
      unit: 'm',
      default: 0,
      min: 0,
      max: 15,
    },
    stuck: {
      description: 'a broken gauge: 1 repeats the last reported stage (river-level gauges only)',
      unit: '1',
      default: 0,
      min: 0,
      max: 1,
    },
  },
  createState(sensor, rng) {
    const role = roleOf(sensor);
    const river = createRiver(sensor, rng);
    const baseflow = rng.uniform(0.3, 0.8);
    return {
      role,
      weather: createWeather(rng),
      s1: baseflow * river.k,
      s2: baseflow * river.k,
      ...river,
      reportsFlow: Boolean(sensor.tags.stationCode),
      tidePhase: rng.uniform(0, 2 * Math.PI),
      catchFactor: rng.uniform(0.8, 1.3),
    };
  },
  generate(state, simTimeMs, { rng, local, stepMs, drivers, kind }) {
    const hours = stepMs / 3_600_000;
    const rain = stepWeather(state.weather, rng, local.month, stepMs) + (drivers.rainfall ?? 0);
    if (state.role === 'rain') {
      const fallen = rain * state.catchFactor * hours;
      return { values: { precipitation: fitToKind(kind, 'precipitation', Math.round(fallen / 0.2) * 0.2, 1) } };
    }
    const waveInput = (drivers.floodWave ?? 0) / state.gain;
    route(state, rain + waveInput, hours);
    const q = state.s2 / state.k;
    if (state.role === 'river-level') {
      const tide =
        state.tideAmplitude * Math.sin((2 * Math.PI * simTimeMs) / (TIDE_PERIOD_H * 3_600_000) + state.tidePhase);
      const level = state.baseLevel + state.gain * q + tide + rng.normal(0.005);
      const stuck = (drivers.stuck ?? 0) >= 1 && state.lastLevel !== undefined;
      const waterLevel = stuck ? state.lastLevel! : fitToKind(kind, 'waterLevel', level, 2);
      state.lastLevel = waterLevel;
      const values: Record<string, number> = { waterLevel };
      if (state.reportsFlow)
        values.flow = fitToKind(kind, 'flow', 20 + ((state.areaKm2 * q) / 3.6) * (1 + rng.normal(0.02)), 0);
      return { values };
    }
    return {
      values: {
        pH: fitToKind(kind, 'pH', 7.2 - 0.03 * q + rng.normal(0.05), 2),
        turbidity: fitToKind(kind, 'turbidity', 8 + 25 * q + rng.normal(1), 1),
        dissolvedOxygen: fitToKind(
          kind,
          'dissolvedOxygen',
          7.4 + 0.8 * Math.cos(((local.hour - 15) / 24) * 2 * Math.PI) + rng.normal(0.1),
          2,
        ),
        conductivity: fitToKind(kind, 'conductivity', 180 / (1 + 0.05 * q) + rng.normal(5), 0),
      },
    };
  },
});

export default waterSimulator;
