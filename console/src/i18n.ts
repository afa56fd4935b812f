import vi from '../i18n/vi.json' with { type: 'json' };
import en from '../i18n/en.json' with { type: 'json' };

/** Vietnamese first: the operators are in Huế. English is for visiting engineers and partners. */
export type Lang = 'vi' | 'en';
export const LANGS: readonly Lang[] = ['vi', 'en'];
export type MessageKey = keyof typeof vi;

const dictionaries: Record<Lang, Record<string, string>> = { vi, en };
const locales: Record<Lang, string> = { vi: 'vi-VN', en: 'en-GB' };
const STORAGE_KEY = 'ioc.console.lang';

export interface I18n {
  readonly lang: Lang;
  readonly locale: string;
  t(key: MessageKey, params?: Record<string, string | number>): string;
  setLang(lang: Lang): void;
  /** returns the unsubscribe function */
  onChange(listener: () => void): () => void;
  /** Re-translates every element marked with data-i18n / data-i18n-attr under root. */
  apply(root: ParentNode): void;
}

export function isLang(value: unknown): value is Lang {
  return value === 'vi' || value === 'en';
}

function readStoredLang(): Lang {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    if (isLang(stored)) return stored;
  } catch {
    // storage can be disabled (kiosk profiles); Vietnamese is the default anyway
  }
  return 'vi';
}

export function createI18n(initial: Lang = readStoredLang()): I18n {
  let lang: Lang = initial;
  const listeners: (() => void)[] = [];
  const i18n: I18n = {
    get lang() {
      return lang;
    },
    get locale() {
      return locales[lang];
    },
    t(key, params) {
      const template = dictionaries[lang][key] ?? dictionaries.vi[key] ?? key;
      if (!params) return template;
      return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
    },
    setLang(next) {
      if (next === lang) return;
      lang = next;
      try {
        localStorage.setItem(STORAGE_KEY, next);
      } catch {
        /* see readStoredLang */
      }
      document.documentElement.lang = next;
      i18n.apply(document);
      for (const listener of [...listeners]) listener();
    },
    onChange(listener) {
      listeners.push(listener);
      return () => {
        const at = listeners.indexOf(listener);
        if (at >= 0) listeners.splice(at, 1);
      };
    },
    apply(root) {
      for (const el of root.querySelectorAll<HTMLElement>('[data-i18n]')) {
        el.textContent = i18n.t(el.dataset.i18n as MessageKey);
      }
      for (const el of root.querySelectorAll<HTMLElement>('[data-i18n-attr]')) {
        // "aria-label:key;title:key2"
        for (const pair of (el.dataset.i18nAttr ?? '').split(';')) {
          const [attr, key] = pair.split(':');
          if (attr && key) el.setAttribute(attr, i18n.t(key as MessageKey));
        }
      }
    },
  };
  document.documentElement.lang = lang;
  return i18n;
}
