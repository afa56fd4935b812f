import type { Sensor } from '../config/city-config.ts';
import { dailyPeak } from './local-time.ts';
import { defineSimulator, fitToKind } from './simulator-contract.ts';
import { createWeather, MONTHLY_MEAN_TEMP, stepWeather, type WeatherState } from './weather-process.ts';

/**
 * Air-quality station. PM2.5 sits at 15-40 µg/m³ in Huế with morning (7-8h) and evening (17-19h) traffic
 * peaks and a night-time inversion; rain washes particles out; the dry season is dirtier. NO2 and CO
 * follow traffic, O3 follows afternoon sunshine. The `pollution` driver multiplies primary pollutants
 * (an episode: burning, a stagnant air mass), `rainfall` adds rain (mm/h) on top of the background weather.
 */
interface AirState {
  weather: WeatherState;
  /** how dirty the site is relative to the city background (market, transport > residential > coast) */
  siteFactor: number;
  trafficFactor: number;
  /** per-station bias so two stations never read identically */
  bias: number;
}

const SITE_FACTORS: Record<string, number> = {
  market: 1.2,
  transport: 1.3,
  industrial: 1.4,
  hospital: 1.05,
  heritage: 1,
  residential: 0.9,
  coastal: 0.7,
};
const TRAFFIC_FACTORS: Record<string, number> = {
  market: 1.2,
  transport: 1.4,
  industrial: 1.1,
  hospital: 1.1,
  heritage: 1,
  residential: 0.8,
  coastal: 0.6,
};
// Dry season (Jan-Apr) holds more dust and biomass smoke than the rainy season.
const SEASON = [1.25, 1.25, 1.2, 1.1, 1, 0.95, 0.95, 1, 0.9, 0.85, 0.85, 1.05];

export const airSimulator = defineSimulator<AirState>({
  kind: 'air',
  description: 'air-quality station: particulates, NO2, O3, CO, SO2, temperature and humidity',
  metrics: ['pm25', 'pm10', 'no2', 'o3', 'co', 'so2', 'temperature', 'relativeHumidity'],
  drivers: {
    pollution: { description: 'multiplier on primary pollutants (an episode)', unit: '1', default: 1, min: 0, max: 50 },
    rainfall: { description: 'rain added to the background weather', unit: 'mm/h', default: 0, min: 0, max: 300 },
  },
  createState(sensor: Sensor, rng) {
    const site = sensor.tags.site ?? '';
    return {
      weather: createWeather(rng),
      siteFactor: (SITE_FACTORS[site] ?? 1) * rng.uniform(0.9, 1.1),
      trafficFactor: (TRAFFIC_FACTORS[site] ?? 1) * rng.uniform(0.9, 1.1),
      bias: rng.normal(0.05),
    };
  },
  generate(state, _simTimeMs, { rng, local, stepMs, drivers, kind }) {
    const { hour, weekday, month } = local;
    const rain = stepWeather(state.weather, rng, month, stepMs) + (drivers.rainfall ?? 0);
    const weekend = weekday === 0 || weekday === 6;
    const rush = weekend
      ? 0.35 * dailyPeak(hour, 9.5, 2) + 0.45 * dailyPeak(hour, 18.5, 2)
      : 0.7 * dailyPeak(hour, 7.3, 1.1) + 0.8 * dailyPeak(hour, 17.8, 1.3);
    const nightTraffic = hour < 5 || hour > 23 ? 0.25 : 0.55;
    const traffic = state.trafficFactor * (nightTraffic + rush);
    // Night-time inversion traps particles near the ground; sunshine mixes them away at midday.
    const mixing = 1 + 0.25 * dailyPeak(hour, 3, 3) - 0.2 * dailyPeak(hour, 13, 2.5);
    const washout = 1 / (1 + 0.06 * rain);
    const episode = Math.max(0, drivers.pollution ?? 1);
    const weatherMul = Math.exp(0.2 * state.weather.anomaly);
    const noise = () => Math.exp(rng.normal(0.08));

    const pm25 =
      (12 + 14 * traffic) *
      state.siteFactor *
      SEASON[month - 1]! *
      mixing *
      washout *
      weatherMul *
      episode *
      noise() *
      (1 + state.bias);
    const pm10 = pm25 * rng.uniform(1.45, 1.85);
    const no2 = (8 + 32 * traffic) * mixing * episode ** 0.6 * noise();
    const co = (350 + 900 * traffic) * mixing * episode ** 0.7 * noise();
    const so2 = (6 + 6 * state.siteFactor) * episode ** 0.5 * noise();
    const sunshine = dailyPeak(hour, 14, 2.6) * (rain > 0.5 ? 0.4 : 1);
    const o3 = (18 + 75 * sunshine) * (month >= 4 && month <= 8 ? 1.15 : 0.9) * noise();

    const meanT = MONTHLY_MEAN_TEMP[month - 1]!;
    const temperature =
      meanT +
      4.2 * Math.cos(((hour - 14.5) / 24) * 2 * Math.PI) +
      1.2 * state.weather.anomaly -
      Math.min(2.5, 0.4 * rain) +
      rng.normal(0.2);
    const relativeHumidity = 80 - 3.2 * (temperature - meanT) + Math.min(15, 2 * rain) + rng.normal(1.5);

    return {
      values: {
        pm25: fitToKind(kind, 'pm25', pm25, 1),
        pm10: fitToKind(kind, 'pm10', pm10, 1),
        no2: fitToKind(kind, 'no2', no2, 1),
        o3: fitToKind(kind, 'o3', o3, 1),
        co: fitToKind(kind, 'co', co, 0),
        so2: fitToKind(kind, 'so2', so2, 1),
        temperature: fitToKind(kind, 'temperature', temperature, 1),
        relativeHumidity: fitToKind(kind, 'relativeHumidity', relativeHumidity, 0),
      },
    };
  },
});

export default airSimulator;
