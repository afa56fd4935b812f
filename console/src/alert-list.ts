import { alertTime, type AlertStore } from './alert-store.ts';
import type { Alert } from './api-types.ts';
import { h, setText } from './dom.ts';
import type { Formatter } from './format.ts';
import type { I18n, MessageKey } from './i18n.ts';
import type { SensorStore } from './sensor-store.ts';
import { displayUnit } from './units.ts';
import { DEVICE_HEALTH_TYPE, healthBadge, isSuspectSensor, type DeviceCondition } from './device-health-badge.ts';

/**
 * The list is virtualised: every matching alert has a slot, but only the rows in view (plus a few) exist in
 * the DOM. A burst of 100 alerts a second then touches a handful of rows per repaint, not a hundred, and an
 * operator can still scroll through thousands. Rows are reused: when alerts scroll out of the window and
 * others in, the same elements get the new texts (creating and removing elements costs style and layout
 * work on every repaint of a storm).
 */
const OVERSCAN = 3;
/** how long a new critical alert's row stands out */
const FRESH_MS = 10_000;

export type AlertAction = 'ack' | 'start' | 'resolve';

export interface AlertFilter {
  kind: string;
  severity: string;
  district: string;
  showResolved: boolean;
  /** whose alerts: all, my agencies' (members), assigned to me */
  scope?: 'all' | 'agency' | 'mine';
  /** who is signed in and their agencies (GET /api/agencies), for `scope` */
  me?: { name: string; agencies: readonly string[] };
}

export interface AlertList {
  readonly element: HTMLElement;
  render(filter: AlertFilter): void;
  tickAges(): void;
  markNew(id: string): void;
}

interface Row {
  el: HTMLLIElement;
  badge: HTMLElement;
  title: HTMLElement;
  age: HTMLTimeElement;
  where: HTMLElement;
  value: HTMLElement;
  message: HTMLElement;
  state: HTMLElement;
  ackInfo: HTMLElement;
  ack: HTMLButtonElement;
  start: HTMLButtonElement;
  resolve: HTMLButtonElement;
  /** the blink overlay: a new element per new alert, so its animation starts from the beginning */
  flash?: HTMLElement;
  id: string;
  signature: string;
  top: number;
  pos: number;
  setSize: string;
}

export function matchesFilter(alert: Alert, filter: AlertFilter): boolean {
  if (!filter.showResolved && alert.state === 'resolved') return false;
  if (filter.kind && alert.kind !== filter.kind) return false;
  if (filter.severity && alert.severity !== filter.severity) return false;
  if (filter.district && alert.district !== filter.district) return false;
  if (filter.scope === 'mine')
    return alert.workflow?.assignee !== undefined && alert.workflow.assignee === filter.me?.name;
  if (filter.scope === 'agency')
    return alert.workflow !== undefined && (filter.me?.agencies.includes(alert.workflow.agencyId) ?? false);
  return true;
}

