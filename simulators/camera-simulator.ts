import type { Sensor } from '../config/city-config.ts';
import { dailyPeak } from './local-time.ts';
import type { Random } from './seeded-random.ts';
import { defineSimulator, fitToKind, type SimulatedEvent } from './simulator-contract.ts';

/**
 * Camera with on-board analytics. Readings: vehicles counted in the interval and people in view. Events at
 * plausible rates per site: crowds at markets and stations at peak hours, intrusions mostly at night at
 * guarded sites, wrong-way riders on bridges, plate reads at transport hubs, a vehicle-count summary each
 * hour, and (rarely) smoke or fire. Cameras drop offline about every three days for 5-90 minutes (power,
 * network) and come back. Drivers: `offline` (1 forces an outage), `crowd` (multiplier on people),
 * `smokeFire` and `intrusion` (extra events per hour).
 */
interface CameraState {
  site: string;
  online: boolean;
  offlineUntil: number;
  vehiclesPerHour: number;
  peoplePeak: number;
  crowdThreshold: number;
  inCrowd: boolean;
  vehiclesThisHour: number;
  hourStartedAt: number;
}

interface SiteProfile {
  vehiclesPerHour: number;
  peoplePeak: number;
  intrusionNight: number;
  wrongWay: number;
  plates: number;
}
const SITES: Record<string, SiteProfile> = {
  heritage: { vehiclesPerHour: 300, peoplePeak: 120, intrusionNight: 0.04, wrongWay: 0, plates: 0 },
  market: { vehiclesPerHour: 700, peoplePeak: 260, intrusionNight: 0.02, wrongWay: 0.05, plates: 0 },
  bridge: { vehiclesPerHour: 2200, peoplePeak: 40, intrusionNight: 0, wrongWay: 0.3, plates: 0 },
  transport: { vehiclesPerHour: 900, peoplePeak: 220, intrusionNight: 0.03, wrongWay: 0.05, plates: 4 },
  coastal: { vehiclesPerHour: 150, peoplePeak: 180, intrusionNight: 0.01, wrongWay: 0, plates: 0 },
  hospital: { vehiclesPerHour: 400, peoplePeak: 150, intrusionNight: 0.03, wrongWay: 0, plates: 0 },
};
const OUTAGES_PER_HOUR = 1 / 72;
const SMOKE_FIRE_PER_HOUR = 0.0005;

function chanceIn(rng: Random, perHour: number, hours: number): number {
  return rng.poisson(perHour * hours);
}

function plate(rng: Random): string {
  // Huế registrations start with 75; the series letter and number are random.
  return (
    `75${rng.pick(['A', 'B', 'C', 'D', 'F', 'H', 'K', 'L'])}-${rng.int(100, 999)}.` +
    `${String(rng.int(0, 99)).padStart(2, '0')}`
  );
}

