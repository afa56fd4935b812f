import { readFileSync } from 'node:fs';
import type { City, Sensor } from '../config/city-config.ts';
import type { I18nText } from './alert-model.ts';
import { aqiCategory } from './vn-aqi.ts';
import type { ConditionValue } from './compound-rule.ts';
import { formatDuration } from '../config/duration.ts';
import { durationMs, type Rule } from './rule-schema.ts';
import { ownValue } from '../config/lookup-table.ts';

/**
 * Alert titles and messages in Vietnamese and English, from the translation files in locales/. A rule's
 * own `title`/`message` templates win over the defaults; both take {value} {threshold} {unit} {sensor}
 * {metric} {district} {level} {window} {eventType}, and {category} (the VN_AQI category) for vnAqi.
 */
type Locale = {
  title: string;
  subCategory: Record<string, string>;
  message: Record<string, string>;
  condition: Record<string, string>;
  eventType: Record<string, string>;
  metric: Record<string, string>;
  resolvedByRule: string;
  ruleRemoved: string;
};
type Lang = 'vi' | 'en';

const load = (lang: Lang): Locale => JSON.parse(readFileSync(new URL(`./locales/${lang}.json`, import.meta.url), 'utf8')) as Locale;
export const LOCALES: Readonly<Record<Lang, Locale>> = { vi: load('vi'), en: load('en') };
const LANGS: readonly Lang[] = ['vi', 'en'];
const NUMBER = { vi: new Intl.NumberFormat('vi-VN', { maximumFractionDigits: 2 }), en: new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 }) };
const DISPLAY_UNIT: Record<string, string> = { 'ug/m3': 'µg/m³', 'm3/s': 'm³/s', Cel: '°C', '1': '', '{vehicle}': '', '{person}': '', '[pH]': '', '[NTU]': 'NTU' };
const ROMAN = ['I', 'II', 'III'];

const DURATION_UNITS: Record<Lang, Array<[number, string]>> = {
  vi: [[86_400_000, 'ngày'], [3_600_000, 'giờ'], [60_000, 'phút'], [1000, 'giây']],
  en: [[86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'min'], [1000, 's']],
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

function metricLabel(city: City, kind: string, metric: string, lang: Lang): string {
  return city.kinds.get(kind)?.metrics[metric]?.label[lang] ?? ownValue(LOCALES[lang].metric, metric) ?? metric;
}

export interface AlertFacts {
  readonly title: I18nText;
  readonly message: I18nText;
  readonly metric?: string;
  readonly value?: number;
  readonly threshold?: number;
  readonly unit?: string;
}

export interface DescribeInput {
  readonly rule: Rule;
  readonly sensor: Sensor;
  readonly city: City;
  readonly value?: number;
  readonly threshold?: number;
  /** compound rules: each condition's deciding value */
  readonly conditions?: readonly ConditionValue[];
  /** noData: whether the device said offline (else it went silent) */
  readonly offline?: boolean;
}

function messageKey(input: DescribeInput): string {
  const { rule } = input;
  switch (rule.kind) {
    case 'threshold': return rule.floodLevel !== undefined ? 'floodLevel' : rule.below !== undefined ? 'below' : 'above';
    case 'rateOfChange': return rule.rise !== undefined ? 'rise' : 'fall';
    case 'noData': return input.offline ? 'offline' : 'silence';
    case 'cameraEvent': return 'cameraEvent';
    case 'compound': return 'compound';
  }
}

function describeConditions(input: DescribeInput, lang: Lang): string {
  if (input.rule.kind !== 'compound' || !input.conditions) return '';
  const loc = LOCALES[lang];
  return input.rule.conditions.map((c, i) => {
    const v = input.conditions?.[i];
    const at = v?.sensorId ? input.city.sensorsById.get(v.sensorId) : undefined;
    const kind = at?.kind ?? input.sensor.kind;
    const window = c.window !== undefined ? formatDurationText(durationMs(c.window), lang) : '';
    const key = c.rise !== undefined ? 'rise' : c.fall !== undefined ? 'fall' : c.below !== undefined ? 'below' : 'above';
    const agg = c.aggregate && c.aggregate !== 'last' && key !== 'rise' && key !== 'fall' ? ` (${fillTemplate(loc.condition[c.aggregate]!, { window })})` : '';
    return fillTemplate(loc.condition[key]!, {
      metric: metricLabel(input.city, kind, c.metric, lang) + agg,
      at: at?.name ?? '?',
      value: formatNumber(v?.value, lang) ?? '?',
      threshold: formatNumber(v?.threshold, lang),
      unit: at ? metricUnit(input.city, at, c.metric) : '',
      window,
    });
  }).join(loc.condition.and);
}

export function describeAlert(input: DescribeInput): AlertFacts {
  const { rule, sensor, city } = input;
  const metric = rule.kind === 'threshold' || rule.kind === 'rateOfChange' ? rule.metric : rule.kind === 'compound' ? rule.conditions[0]!.metric : undefined;
  const unitSensor = rule.kind === 'compound' && input.conditions?.[0]?.sensorId ? city.sensorsById.get(input.conditions[0].sensorId) ?? sensor : sensor;
  const unit = rule.kind === 'noData' ? 'min' : metric ? metricUnit(city, unitSensor, metric) : '';
  const windowMs = 'window' in rule && rule.window !== undefined ? durationMs(rule.window) : undefined;
  const key = messageKey(input);
  const text = (lang: Lang): { title: string; message: string } => {
    const loc = LOCALES[lang];
    const vars: Record<string, string | undefined> = {
      value: formatNumber(input.value, lang),
      threshold: formatNumber(input.threshold, lang),
      unit: rule.kind === 'noData' ? (lang === 'vi' ? 'phút' : 'min') : unit,
      sensor: sensor.name,
      district: sensor.district,
      metric: metric ? metricLabel(city, sensor.kind, metric, lang) : undefined,
      level: rule.kind === 'threshold' && rule.floodLevel !== undefined ? ROMAN[rule.floodLevel - 1] : undefined,
      window: windowMs !== undefined ? formatDurationText(windowMs, lang) : undefined,
      eventType: rule.kind === 'cameraEvent' ? rule.eventTypes.map((t) => ownValue(loc.eventType, t) ?? t).join('/') : undefined,
      conditions: describeConditions(input, lang),
      // for the derived metric vnAqi: the VN_AQI category name (Tốt, Trung bình, Kém, Xấu, ...)
      category: metric === 'vnAqi' && input.value !== undefined ? aqiCategory(input.value)[lang] : undefined,
    };
    const label = rule.title?.[lang] ?? ownValue(loc.subCategory, rule.subCategory) ?? rule.subCategory;
    return {
      title: rule.title ? fillTemplate(rule.title[lang], vars) : fillTemplate(loc.title, { ...vars, label }),
      message: fillTemplate(rule.message?.[lang] ?? loc.message[key]!, vars),
    };
  };
  const [vi, en] = LANGS.map(text) as [{ title: string; message: string }, { title: string; message: string }];
  return {
    title: { vi: vi.title, en: en.title },
    message: { vi: vi.message, en: en.message },
    metric,
    value: input.value,
    threshold: input.threshold,
    unit: unit || undefined,
  };
}
