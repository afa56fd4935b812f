import { readFileSync } from 'node:fs';
import { projectPath } from '../core/project-root.ts';
import { z } from 'zod';

/**
 * VN_AQI, Quyết định 1459/QĐ-TCMT (12/11/2019), from the reference table in config/reference/vn-aqi.json
 * (a copy of ../shared/data/vn-aqi.json). Concentrations in µg/m³. Pure functions; the AQI tracker feeds
 * them hourly averages.
 */
const referenceSchema = z.object({
  categories: z.array(
    z.object({
      min: z.number(),
      max: z.number(),
      vi: z.string(),
      en: z.string(),
      rgb: z.tuple([z.number(), z.number(), z.number()]),
    }),
  ),
  index: z.array(z.number()),
  breakpoints: z.object({
    o3_1h: z.array(z.number().nullable()),
    o3_8h: z.array(z.number().nullable()),
    co: z.array(z.number().nullable()),
    so2: z.array(z.number().nullable()),
    no2: z.array(z.number().nullable()),
    pm10: z.array(z.number().nullable()),
    pm25: z.array(z.number().nullable()),
  }),
});

const reference = referenceSchema.parse(
  JSON.parse(readFileSync(projectPath('config', 'reference', 'vn-aqi.json'), 'utf8')),
);

export type AqiPollutant = keyof typeof reference.breakpoints;
/** The air kind's metrics that enter the hourly index (O3 uses its 1-hour table). */
export const HOURLY_POLLUTANTS = ['pm25', 'pm10', 'o3', 'no2', 'co', 'so2'] as const;
export type HourlyPollutant = (typeof HOURLY_POLLUTANTS)[number];

/** Rounds half up after cutting float noise (109.49999999 from 55.7 µg/m³ is 109.5 in the decision). */
export function roundAqi(x: number): number {
  return Math.round(Number(x.toFixed(6)));
}

/**
 * Sub-index by linear interpolation between the breakpoints BP_i <= C < BP_i+1 (Công thức 1/2). At or
 * above the last breakpoint the index is 500; undefined where the table has no row (O3 8h over 400).
 */
export function subIndex(pollutant: AqiPollutant, concentration: number): number | undefined {
  const bps = reference.breakpoints[pollutant];
  const idx = reference.index;
  if (!Number.isFinite(concentration) || concentration < 0) return undefined;
  for (let i = 0; i + 1 < bps.length; i++) {
    const lo = bps[i];
    const hi = bps[i + 1];
    if (lo === null || lo === undefined) return undefined;
    if (hi === null || hi === undefined) return undefined;
    if (concentration >= lo && concentration < hi) {
      return ((idx[i + 1]! - idx[i]!) / (hi - lo)) * (concentration - lo) + idx[i]!;
    }
  }
  return bps[bps.length - 1] !== null ? idx[idx.length - 1] : undefined;
}

/**
 * NowCast over the last 12 hourly averages, c[0] the current hour. As written in the decision: w* =
 * Cmin/Cmax; w = 1/2 when w* <= 1/2; for w > 1/2 a weighted mean; for w = 1/2 Σ (1/2)^i c_i (not
 * normalised). Needs at least 2 of the 3 latest hours; a missing hour weighs 0.
 */
export function nowCast(hourly: ReadonlyArray<number | undefined>): number | undefined {
  const c = Array.from({ length: 12 }, (_, i) => hourly[i]);
  if (c.slice(0, 3).filter((v) => v !== undefined).length < 2) return undefined;
  const present = c.filter((v): v is number => v !== undefined);
  const max = Math.max(...present);
  const min = Math.min(...present);
  const wStar = max > 0 ? min / max : 1;
  if (wStar > 0.5) {
    let num = 0;
    let den = 0;
    c.forEach((v, i) => {
      if (v === undefined) return;
      num += wStar ** i * v;
      den += wStar ** i;
    });
    return num / den;
  }
  return c.reduce<number>((sum, v, i) => (v === undefined ? sum : sum + 0.5 ** (i + 1) * v), 0);
}