export const cameraSimulator = defineSimulator<CameraState>({
  kind: 'camera',
  description: 'analytics camera: vehicle and people counts, detections as events, outages',
  metrics: ['vehicleCount', 'personCount'],
  drivers: {
    offline: { description: '1 holds the camera offline (an outage)', unit: '1', default: 0, min: 0, max: 1 },
    crowd: {
      description: 'multiplier on people in view (a festival, an evacuation)',
      unit: '1',
      default: 1,
      min: 0,
      max: 20,
    },
    smokeFire: { description: 'extra smoke or fire detections', unit: '1/h', default: 0, min: 0, max: 120 },
    intrusion: { description: 'extra intrusion detections', unit: '1/h', default: 0, min: 0, max: 120 },
  },
  createState(sensor: Sensor, rng) {
    const site = SITES[sensor.tags.site ?? ''] ? sensor.tags.site! : 'heritage';
    const profile = SITES[site]!;
    const peoplePeak = profile.peoplePeak * rng.uniform(0.8, 1.2);
    return {
      site,
      online: true,
      offlineUntil: 0,
      vehiclesPerHour: profile.vehiclesPerHour * rng.uniform(0.8, 1.2),
      peoplePeak,
      crowdThreshold: Math.max(60, peoplePeak * 1.15),
      inCrowd: false,
      vehiclesThisHour: 0,
      hourStartedAt: -1,
    };
  },
  generate(state, simTimeMs, { rng, local, stepMs, drivers, kind }) {
    const hours = stepMs / 3_600_000;
    const forced = (drivers.offline ?? 0) >= 0.5;
    const wasOnline = state.online;
    if (state.online && (forced || rng.chance(1 - (1 - OUTAGES_PER_HOUR) ** hours))) {
      state.online = false;
      state.offlineUntil = simTimeMs + Math.min(90, 5 + -Math.log(1 - rng.next()) * 25) * 60_000;
    } else if (!state.online && !forced && simTimeMs >= state.offlineUntil) {
      state.online = true;
    }
    const status = state.online === wasOnline ? undefined : state.online ? ('online' as const) : ('offline' as const);
    if (!state.online) return { status };

    const profile = SITES[state.site]!;
    const { hour } = local;
    const activity =
      0.08 +
      0.5 * dailyPeak(hour, 7.5, 1.5) +
      0.45 * dailyPeak(hour, 11, 2) +
      0.7 * dailyPeak(hour, 17.5, 2) +
      (state.site === 'coastal' || state.site === 'heritage' ? 0.5 * dailyPeak(hour, 19.5, 2) : 0);
    const vehicles = rng.poisson(state.vehiclesPerHour * Math.min(1, activity) * hours);
    const people = Math.round(
      state.peoplePeak * Math.min(1.1, activity) * (drivers.crowd ?? 1) * Math.exp(rng.normal(0.15)),
    );

    const events: SimulatedEvent[] = [];
    const confidence = () => Math.round(rng.uniform(0.62, 0.99) * 100) / 100;
    if (people > state.crowdThreshold && !state.inCrowd)
      events.push({ type: 'crowd', data: { personCount: people, confidence: confidence() } });
    state.inCrowd = people > state.crowdThreshold * 0.85;
    const night = hour >= 22 || hour < 5;
    const intrusions = chanceIn(
      rng,
      (night ? profile.intrusionNight : profile.intrusionNight / 10) + (drivers.intrusion ?? 0),
      hours,
    );
    for (let i = 0; i < intrusions; i++)
      events.push({
        type: 'intrusion',
        data: { zone: rng.pick(['perimeter', 'gate', 'restricted']), confidence: confidence() },
      });
    const fires = chanceIn(rng, SMOKE_FIRE_PER_HOUR + (drivers.smokeFire ?? 0), hours);
    for (let i = 0; i < fires; i++)
      events.push({ type: 'smokeFire', data: { smoke: true, fire: rng.chance(0.4), confidence: confidence() } });
    for (let i = chanceIn(rng, profile.wrongWay * activity, hours); i > 0; i--)
      events.push({ type: 'wrongWay', data: { lane: rng.int(1, 2), confidence: confidence() } });
    for (let i = chanceIn(rng, profile.plates * activity, hours); i > 0; i--)
      events.push({ type: 'plateRead', data: { plate: plate(rng), confidence: confidence() } });

    const hourStart = Math.floor(simTimeMs / 3_600_000) * 3_600_000;
    if (state.hourStartedAt >= 0 && hourStart !== state.hourStartedAt) {
      events.push({ type: 'vehicleCount', data: { count: state.vehiclesThisHour, periodSeconds: 3600 } });
      state.vehiclesThisHour = 0;
    }
    state.hourStartedAt = hourStart;
    state.vehiclesThisHour += vehicles;

    return {
      status,
      values: {
        vehicleCount: fitToKind(kind, 'vehicleCount', vehicles),
        personCount: fitToKind(kind, 'personCount', people),
      },
      events,
    };
  },
});

export default cameraSimulator;
