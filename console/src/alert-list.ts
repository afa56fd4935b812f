import { alertTime, type AlertStore } from './alert-store.ts';
import type { Alert } from './api-types.ts';
import { h, setText } from './dom.ts';
import type { Formatter } from './format.ts';
import type { I18n, MessageKey } from './i18n.ts';
import type { SensorStore } from './sensor-store.ts';
import { displayUnit } from './units.ts';

/**
 * At most this many rows live in the DOM. An operator reads the newest few dozen; thousands of rows would
 * make every burst re-layout the page. The footer says how many more match, so nothing is hidden silently.
 */
export const MAX_ROWS = 200;

export type AlertAction = 'ack' | 'resolve';

export interface AlertFilter { kind: string; severity: string; district: string; showResolved: boolean }

export interface AlertList {
  readonly element: HTMLElement;
  render(filter: AlertFilter): void;
  tickAges(): void;
  markNew(id: string): void;
}

interface Row { el: HTMLLIElement; age: HTMLElement; signature: string }

export function matchesFilter(alert: Alert, filter: AlertFilter): boolean {
  if (!filter.showResolved && alert.state === 'resolved') return false;
  if (filter.kind && alert.kind !== filter.kind) return false;
  if (filter.severity && alert.severity !== filter.severity) return false;
  if (filter.district && alert.district !== filter.district) return false;
  return true;
}

export function createAlertList(deps: {
  alerts: AlertStore; sensors: SensorStore; i18n: I18n; fmt: Formatter;
  onAction(action: AlertAction, alert: Alert): void;
  onSelectSensor(sensorId: string): void;
}): AlertList {
  const { alerts, sensors, i18n, fmt } = deps;
  const list = h('ul', { class: 'alert-list', 'aria-live': 'off' });
  const empty = h('p', { class: 'alert-empty', hidden: true });
  const footer = h('p', { class: 'alert-footer', hidden: true });
  const element = h('div', { class: 'alert-scroll' }, list, empty, footer);
  const rows = new Map<string, Row>();
  const fresh = new Set<string>();
  let order: string[] = [];

  function valueText(alert: Alert): string {
    if (alert.value === undefined) return '';
    const unit = displayUnit(alert.unit);
    const value = `${fmt.number(alert.value)}${unit ? ` ${unit}` : ''}`;
    if (alert.threshold === undefined) return value;
    return i18n.t('alerts.valueThreshold', { value, threshold: `${fmt.number(alert.threshold)}${unit ? ` ${unit}` : ''}` });
  }

  function buildRow(alert: Alert): Row {
    const sensorName = sensors.get(alert.sensorId)?.name ?? alert.sensorId;
    const age = h('time', { class: 'age', datetime: new Date(alertTime(alert)).toISOString() }, fmt.age(alertTime(alert)));
    const open = alert.state !== 'resolved';
    // the engine acknowledges firing alerts only: a pending one may still clear by itself
    const ackable = alert.state === 'firing';
    const ackInfo = alert.acknowledgedBy
      ? [i18n.t('alerts.ackedBy', { who: alert.acknowledgedBy }), alert.ackNote ? i18n.t('alerts.note', { note: alert.ackNote }) : ''].filter(Boolean).join(' · ')
      : '';
    const el = h('li', {
      class: `alert-row sev-${alert.severity} state-${alert.state}${fresh.has(alert.id) ? ' is-new' : ''}`,
      'data-alert-id': alert.id,
      'aria-label': `${i18n.t(`severity.${alert.severity}` as MessageKey)}: ${alert.title[i18n.lang]} · ${sensorName}`,
    },
    h('div', { class: 'row-main' },
      h('span', { class: `sev-badge sev-${alert.severity}` }, i18n.t(`severity.${alert.severity}` as MessageKey)),
      h('span', { class: 'alert-title' }, alert.title[i18n.lang]),
      age),
    h('div', { class: 'row-sub' },
      h('span', { class: 'alert-where' }, `${i18n.t(`kind.${alert.kind}` as MessageKey)} · ${sensorName} · ${alert.district}`),
      h('span', { class: 'alert-value num' }, valueText(alert))),
    h('p', { class: 'alert-message' }, alert.message[i18n.lang]),
    h('div', { class: 'row-foot' },
      h('span', { class: `state-label state-${alert.state}` }, i18n.t(`state.${alert.state}` as MessageKey)),
      h('span', { class: 'ack-info' }, ackInfo),
      ackable ? h('button', { type: 'button', class: 'btn btn-ack', 'data-action': 'ack' }, i18n.t('alerts.ack')) : null,
      open ? h('button', { type: 'button', class: 'btn btn-resolve', 'data-action': 'resolve' }, i18n.t('alerts.resolve')) : null));
    return { el, age, signature: signatureOf(alert) };
  }

  function signatureOf(alert: Alert): string {
    return `${alert.updatedAt}|${alert.state}|${alert.severity}|${i18n.lang}|${fresh.has(alert.id) ? 1 : 0}`;
  }

  list.addEventListener('click', (event) => {
    const target = event.target as HTMLElement;
    const rowEl = target.closest<HTMLElement>('li[data-alert-id]');
    const alert = rowEl?.dataset.alertId ? alerts.get(rowEl.dataset.alertId) : undefined;
    if (!alert) return;
    const button = target.closest<HTMLButtonElement>('button[data-action]');
    if (button) deps.onAction(button.dataset.action as AlertAction, alert);
    else deps.onSelectSensor(alert.sensorId);
  });

  return {
    element,
    render(filter) {
      const matching: Alert[] = [];
      for (const alert of alerts.all()) if (matchesFilter(alert, filter)) matching.push(alert);
      matching.sort((a, b) => alertTime(b) - alertTime(a));
      const shown = matching.slice(0, MAX_ROWS);
      const nextOrder: string[] = [];
      const keep = new Set<string>();
      for (const alert of shown) {
        keep.add(alert.id);
        nextOrder.push(alert.id);
        const row = rows.get(alert.id);
        if (!row || row.signature !== signatureOf(alert)) {
          const built = buildRow(alert);
          if (row) row.el.replaceWith(built.el);
          rows.set(alert.id, built);
        }
      }
      for (const id of rows.keys()) if (!keep.has(id)) rows.delete(id);
      const orderChanged = nextOrder.length !== order.length || nextOrder.some((id, i) => order[i] !== id);
      if (orderChanged || nextOrder.some((id) => rows.get(id)!.el.parentNode !== list)) {
        list.replaceChildren(...nextOrder.map((id) => rows.get(id)!.el));
      }
      order = nextOrder;
      empty.hidden = matching.length > 0;
      setText(empty, i18n.t('alerts.empty'));
      footer.hidden = matching.length <= MAX_ROWS;
      setText(footer, i18n.t('alerts.capped', { shown: fmt.number(shown.length), total: fmt.number(matching.length) }));
    },
    tickAges() {
      for (const id of order) {
        const alert = alerts.get(id);
        const row = rows.get(id);
        if (alert && row) setText(row.age, fmt.age(alertTime(alert)));
      }
    },
    markNew(id) {
      fresh.add(id);
      // the highlight is for the first glance; the severity colour stays
      setTimeout(() => { fresh.delete(id); }, 10_000);
    },
  };
}
