import type { ApiClient } from './api-client.ts';
import { h, setText } from './dom.ts';
import type { I18n } from './i18n.ts';

/**
 * The admin-only audit page: entries newest first (time in the city's zone), filtered by actor and
 * action, paged with the API's cursor, and exported as CSV or NDJSON. The export is fetched with the
 * console's own credential (cookie or token) and saved from a blob, so it works for both sign-in kinds.
 */
interface AuditEntry {
  seq: number;
  ts: number;
  actor: { name: string; role: string };
  address?: string;
  action: string;
  target?: string;
  outcome: 'success' | 'failure';
  details?: Record<string, unknown>;
}

export interface AuditView {
  readonly element: HTMLElement;
  show(): void;
  relabel(): void;
}

const PAGE = 50;

export function createAuditView(deps: { api: ApiClient; i18n: I18n; timeZone: string }): AuditView {
  const { api, i18n } = deps;
  const heading = h('h2', { 'data-i18n': 'audit.heading' }, i18n.t('audit.heading'));
  const actor = h('input', { id: 'audit-actor', type: 'text', maxlength: 200, autocomplete: 'off' });
  const action = h('input', {
    id: 'audit-action',
    type: 'text',
    maxlength: 200,
    autocomplete: 'off',
    placeholder: 'alert, rule.update',
  });
  const actorLabel = h('label', { for: 'audit-actor', 'data-i18n': 'audit.actor' }, i18n.t('audit.actor'));
  const actionLabel = h('label', { for: 'audit-action', 'data-i18n': 'audit.action' }, i18n.t('audit.action'));
  const apply = h(
    'button',
    { type: 'submit', class: 'btn btn-primary', 'data-i18n': 'audit.filter' },
    i18n.t('audit.filter'),
  );
  const exportCsv = h(
    'button',
    { type: 'button', class: 'btn', 'data-i18n': 'audit.exportCsv' },
    i18n.t('audit.exportCsv'),
  );
  const exportNdjson = h(
    'button',
    { type: 'button', class: 'btn', 'data-i18n': 'audit.exportNdjson' },
    i18n.t('audit.exportNdjson'),
  );
  const form = h(
    'form',
    { class: 'audit-filters' },
    actorLabel,
    actor,
    actionLabel,
    action,
    apply,
    exportCsv,
    exportNdjson,
  );
  const status = h('p', { role: 'status', class: 'audit-status' });
  const cols = [
    'audit.col.time',
    'audit.col.actor',
    'audit.col.address',
    'audit.col.action',
    'audit.col.target',
    'audit.col.details',
  ] as const;
  const headRow = h('tr', null, ...cols.map((k) => h('th', { scope: 'col', 'data-i18n': k }, i18n.t(k))));
  const body = h('tbody');
  const table = h(
    'table',
    { class: 'audit-table', 'data-i18n-attr': 'aria-label:audit.heading', 'aria-label': i18n.t('audit.heading') },
    h('thead', null, headRow),
    body,
  );
  const more = h(
    'button',
    { type: 'button', class: 'btn', hidden: true, 'data-i18n': 'audit.more' },
    i18n.t('audit.more'),
  );
  const element = h(
    'section',
    { class: 'audit-view', 'aria-labelledby': 'audit-heading' },
    heading,
    form,
    status,
    table,
    more,
  );
  heading.id = 'audit-heading';

  let cursor: number | undefined;
  let timeFmt = new Intl.DateTimeFormat(i18n.locale, {
    timeZone: deps.timeZone,
    dateStyle: 'short',
    timeStyle: 'medium',
    hourCycle: 'h23',
  });

  const query = (extra: Record<string, string>): string => {
    const q = new URLSearchParams(extra);
    if (actor.value.trim()) q.set('actor', actor.value.trim());
    if (action.value.trim()) q.set('action', action.value.trim());
    return q.toString();
  };
  const describe = (e: AuditEntry): string => {
    if (!e.details) return '';
    const text = JSON.stringify(e.details);
    return text.length > 300 ? `${text.slice(0, 300)}…` : text;
  };
  const row = (e: AuditEntry) =>
    h(
      'tr',
      { class: e.outcome === 'failure' ? 'audit-failure' : undefined },
      h('td', null, h('time', { datetime: new Date(e.ts).toISOString() }, timeFmt.format(e.ts))),
      h('td', null, `${e.actor.name} (${e.actor.role})`),
      h('td', null, e.address ?? ''),
      h('td', null, e.action),
      h('td', null, e.target ?? ''),
      h('td', { class: 'audit-details' }, describe(e)),
    );

  async function load(reset: boolean): Promise<void> {
    if (reset) cursor = undefined;
    setText(status, i18n.t('app.loading'));
    try {
      const page = await api.get<{ entries: AuditEntry[]; nextCursor?: number }>(
        `/api/audit?${query({ limit: String(PAGE), ...(cursor ? { cursor: String(cursor) } : {}) })}`,
      );
      if (reset) body.replaceChildren();
      body.append(...page.entries.map(row));
      cursor = page.nextCursor;
      more.hidden = cursor === undefined;
      setText(
        status,
        body.children.length ? i18n.t('audit.count', { count: body.children.length }) : i18n.t('audit.empty'),
      );
    } catch (err) {
      setText(status, i18n.t('audit.error', { message: (err as Error).message }));
    }
  }

  async function download(format: 'csv' | 'ndjson'): Promise<void> {
    try {
      const text = await api.getText(`/api/audit/export?${query({ format })}`);
      const url = URL.createObjectURL(
        new Blob([text], { type: format === 'csv' ? 'text/csv' : 'application/x-ndjson' }),
      );
      const a = h('a', { href: url, download: `audit.${format}`, hidden: true });
      element.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setText(status, i18n.t('audit.error', { message: (err as Error).message }));
    }
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void load(true);
  });
  more.addEventListener('click', () => void load(false));
  exportCsv.addEventListener('click', () => void download('csv'));
  exportNdjson.addEventListener('click', () => void download('ndjson'));

  return {
    element,
    show: () => void load(true),
    relabel() {
      timeFmt = new Intl.DateTimeFormat(i18n.locale, {
        timeZone: deps.timeZone,
        dateStyle: 'short',
        timeStyle: 'medium',
        hourCycle: 'h23',
      });
      i18n.apply(element);
      for (const t of element.querySelectorAll('time')) setText(t, timeFmt.format(Date.parse(t.dateTime)));
    },
  };
}
