import { h } from './dom.ts';
import { isLang, LANGS, type I18n } from './i18n.ts';

/** Each option names its language in that language, so anyone can find their own. */
const NATIVE_NAMES = { vi: 'Tiếng Việt', en: 'English' } as const;

export function createLanguageSwitch(i18n: I18n): HTMLElement {
  const select = h(
    'select',
    {
      id: `lang-${Math.random().toString(36).slice(2, 8)}`,
      'data-i18n-attr': 'aria-label:header.language',
      'aria-label': i18n.t('header.language'),
    },
    ...LANGS.map((lang) => h('option', { value: lang, lang, selected: lang === i18n.lang }, NATIVE_NAMES[lang])),
  );
  select.addEventListener('change', () => {
    if (isLang(select.value)) i18n.setLang(select.value);
  });
  i18n.onChange(() => {
    select.value = i18n.lang;
  });
  return h('div', { class: 'lang-switch' }, select);
}