export interface AqiCategory {
  readonly vi: string;
  readonly en: string;
  readonly rgb: readonly [number, number, number];
  readonly hex: string;
}

export function aqiCategory(aqi: number): AqiCategory {
  const rounded = roundAqi(aqi);
  const found =
    reference.categories.find((c) => rounded >= c.min && rounded <= c.max) ??
    reference.categories[reference.categories.length - 1]!;
  const hex = `#${found.rgb.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
  return { vi: found.vi, en: found.en, rgb: found.rgb, hex };
}

export interface AqiResult {
  /** the overall index, rounded to an integer */
  readonly aqi: number;
  /** unrounded sub-indices of the pollutants that had data */
  readonly subIndices: Readonly<Partial<Record<string, number>>>;
  /** the pollutant with the highest sub-index */
  readonly dominant: string;
  readonly category: AqiCategory;
}

function combine(sub: Partial<Record<string, number>>): AqiResult | undefined {
  // the decision requires PM10 or PM2.5
  if (sub.pm25 === undefined && sub.pm10 === undefined) return undefined;
  let dominant = '';
  let max = -1;
  for (const [k, v] of Object.entries(sub))
    if (v !== undefined && v > max) {
      max = v;
      dominant = k;
    }
  const aqi = roundAqi(max);
  return { aqi, subIndices: sub, dominant, category: aqiCategory(aqi) };
}

/**
 * Hourly AQI (AQI^h). `hours[p]` are the pollutant's hourly averages, current hour first (12 for PM, whose
 * NowCast needs them; gases use the current hour only).
 */
export function hourlyAqi(
  hours: Readonly<Partial<Record<HourlyPollutant, ReadonlyArray<number | undefined>>>>,
): AqiResult | undefined {
  const sub: Partial<Record<string, number>> = {};
  for (const p of ['pm25', 'pm10'] as const) {
    const series = hours[p];
    const nc = series ? nowCast(series) : undefined;
    if (nc !== undefined) sub[p] = subIndex(p, nc);
  }
  for (const p of ['o3', 'no2', 'co', 'so2'] as const) {
    const current = hours[p]?.[0];
    if (current !== undefined) sub[p] = subIndex(p === 'o3' ? 'o3_1h' : p, current);
  }
  return combine(sub);
}

export interface DailyInputs {
  /** 24-hour averages */
  readonly pm25?: number;
  readonly pm10?: number;
  /** the day's highest 1-hour averages */
  readonly o3Max1h?: number;
  readonly no2Max1h?: number;
  readonly coMax1h?: number;
  readonly so2Max1h?: number;
  /** the day's highest 8-hour average */
  readonly o3Max8h?: number;
}

/** Daily AQI (AQI^d); O3 takes the larger of its 1h and 8h sub-indices (only 1h when the 8h max > 400). */
export function dailyAqi(d: DailyInputs): AqiResult | undefined {
  const sub: Partial<Record<string, number>> = {};
  if (d.pm25 !== undefined) sub.pm25 = subIndex('pm25', d.pm25);
  if (d.pm10 !== undefined) sub.pm10 = subIndex('pm10', d.pm10);
  if (d.no2Max1h !== undefined) sub.no2 = subIndex('no2', d.no2Max1h);
  if (d.coMax1h !== undefined) sub.co = subIndex('co', d.coMax1h);
  if (d.so2Max1h !== undefined) sub.so2 = subIndex('so2', d.so2Max1h);
  const o3 = [
    d.o3Max1h !== undefined ? subIndex('o3_1h', d.o3Max1h) : undefined,
    d.o3Max8h !== undefined && d.o3Max8h <= 400 ? subIndex('o3_8h', d.o3Max8h) : undefined,
  ].filter((v): v is number => v !== undefined);
  if (o3.length) sub.o3 = Math.max(...o3);
  return combine(sub);
}
