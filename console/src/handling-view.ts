import uPlot from 'uplot';
import type { ApiClient } from './api-client.ts';
import { h, setText } from './dom.ts';
import type { I18n, MessageKey } from './i18n.ts';

/**
 * The operators' processing-time dashboard (issue 16 item 5) and shift handover (item 7): a period in the
 * city's time zone and a grouping, a bar chart of median times to acknowledge and to resolve (uPlot), the
 * table with p90 and the share within target, and the handover report of the last shift with a link to
 * its printable page. Reads /api/kpi/handling and /api/reports/handover; nothing is computed here.
 */
interface Stats {
  count: number;
  medianMs: number | null;
  p90Ms: number | null;
  withinTarget: number | null;
}
interface Group {
  key: string;
  alerts: number;
  open: number;
  acknowledge: Stats;
  resolve: Stats;
}
interface Kpi {
  groups: Group[];
  total: Group;
}
interface Handover {
  alertsByType: Array<{ type: string; count: number }>;
  alertsByAgency: Array<{ agencyId: string; name: { vi: string; en: string }; count: number }>;
  stillOpen: unknown[];
  silences: unknown[];
  devices: { offline: unknown[]; unhealthy: unknown[] };
}

export interface HandlingView {
  readonly element: HTMLElement;
  show(): void;
  relabel(): void;
}

const GROUPS = ['agency', 'subCategory', 'district', 'severity', 'ruleType', 'rule'] as const;
const minutes = (ms: number | null): string => (ms === null ? '—' : (ms / 60_000).toFixed(1));
const share = (v: number | null): string => (v === null ? '—' : `${Math.round(v * 100)} %`);

