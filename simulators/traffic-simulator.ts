import type { Sensor } from '../config/city-config.ts';
import { dailyPeak } from './local-time.ts';
import { defineSimulator, fitToKind } from './simulator-contract.ts';

/**
 * Traffic counter. Demand follows the day: quiet nights, sharp weekday rush hours (7-8h, 17-18h, when
 * Huế's schools and offices open and close) and flatter, later weekend peaks. Speed falls with the
 * volume/capacity ratio (the BPR curve); occupancy is density times the effective length of a mostly
 * motorbike fleet. Incidents (a crash, a stalled truck) cut capacity for 15-60 minutes at random, more
 * often when the road is busy; the `incident` driver forces one, `demand` scales traffic (a festival).
 * `intensity` counts vehicles during the reading's interval, so it scales with the interval.
 */
interface TrafficState {
  /** vehicles per hour the section carries before it saturates */
  capacity: number;
  freeFlowKmh: number;
  lanes: number;
  incidentUntil: number;
  incidentSeverity: number;
}

const ROADS: Record<string, { capacity: number; freeFlowKmh: number; lanes: number }> = {
  bridge: { capacity: 2600, freeFlowKmh: 38, lanes: 2 },
  junction: { capacity: 2200, freeFlowKmh: 32, lanes: 2 },
  highway: { capacity: 3400, freeFlowKmh: 62, lanes: 2 },
};
/** mixed traffic, mostly motorbikes: average vehicle plus detector length, km */
const EFFECTIVE_LENGTH_KM = 0.005;

function demandProfile(hour: number, weekday: number): number {
  const weekend = weekday === 0 || weekday === 6;
  const daytime = 1 / (1 + Math.exp(-(hour - 6) * 2)) - 1 / (1 + Math.exp(-(hour - 21.5) * 1.5));
  const base = 0.06 + 0.4 * daytime;
  return weekend
    ? base + 0.25 * dailyPeak(hour, 10, 2) + 0.35 * dailyPeak(hour, 19, 2)
    : base + 0.55 * dailyPeak(hour, 7.2, 0.8) + 0.2 * dailyPeak(hour, 11.5, 0.7) + 0.6 * dailyPeak(hour, 17.3, 1);
}

export const trafficSimulator = defineSimulator<TrafficState>({
  kind: 'traffic',
  description: 'traffic counter: vehicle counts, average speed, occupancy and congestion',
  metrics: ['intensity', 'averageVehicleSpeed', 'occupancy', 'congested'],
  drivers: {
    incident: {
      description: 'capacity lost to an incident (0 none, 1 road closed)',
      unit: '1',
      default: 0,
      min: 0,
      max: 1,
    },
    demand: {
      description: 'multiplier on traffic demand (a festival, a holiday exodus)',
      unit: '1',
      default: 1,
      min: 0,
      max: 5,
    },
  },
  createState(sensor: Sensor, rng) {
    const road = ROADS[sensor.tags.road ?? ''] ?? ROADS.junction!;
    return {
      capacity: road.capacity * rng.uniform(0.85, 1.15),
      freeFlowKmh: road.freeFlowKmh * rng.uniform(0.9, 1.1),
      lanes: road.lanes,
      incidentUntil: 0,
      incidentSeverity: 0,
    };
  },
  generate(state, simTimeMs, { rng, local, stepMs, drivers, kind }) {
    const hours = stepMs / 3_600_000;
    const demand =
      state.capacity * demandProfile(local.hour, local.weekday) * (drivers.demand ?? 1) * Math.exp(rng.normal(0.07));
    if (simTimeMs >= state.incidentUntil) {
      state.incidentSeverity = 0;
      const perHour = 0.008 * (1 + 3 * Math.min(1, demand / state.capacity));
      if (rng.chance(1 - (1 - perHour) ** hours)) {
        state.incidentSeverity = rng.uniform(0.3, 0.8);
        state.incidentUntil = simTimeMs + rng.uniform(15, 60) * 60_000;
      }
    }
    const severity = Math.max(state.incidentSeverity, drivers.incident ?? 0);
    const capacity = Math.max(1, state.capacity * (1 - 0.85 * severity));
    const ratio = demand / capacity;
    const flow = Math.min(demand, capacity * 1.02);
    const speed = Math.max(3, (state.freeFlowKmh / (1 + 0.15 * ratio ** 4)) * (1 + rng.normal(0.04)));
    const occupancy = Math.min(0.97, (flow / speed / state.lanes) * EFFECTIVE_LENGTH_KM * (1 + rng.normal(0.05)));
    const congested = speed < 0.4 * state.freeFlowKmh || occupancy > 0.45 ? 1 : 0;
    return {
      values: {
        intensity: fitToKind(kind, 'intensity', rng.poisson(flow * hours), 0),
        averageVehicleSpeed: fitToKind(kind, 'averageVehicleSpeed', speed, 1),
        occupancy: fitToKind(kind, 'occupancy', occupancy, 3),
        congested: fitToKind(kind, 'congested', congested, 0),
      },
    };
  },
});

export default trafficSimulator;
