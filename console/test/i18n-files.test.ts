import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import en from '../i18n/en.json' with { type: 'json' };
import vi from '../i18n/vi.json' with { type: 'json' };

const SRC = join(import.meta.dirname, '..', 'src');

/** Every key the sources name literally: t('x'), i18n.t('x'), data-i18n: 'x', 'attr:x'. */
function keysUsedInSources(): Set<string> {
  const used = new Set<string>();
  for (const file of readdirSync(SRC).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join(SRC, file), 'utf8');
    for (const m of text.matchAll(/\bt\('([a-zA-Z]+\.[a-zA-Z.]+)'/g)) used.add(m[1]!);
    for (const m of text.matchAll(/'data-i18n': '([a-zA-Z]+\.[a-zA-Z.]+)'/g)) used.add(m[1]!);
    for (const m of text.matchAll(/'data-i18n-attr': '[a-z-]+:([a-zA-Z]+\.[a-zA-Z.]+)'/g)) used.add(m[1]!);
  }
  return used;
}

describe('translation files', () => {
  it('have the same keys in Vietnamese and English, none empty', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(vi).sort());
    for (const [key, text] of [...Object.entries(vi), ...Object.entries(en)]) expect(text.trim(), key).not.toBe('');
  });

  it('use the same placeholders in both languages', () => {
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(vi) as (keyof typeof vi)[])
      expect(placeholders(en[key]), key).toEqual(placeholders(vi[key]));
  });

  it('define every key the console names', () => {
    const used = keysUsedInSources();
    expect(used.size).toBeGreaterThan(40);
    expect([...used].filter((key) => !(key in vi))).toEqual([]);
  });

  it('name every severity, alert state, sensor status and kind the platform sends', () => {
    const needed = [
      ...['critical', 'high', 'medium', 'low', 'informational'].map((s) => `severity.${s}`),
      ...['pending', 'firing', 'acknowledged', 'resolved'].map((s) => `state.${s}`),
      ...['online', 'offline', 'unknown'].map((s) => `status.${s}`),
      ...readdirSync(join(import.meta.dirname, '..', '..', 'config', 'kinds')).map(
        (f) => `kind.${f.replace(/\.ya?ml$/, '')}`,
      ),
    ];
    expect(needed.filter((key) => !(key in vi))).toEqual([]);
  });
});