export function createAlertList(deps: {
  alerts: AlertStore;
  sensors: SensorStore;
  i18n: I18n;
  fmt: Formatter;
  onAction(action: AlertAction, alert: Alert): void;
  onSelectSensor(sensorId: string): void;
  /** false for viewers: the server would refuse, so the buttons are not shown */
  canAct?: boolean;
  /** the alert's handling, shown in the row: agency, person, escalation, silence (workflow-panel.ts) */
  handling?(alert: Alert): string;
  /** suspect / under maintenance, per sensor (device-health-badge.ts); default: suspect only */
  deviceConditions?(sensorId: string): DeviceCondition[];
}): AlertList {
  const { alerts, sensors, i18n, fmt } = deps;
  const conditionsOf =
    deps.deviceConditions ??
    ((id: string): DeviceCondition[] => (isSuspectSensor(alerts.all(), id) ? ['suspect'] : []));
  const list = h('ul', { class: 'alert-list', 'aria-live': 'off' });
  const empty = h('p', { class: 'alert-empty', hidden: true });
  const element = h('div', { class: 'alert-scroll' }, list, empty);
  const rows = new Map<string, Row>();
  /** alert id -> until when its row stands out (no timer per alert: a storm would set 20 a second) */
  const fresh = new Map<string, number>();
  let matching: Alert[] = [];
  let rowHeight = 0;
  let scrollFrame = 0;

  function valueText(alert: Alert): string {
    if (alert.value === undefined) return '';
    const unit = displayUnit(alert.unit);
    const value = `${fmt.number(alert.value)}${unit ? ` ${unit}` : ''}`;
    if (alert.threshold === undefined) return value;
    return i18n.t('alerts.valueThreshold', {
      value,
      threshold: `${fmt.number(alert.threshold)}${unit ? ` ${unit}` : ''}`,
    });
  }

  function isFresh(id: string, now: number): boolean {
    const until = fresh.get(id);
    if (until === undefined) return false;
    if (until > now) return true;
    fresh.delete(id);
    return false;
  }

  function createRow(): Row {
    const badge = h('span', { class: 'sev-badge' });
    const title = h('span', { class: 'alert-title' });
    const age = h('time', { class: 'age' });
    const where = h('span', { class: 'alert-where' });
    const value = h('span', { class: 'alert-value num' });
    const message = h('p', { class: 'alert-message' });
    const state = h('span', { class: 'state-label' });
    const ackInfo = h('span', { class: 'ack-info' });
    const ack = h('button', { type: 'button', class: 'btn btn-ack', 'data-action': 'ack' });
    const start = h('button', { type: 'button', class: 'btn btn-start', 'data-action': 'start' });
    const resolve = h('button', { type: 'button', class: 'btn btn-resolve', 'data-action': 'resolve' });
    const el = h(
      'li',
      { class: 'alert-row' },
      h('div', { class: 'row-main' }, badge, title, age),
      h('div', { class: 'row-sub' }, where, value),
      message,
      h('div', { class: 'row-foot' }, state, ackInfo, ack, start, resolve),
    );
    return {
      el,
      badge,
      title,
      age,
      where,
      value,
      message,
      state,
      ackInfo,
      ack,
      start,
      resolve,
      id: '',
      signature: '',
      top: -1,
      pos: -1,
      setSize: '',
    };
  }

  function setClass(el: Element, name: string): void {
    if (el.className !== name) el.className = name;
  }

  function fillRow(row: Row, alert: Alert, isNew: boolean): void {
    const sensorName = sensors.get(alert.sensorId)?.name ?? alert.sensorId;
    const severity = i18n.t(`severity.${alert.severity}` as MessageKey);
    // the engine acknowledges firing alerts only: a pending one may still clear by itself
    const ackable = alert.state === 'firing';
    const open = alert.state !== 'resolved';
    const ackInfo = [
      deps.handling?.(alert) ?? '',
      alert.acknowledgedBy ? i18n.t('alerts.ackedBy', { who: alert.acknowledgedBy }) : '',
      alert.acknowledgedBy && alert.ackNote ? i18n.t('alerts.note', { note: alert.ackNote }) : '',
    ]
      .filter(Boolean)
      .join(' · ');
    setClass(row.el, `alert-row sev-${alert.severity} state-${alert.state}`);
    row.el.setAttribute('data-alert-id', alert.id);
    row.el.setAttribute('aria-label', `${severity}: ${alert.title[i18n.lang]} · ${sensorName}`);
    setClass(row.badge, `sev-badge sev-${alert.severity}`);
    setText(row.badge, severity);
    setText(row.title, alert.title[i18n.lang]);
    row.age.dateTime = new Date(alertTime(alert)).toISOString();
    setText(row.age, fmt.age(alertTime(alert)));
    setText(row.where, `${i18n.t(`kind.${alert.kind}` as MessageKey)} · ${sensorName} · ${alert.district}`);
    // a broken gauge is not a flood: alerts from a suspect sensor, or one being worked on, say so
    if (alert.subCategory !== DEVICE_HEALTH_TYPE && alert.state !== 'resolved') {
      for (const c of conditionsOf(alert.sensorId)) row.where.append(' ', healthBadge(c, i18n));
    }
    setText(row.value, valueText(alert));
    setText(row.message, alert.message[i18n.lang]);
    setClass(row.state, `state-label state-${alert.state}`);
    setText(row.state, i18n.t(`state.${alert.state}` as MessageKey));
    setText(row.ackInfo, ackInfo);
    row.ack.hidden = !ackable || deps.canAct === false;
    setText(row.ack, i18n.t('alerts.ack'));
    row.start.hidden = alert.state !== 'acknowledged' || deps.canAct === false;
    setText(row.start, i18n.t('alerts.start'));
    row.resolve.hidden = !open || deps.canAct === false;
    setText(row.resolve, i18n.t('alerts.resolve'));
    if (row.id !== alert.id || !isNew) {
      row.flash?.remove();
      row.flash = undefined;
    }
    if (isNew && !row.flash) {
      row.flash = h('span', { class: 'row-flash', 'aria-hidden': 'true' });
      row.el.prepend(row.flash);
    }
    row.id = alert.id;
  }

  function signatureOf(alert: Alert, isNew: boolean): string {
    return (
      `${alert.id}|${alert.updatedAt}|${alert.state}|${alert.severity}|${alert.workflow?.log.length ?? 0}|` +
      `${i18n.lang}|${isNew ? 1 : 0}|${conditionsOf(alert.sensorId).join(',')}`
    );
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

  /**
   * Reads the scroll geometry first and only then writes: reading it after a write would force the browser
   * to lay the page out twice in one frame (the list repaints 4 times a second in a storm).
   */
  function paint(scrollTo?: number): void {
    const total = matching.length;
    const now = Date.now();
    if (!rowHeight && total) {
      // first paint: fill one row to learn the height of a row at this screen's font size
      const first = createRow();
      fillRow(first, matching[0]!, isFresh(matching[0]!.id, now));
      list.append(first.el);
      rows.set(matching[0]!.id, first);
      measure();
    }
    const height = rowHeight || 1;
    const viewHeight = element.clientHeight;
    const scrollTop = Math.max(0, Math.min(scrollTo ?? element.scrollTop, total * height - viewHeight));
    const listHeight = `${total * height}px`;
    if (list.style.height !== listHeight) list.style.height = listHeight;
    if (scrollTo !== undefined) element.scrollTop = scrollTop;
    const from = Math.max(0, Math.floor(scrollTop / height) - OVERSCAN);
    const to = Math.min(total, Math.ceil((scrollTop + viewHeight) / height) + OVERSCAN);
    // rows whose alert left the window are refilled with the alerts that came in
    const inWindow = new Set<string>();
    for (let i = from; i < to; i++) inWindow.add(matching[i]!.id);
    const spare: Row[] = [];
    for (const [id, row] of rows) {
      if (inWindow.has(id)) continue;
      rows.delete(id);
      spare.push(row);
    }
    const setSize = String(total);
    for (let i = from; i < to; i++) {
      const alert = matching[i]!;
      let row = rows.get(alert.id);
      if (!row) {
        row = spare.pop() ?? createRow();
        if (!row.el.isConnected) list.append(row.el);
        rows.set(alert.id, row);
      }
      const isNew = isFresh(alert.id, now);
      const signature = signatureOf(alert, isNew);
      if (row.signature !== signature) {
        fillRow(row, alert, isNew);
        row.signature = signature;
      }
      if (row.top !== i * height) {
        row.top = i * height;
        row.el.style.transform = `translateY(${row.top}px)`;
      }
      if (row.pos !== i) {
        row.pos = i;
        row.el.setAttribute('aria-posinset', String(i + 1));
      }
      if (row.setSize !== setSize) {
        row.setSize = setSize;
        row.el.setAttribute('aria-setsize', setSize);
      }
    }
    for (const row of spare) row.el.remove();
    empty.hidden = total > 0;
    setText(empty, i18n.t('alerts.empty'));
  }

  element.addEventListener(
    'scroll',
    () => {
      if (!scrollFrame)
        scrollFrame = requestAnimationFrame(() => {
          scrollFrame = 0;
          paint();
        });
    },
    { passive: true },
  );
  new ResizeObserver(() => {
    const before = rowHeight;
    if (measure() !== before) for (const row of rows.values()) row.top = -1;
    paint();
  }).observe(element);

  return {
    element,
    render(filter) {
      const now = Date.now();
      for (const [id, until] of fresh) if (until <= now) fresh.delete(id);
      // keep the row the operator is reading in place when new alerts arrive above it
      const scrollTop = element.scrollTop;
      const anchorIndex = rowHeight ? Math.floor(scrollTop / rowHeight) : 0;
      const anchor = scrollTop > 0 ? matching[anchorIndex]?.id : undefined;
      const next: Alert[] = [];
      for (const alert of alerts.all()) if (matchesFilter(alert, filter)) next.push(alert);
      next.sort((a, b) => alertTime(b) - alertTime(a));
      matching = next;
      let scrollTo: number | undefined;
      if (anchor && rowHeight) {
        const moved = matching.findIndex((a) => a.id === anchor);
        if (moved >= 0 && moved !== anchorIndex) scrollTo = scrollTop + (moved - anchorIndex) * rowHeight;
      }
      paint(scrollTo);
    },
    tickAges() {
      for (const [id, row] of rows) {
        const alert = alerts.get(id);
        if (alert) setText(row.age, fmt.age(alertTime(alert)));
      }
    },
    markNew(id) {
      // the highlight is for the first glance; the severity colour stays
      fresh.set(id, Date.now() + FRESH_MS);
    },
  };
}
