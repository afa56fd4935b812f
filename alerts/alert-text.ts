import type { City, Sensor } from '../config/city-config.ts';
import { ownValue } from '../config/lookup-table.ts';
import type { I18nText } from './alert-model.ts';
import {
  fillTemplate,
  formatDurationText,
  formatNumber,
  LANGS,
  LOCALES,
  metricLabel,
  metricUnit,
  type Lang,
} from './alert-locales.ts';
import type { RuleBase } from './rule-fields.ts';
import type { AlertTextParts } from './rule-type.ts';
import { aqiCategory } from './vn-aqi.ts';

export { fillTemplate, formatDurationText, formatNumber, i18n, LOCALES, metricUnit } from './alert-locales.ts';

/**
 * Alert titles and messages in Vietnamese and English. The rule type says which of its templates applies
 * and with what (AlertTextParts); a rule's own `title`/`message` templates win over the type's. Both take
 * {value} {threshold} {unit} {sensor} {metric} {district} {window}, the type's own variables ({level},
 * {eventType}, {conditions}, ...) and {category} (the VN_AQI category) for vnAqi.
 */
export interface AlertFacts {
  readonly title: I18nText;
  readonly message: I18nText;
  readonly metric?: string;
  readonly value?: number;
  readonly threshold?: number;
  readonly unit?: string;
}

export interface DescribeInput {
  readonly rule: RuleBase;
  readonly sensor: Sensor;
  readonly city: City;
  readonly value?: number;
  readonly threshold?: number;
  /** the rule type's templates and what it says about this alert */
  readonly messages: Readonly<Record<string, I18nText>>;
  readonly parts: AlertTextParts;
}

export function describeAlert(input: DescribeInput): AlertFacts {
  const { rule, sensor, city, parts } = input;
  const { metric } = parts;
  const unit = metric ? metricUnit(city, parts.unitSensor ?? sensor, metric) : '';
  const template = ownValue(input.messages, parts.messageKey);
  const text = (lang: Lang): { title: string; message: string } => {
    const loc = LOCALES[lang];
    const vars: Record<string, string | undefined> = {
      value: formatNumber(input.value, lang),
      threshold: formatNumber(input.threshold, lang),
      unit: parts.unit?.[lang] ?? unit,
      sensor: sensor.name,
      district: sensor.district,
      metric: metric ? metricLabel(city, sensor.kind, metric, lang) : undefined,
      window: parts.windowMs !== undefined ? formatDurationText(parts.windowMs, lang) : undefined,
      // for the derived metric vnAqi: the VN_AQI category name (Tốt, Trung bình, Kém, Xấu, ...)
      category: metric === 'vnAqi' && input.value !== undefined ? aqiCategory(input.value)[lang] : undefined,
      ...parts.vars?.(lang),
    };
    const label = rule.title?.[lang] ?? ownValue(loc.subCategory, rule.subCategory) ?? rule.subCategory;
    return {
      title: rule.title ? fillTemplate(rule.title[lang], vars) : fillTemplate(loc.title, { ...vars, label }),
      message: fillTemplate(rule.message?.[lang] ?? template?.[lang] ?? parts.messageKey, vars),
    };
  };
  const [vi, en] = LANGS.map(text) as [{ title: string; message: string }, { title: string; message: string }];
  return {
    title: { vi: vi.title, en: en.title },
    message: { vi: vi.message, en: en.message },
    metric,
    value: input.value,
    threshold: input.threshold,
    unit: (parts.unit?.en ?? unit) || undefined,
  };
}
