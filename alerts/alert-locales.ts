import { readFileSync } from 'node:fs';
import { projectPath } from '../core/project-root.ts';
import type { City, Sensor } from '../config/city-config.ts';
import { formatDuration } from '../core/duration.ts';
import { ownValue } from '../config/lookup-table.ts';
import type { I18nText } from './alert-model.ts';

/**
 * The shared vocabulary of alert texts in Vietnamese and English (locales/{vi,en}.json: the title pattern,
 * sub-category and event-type names, metric labels) and the helpers every rule type's text uses. Each
 * rule type's own message templates live in its file (rule-type.ts).
 */
export type Lang = 'vi' | 'en';
export const LANGS: readonly Lang[] = ['vi', 'en'];

interface Locale {
  title: string;
  subCategory: Record<string, string>;
  eventType: Record<string, string>;
  metric: Record<string, string>;
  resolvedByRule: string;
  ruleRemoved: string;
}

const load = (lang: Lang): Locale =>
  JSON.parse(readFileSync(projectPath('alerts', 'locales', `${lang}.json`), 'utf8')) as Locale;
export const LOCALES: Readonly<Record<Lang, Locale>> = { vi: load('vi'), en: load('en') };
const NUMBER = {
  vi: new Intl.NumberFormat('vi-VN', { maximumFractionDigits: 2 }),
  en: new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 }),
};
const DISPLAY_UNIT: Record<string, string> = {
  'ug/m3': 'µg/m³',
  'm3/s': 'm³/s',
  Cel: '°C',
  '1': '',
  '{vehicle}': '',
  '{person}': '',
  '[pH]': '',
  '[NTU]': 'NTU',
};

const DURATION_UNITS: Record<Lang, Array<[number, string]>> = {
  vi: [
    [86_400_000, 'ngày'],
    [3_600_000, 'giờ'],
    [60_000, 'phút'],
    [1000, 'giây'],
  ],
  en: [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1000, 's'],
  ],
};

/** "1 giờ 30 phút" / "1 h 30 min": windows as people read them in a message. */
export function formatDurationText(ms: number, lang: Lang): string {
  const parts: string[] = [];
  let rest = ms;
  for (const [size, unit] of DURATION_UNITS[lang]) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n} ${unit}`);
    rest -= n * size;
  }
  return parts.join(' ') || formatDuration(ms);
}

export function i18n(pick: (l: Locale) => string): I18nText {
  return { vi: pick(LOCALES.vi), en: pick(LOCALES.en) };
}

export function fillTemplate(template: string, vars: Readonly<Record<string, string | undefined>>): string {
  return template
    .replace(/\{(\w+)\}/g, (whole, name: string) => ownValue(vars, name) ?? whole)
    .replace(/ {2,}/g, ' ')
    .replace(/ ([),;])/g, '$1')
    .trim();
}

export function formatNumber(value: number | undefined, lang: Lang): string | undefined {
  return value === undefined ? undefined : NUMBER[lang].format(value);
}

export function metricUnit(city: City, sensor: Sensor, metric: string): string {
  const unit = city.kinds.get(sensor.kind)?.metrics[metric]?.unit ?? '';
  return ownValue(DISPLAY_UNIT, unit) ?? unit;
}

export function metricLabel(city: City, kind: string, metric: string, lang: Lang): string {
  return city.kinds.get(kind)?.metrics[metric]?.label[lang] ?? ownValue(LOCALES[lang].metric, metric) ?? metric;
}