export function createHandlingView(deps: { api: ApiClient; i18n: I18n; timeZone: string }): HandlingView {
  const { api, i18n } = deps;
  const label = (key: MessageKey, attrs: Record<string, string> = {}) =>
    h('label', { ...attrs, 'data-i18n': key }, i18n.t(key));
  const heading = h('h2', { id: 'handling-heading', 'data-i18n': 'kpi.heading' }, i18n.t('kpi.heading'));
  const from = h('input', { id: 'kpi-from', type: 'date' });
  const to = h('input', { id: 'kpi-to', type: 'date' });
  const groupBy = h(
    'select',
    { id: 'kpi-group' },
    ...GROUPS.map((g) => h('option', { value: g, 'data-i18n': `kpi.by.${g}` }, i18n.t(`kpi.by.${g}` as MessageKey))),
  );
  const apply = h('button', { type: 'submit', class: 'btn btn-primary', 'data-i18n': 'kpi.show' }, i18n.t('kpi.show'));
  const form = h(
    'form',
    { class: 'audit-filters' },
    label('kpi.from', { for: 'kpi-from' }),
    from,
    label('kpi.to', { for: 'kpi-to' }),
    to,
    label('kpi.groupBy', { for: 'kpi-group' }),
    groupBy,
    apply,
  );
  const status = h('p', { role: 'status', class: 'audit-status' });
  const chart = h('div', {
    class: 'kpi-chart',
    role: 'img',
    'data-i18n-attr': 'aria-label:kpi.chart',
    'aria-label': i18n.t('kpi.chart'),
  });
  const cols = [
    'kpi.col.group',
    'kpi.col.alerts',
    'kpi.col.ackMedian',
    'kpi.col.ackP90',
    'kpi.col.ackWithin',
    'kpi.col.resMedian',
    'kpi.col.resP90',
    'kpi.col.resWithin',
  ] as const;
  const body = h('tbody');
  const table = h(
    'table',
    { class: 'audit-table', 'data-i18n-attr': 'aria-label:kpi.heading', 'aria-label': i18n.t('kpi.heading') },
    h('thead', null, h('tr', null, ...cols.map((k) => h('th', { scope: 'col', 'data-i18n': k }, i18n.t(k))))),
    body,
  );
  const handoverHeading = h('h2', { 'data-i18n': 'handover.heading' }, i18n.t('handover.heading'));
  const handoverBody = h('div', { class: 'handover-summary' });
  const printable = h(
    'a',
    { href: '/api/reports/handover?format=html', target: '_blank', rel: 'noopener', 'data-i18n': 'handover.print' },
    i18n.t('handover.print'),
  );
  const element = h(
    'section',
    { class: 'audit-view', 'aria-labelledby': 'handling-heading' },
    heading,
    form,
    status,
    chart,
    table,
    handoverHeading,
    handoverBody,
    printable,
  );
  let plot: uPlot | undefined;

  const draw = (groups: Group[]): void => {
    plot?.destroy();
    chart.replaceChildren();
    if (!groups.length) return;
    const xs = groups.map((_g, i) => i);
    const bars = uPlot.paths.bars ? uPlot.paths.bars({ size: [0.35, 40] }) : undefined;
    plot = new uPlot(
      {
        width: Math.max(320, chart.clientWidth || 640),
        height: 220,
        scales: { x: { time: false, range: [-0.6, groups.length - 0.4] } },
        axes: [
          { stroke: '#c9d4df', values: (_u, ticks) => ticks.map((t) => groups[t]?.key ?? ''), splits: () => xs },
          { stroke: '#c9d4df', label: i18n.t('kpi.minutes') },
        ],
        series: [
          {},
          {
            label: i18n.t('kpi.col.ackMedian'),
            stroke: '#4fc3f7',
            fill: '#4fc3f766',
            ...(bars ? { paths: bars } : {}),
          },
          {
            label: i18n.t('kpi.col.resMedian'),
            stroke: '#ffb74d',
            fill: '#ffb74d66',
            ...(bars ? { paths: bars } : {}),
          },
        ],
      },
      [
        xs,
        groups.map((g) => (g.acknowledge.medianMs ?? 0) / 60_000),
        groups.map((g) => (g.resolve.medianMs ?? 0) / 60_000),
      ],
      chart,
    );
  };

  const load = async (): Promise<void> => {
    const q = new URLSearchParams({ groupBy: groupBy.value });
    if (from.value) q.set('from', from.value);
    if (to.value) q.set('to', to.value);
    setText(status, i18n.t('app.loading'));
    try {
      const [kpi, handover] = await Promise.all([
        api.get<Kpi>(`/api/kpi/handling?${q}`),
        api.get<Handover>('/api/reports/handover'),
      ]);
      body.replaceChildren(
        ...[...kpi.groups, kpi.total].map((g) =>
          h(
            'tr',
            null,
            h('td', null, g.key === 'total' ? i18n.t('kpi.total') : g.key),
            h('td', null, g.alerts),
            h('td', null, minutes(g.acknowledge.medianMs)),
            h('td', null, minutes(g.acknowledge.p90Ms)),
            h('td', null, share(g.acknowledge.withinTarget)),
            h('td', null, minutes(g.resolve.medianMs)),
            h('td', null, minutes(g.resolve.p90Ms)),
            h('td', null, share(g.resolve.withinTarget)),
          ),
        ),
      );
      draw(kpi.groups);
      const lang = i18n.lang;
      handoverBody.replaceChildren(
        h(
          'p',
          null,
          i18n.t('handover.counts', {
            open: handover.stillOpen.length,
            silences: handover.silences.length,
            offline: handover.devices.offline.length,
            unhealthy: handover.devices.unhealthy.length,
          }),
        ),
        h('ul', null, ...handover.alertsByAgency.map((a) => h('li', null, `${a.name[lang]}: ${a.count}`))),
      );
      printable.setAttribute('href', `/api/reports/handover?format=html&lang=${lang}`);
      setText(status, '');
    } catch (err) {
      setText(status, i18n.t('app.loadError', { message: err instanceof Error ? err.message : String(err) }));
    }
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void load();
  });

  return {
    element,
    show: () => {
      void load();
    },
    relabel: () => {
      i18n.apply(element);
    },
  };
}
