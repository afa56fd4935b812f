import en from './locales/en.json' with { type: 'json' };
import vi from './locales/vi.json' with { type: 'json' };
import { ownValue } from '../../config/lookup-table.ts';

export type CapLang = 'vi' | 'en';

interface CapStrings {
  senderName: string;
  feedTitle: string;
  areaDesc: string;
  event: Record<string, string>;
  instruction: Record<string, string>;
  cancel: string;
}

const STRINGS: Record<CapLang, CapStrings> = { vi, en };

const fill = (template: string, values: Record<string, string>): string =>
  template.replace(/\{(\w+)\}/g, (whole, key: string) => ownValue(values, key) ?? whole);

/** The public-facing CAP texts, from alerts/delivery/locales/{vi,en}.json. */
export function capText(lang: CapLang) {
  const s = STRINGS[lang];
  return {
    senderName: (city: string) => fill(s.senderName, { city }),
    feedTitle: (city: string) => fill(s.feedTitle, { city }),
    areaDesc: (sensor: string, district: string) => fill(s.areaDesc, { sensor, district }),
    event: (subCategory: string): string | undefined => ownValue(s.event, subCategory),
    instruction: (subCategory: string): string | undefined => ownValue(s.instruction, subCategory),
    cancel: (title: string) => fill(s.cancel, { title }),
  };
}
