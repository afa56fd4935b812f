import vnAqi from '../../config/reference/vn-aqi.json' with { type: 'json' };
import type { I18nText } from './api-types.ts';

/** VN_AQI categories (QĐ 1459/QĐ-TCMT) with their official colours, from the shipped reference file. */
export interface AqiCategory extends I18nText {
  min: number;
  max: number;
  color: string;
  textColor: string;
}

function hex(rgb: readonly number[]): string {
  return `#${rgb.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

/** Dark text on the light official colours (yellow, green), white on the dark ones: WCAG contrast. */
function textOn(rgb: readonly number[]): string {
  const [r = 0, g = 0, b = 0] = rgb.map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return luminance > 0.179 ? '#111111' : '#ffffff';
}

export const AQI_CATEGORIES: readonly AqiCategory[] = vnAqi.categories.map((c) => ({
  min: c.min,
  max: c.max,
  vi: c.vi,
  en: c.en,
  color: hex(c.rgb),
  textColor: textOn(c.rgb),
}));

export function aqiCategory(value: number): AqiCategory {
  const rounded = Math.round(value);
  return AQI_CATEGORIES.find((c) => rounded <= c.max) ?? AQI_CATEGORIES[AQI_CATEGORIES.length - 1]!;
}
