import { alertTime, type AlertStore } from './alert-store.ts';
import type { Alert } from './api-types.ts';
import { h, setText } from './dom.ts';
import type { Formatter } from './format.ts';
import type { I18n, MessageKey } from './i18n.ts';
import type { SensorStore } from './sensor-store.ts';
import { displayUnit } from './units.ts';

/**
 * The list is virtualised: every matching alert has a slot, but only the rows in view (plus a few) exist in
 * the DOM. A burst of 100 alerts a second then builds a handful of rows per frame, not a hundred, and an
 * operator can still scroll through thousands.
 */
const OVERSCAN = 4;

export type AlertAction = 'ack' | 'resolve';

export interface AlertFilter { kind: string; severity: string; district: string; showResolved: boolean }

export interface AlertList {
  readonly element: HTMLElement;
  render(filter: AlertFilter): void;
  tickAges(): void;
  markNew(id: string): void;
}

interface Row { el: HTMLLIElement; age: HTMLElement; signature: string; top: number; pos: number }

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
  const element = h('div', { class: 'alert-scroll' }, list, empty);
  const rows = new Map<string, Row>();
  const fresh = new Set<string>();
  let matching: Alert[] = [];
  let rowHeight = 0;
  let scrollFrame = 0;

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
    return { el, age, signature: signatureOf(alert), top: -1, pos: -1 };
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

  /** Rows have one fixed height (CSS --alert-row-h); measured from a real row, again after a resize. */
  function measure(): number {
    const probe = list.firstElementChild as HTMLElement | null;
    if (probe) rowHeight = probe.offsetHeight; // includes the gap (the row's transparent bottom border)
    return rowHeight;
  }

  function paint(): void {
    const total = matching.length;
    if (!rowHeight && total) {
      // first paint: build one row to learn the height of a row at this screen's font size
      const first = buildRow(matching[0]!);
      list.append(first.el);
      rows.set(matching[0]!.id, first);
      measure();
    }
    const height = rowHeight || 1;
    list.style.height = `${total * height}px`;
    const from = Math.max(0, Math.floor(element.scrollTop / height) - OVERSCAN);
    const to = Math.min(total, Math.ceil((element.scrollTop + element.clientHeight) / height) + OVERSCAN);
    const keep = new Set<string>();
    for (let i = from; i < to; i++) {
      const alert = matching[i]!;
      keep.add(alert.id);
      let row = rows.get(alert.id);
      if (!row || row.signature !== signatureOf(alert)) {
        const built = buildRow(alert);
        if (row) row.el.replaceWith(built.el);
        else list.append(built.el);
        rows.set(alert.id, built);
        row = built;
      }
      if (row.top !== i * height) {
        row.top = i * height;
        row.el.style.transform = `translateY(${row.top}px)`;
      }
      if (row.pos !== i) {
        row.pos = i;
        row.el.setAttribute('aria-posinset', String(i + 1));
      }
      row.el.setAttribute('aria-setsize', String(total));
    }
    for (const [id, row] of rows) {
      if (!keep.has(id)) {
        row.el.remove();
        rows.delete(id);
      }
    }
    empty.hidden = total > 0;
    setText(empty, i18n.t('alerts.empty'));
  }

  element.addEventListener('scroll', () => {
    if (!scrollFrame) scrollFrame = requestAnimationFrame(() => { scrollFrame = 0; paint(); });
  }, { passive: true });
  new ResizeObserver(() => {
    const before = rowHeight;
    if (measure() !== before) for (const row of rows.values()) row.top = -1;
    paint();
  }).observe(element);

  return {
    element,
    render(filter) {
      // keep the row the operator is reading in place when new alerts arrive above it
      const anchorIndex = rowHeight ? Math.floor(element.scrollTop / rowHeight) : 0;
      const anchor = element.scrollTop > 0 ? matching[anchorIndex]?.id : undefined;
      const next: Alert[] = [];
      for (const alert of alerts.all()) if (matchesFilter(alert, filter)) next.push(alert);
      next.sort((a, b) => alertTime(b) - alertTime(a));
      matching = next;
      if (anchor && rowHeight) {
        const moved = matching.findIndex((a) => a.id === anchor);
        if (moved >= 0 && moved !== anchorIndex) element.scrollTop += (moved - anchorIndex) * rowHeight;
      }
      paint();
    },
    tickAges() {
      for (const [id, row] of rows) {
        const alert = alerts.get(id);
        if (alert) setText(row.age, fmt.age(alertTime(alert)));
      }
    },
    markNew(id) {
      fresh.add(id);
      // the highlight is for the first glance; the severity colour stays
      setTimeout(() => { fresh.delete(id); }, 10_000);
    },
  };
}
