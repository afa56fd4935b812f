import { SEVERITIES, type AlertStore } from './alert-store.ts';
import type { ApiClient } from './api-client.ts';
import { h, setText } from './dom.ts';
import type { Formatter } from './format.ts';
import type { I18n, MessageKey } from './i18n.ts';
import type { SensorStore } from './sensor-store.ts';

export interface KpiStrip {
  readonly element: HTMLElement;
  render(): void;
  setRate(perSecond: number | undefined): void;
  relabel(): void;
}

export function createKpiStrip(deps: {
  alerts: AlertStore;
  sensors: SensorStore;
  i18n: I18n;
  fmt: Formatter;
}): KpiStrip {
  const { alerts, sensors, i18n, fmt } = deps;
  const label = (key: MessageKey) => h('span', { class: 'kpi-label', 'data-i18n': key }, i18n.t(key));
  const online = h('span', { class: 'kpi-value num' }, '–');
  const rate = h('span', { class: 'kpi-value num' }, '–');
  const chips = new Map(
    SEVERITIES.map((s) => {
      const count = h('strong', { class: 'num' }, '0');
      const chip = h(
        'li',
        { class: `sev-chip sev-${s}` },
        h('span', { 'data-i18n': `severity.${s}` }, i18n.t(`severity.${s}` as MessageKey)),
        count,
      );
      return [s, { chip, count }] as const;
    }),
  );
  const element = h(
    'section',
    { class: 'kpi-strip', 'data-i18n-attr': 'aria-label:kpi.label', 'aria-label': i18n.t('kpi.label') },
    h(
      'div',
      { class: 'kpi', role: 'group', 'aria-labelledby': 'kpi-online' },
      h(
        'span',
        { id: 'kpi-online', class: 'kpi-label', 'data-i18n': 'kpi.sensorsOnline' },
        i18n.t('kpi.sensorsOnline'),
      ),
      online,
    ),
    h(
      'div',
      { class: 'kpi kpi-alerts' },
      label('kpi.openAlerts'),
      h('ul', { class: 'sev-chips' }, ...[...chips.values()].map((c) => c.chip)),
    ),
    h(
      'div',
      { class: 'kpi', role: 'group', 'aria-labelledby': 'kpi-rate' },
      h(
        'span',
        { id: 'kpi-rate', class: 'kpi-label', 'data-i18n': 'kpi.readingsPerSecond' },
        i18n.t('kpi.readingsPerSecond'),
      ),
      rate,
    ),
  );
  let lastRate: number | undefined;

  const strip: KpiStrip = {
    element,
    render() {
      setText(online, `${fmt.number(sensors.onlineCount())}/${fmt.number(sensors.size)}`);
      const counts = alerts.openCountsBySeverity();
      for (const [severity, { chip, count }] of chips) {
        setText(count, fmt.number(counts[severity]));
        chip.classList.toggle('is-zero', counts[severity] === 0);
      }
    },
    setRate(perSecond) {
      lastRate = perSecond;
      setText(rate, perSecond === undefined ? '–' : fmt.number(perSecond, perSecond < 10 ? 1 : 0));
    },
    relabel() {
      strip.render();
      strip.setRate(lastRate);
    },
  };
  return strip;
}

/**
 * Readings per second from the store counter (`/api/stats`, open to viewers): the difference of two samples over their
 * interval.
 */
export function createRateSampler(api: ApiClient): () => Promise<number | undefined> {
  let previous: { at: number; total: number } | undefined;
  return async () => {
    const total = (await api.get<{ readingsStoredTotal?: number }>('/api/stats')).readingsStoredTotal;
    if (total === undefined) return undefined;
    const now = performance.now();
    const before = previous;
    previous = { at: now, total };
    if (!before || now <= before.at || total < before.total) return undefined;
    return ((total - before.total) * 1000) / (now - before.at);
  };
}
