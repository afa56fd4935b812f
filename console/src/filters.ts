import type { AlertFilter } from './alert-list.ts';
import { SEVERITIES } from './alert-store.ts';
import { h } from './dom.ts';
import type { I18n, MessageKey } from './i18n.ts';
import type { SensorStore } from './sensor-store.ts';

export interface FilterBar {
  readonly element: HTMLElement;
  readonly value: AlertFilter;
  /** refreshes the kind and district options from the sensor list */
  syncOptions(): void;
  relabel(): void;
}

export function createFilterBar(deps: {
  sensors: SensorStore;
  i18n: I18n;
  onChange(filter: AlertFilter): void;
}): FilterBar {
  const { sensors, i18n } = deps;
  const value: AlertFilter = { kind: '', severity: '', district: '', showResolved: false, scope: 'all' };
  const select = (id: string, labelKey: MessageKey) => {
    const el = h('select', { id, name: id });
    const wrap = h('div', { class: 'filter' }, h('label', { for: id, 'data-i18n': labelKey }, i18n.t(labelKey)), el);
    return { el, wrap };
  };
  const kind = select('filter-kind', 'filters.kind');
  const severity = select('filter-severity', 'filters.severity');
  const district = select('filter-district', 'filters.district');
  // whose alerts: all, my agencies', mine (docs/operations-workflow.md)
  const scope = select('filter-scope', 'filters.scope');
  const resolved = h('input', { type: 'checkbox', id: 'filter-resolved' });
  const element = h(
    'form',
    { class: 'filter-bar', 'data-i18n-attr': 'aria-label:filters.label', 'aria-label': i18n.t('filters.label') },
    scope.wrap,
    kind.wrap,
    severity.wrap,
    district.wrap,
    h(
      'div',
      { class: 'filter filter-check' },
      resolved,
      h('label', { for: 'filter-resolved', 'data-i18n': 'filters.showResolved' }, i18n.t('filters.showResolved')),
    ),
  );
  element.addEventListener('submit', (e) => e.preventDefault());

  const fill = (el: HTMLSelectElement, options: { value: string; label: string }[], current: string) => {
    el.replaceChildren(
      h('option', { value: '' }, i18n.t('filters.all')),
      ...options.map((o) => h('option', { value: o.value }, o.label)),
    );
    el.value = options.some((o) => o.value === current) ? current : '';
  };

  function syncOptions(): void {
    const kinds = new Set<string>();
    const districts = new Set<string>();
    for (const sensor of sensors.all()) {
      kinds.add(sensor.kind);
      districts.add(sensor.district);
    }
    const collator = new Intl.Collator(i18n.locale);
    fill(
      kind.el,
      [...kinds].sort().map((k) => ({ value: k, label: i18n.t(`kind.${k}` as MessageKey) })),
      value.kind,
    );
    fill(
      severity.el,
      SEVERITIES.map((s) => ({ value: s, label: i18n.t(`severity.${s}` as MessageKey) })),
      value.severity,
    );
    fill(
      district.el,
      [...districts].sort(collator.compare).map((d) => ({ value: d, label: d })),
      value.district,
    );
    const scopes = (['agency', 'mine'] as const).map((s) => ({ value: s, label: i18n.t(`filters.scope.${s}`) }));
    fill(scope.el, scopes, value.scope === 'all' ? '' : (value.scope ?? ''));
  }

  element.addEventListener('change', () => {
    value.kind = kind.el.value;
    value.severity = severity.el.value;
    value.district = district.el.value;
    value.scope = scope.el.value === 'agency' || scope.el.value === 'mine' ? scope.el.value : 'all';
    value.showResolved = resolved.checked;
    deps.onChange(value);
  });

  return { element, value, syncOptions, relabel: syncOptions };
}
