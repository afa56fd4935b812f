import type uPlot from 'uplot';
import type { ApiClient } from './api-client.ts';
import { toEpochMs, type MetricInfo, type ReadingSeries, type SensorDetail, type SensorInfo } from './api-types.ts';
import { h, setText } from './dom.ts';
import type { Formatter } from './format.ts';
import type { I18n, MessageKey } from './i18n.ts';
import { renderChart } from './sensor-chart.ts';
import type { SensorStore } from './sensor-store.ts';
import { displayUnit } from './units.ts';
import { aqiCategory } from './vn-aqi.ts';

const CHART_REFRESH_MS = 60_000;
const DAY_MS = 24 * 3600 * 1000;
const PREFERRED_METRIC: Record<string, readonly string[]> = {
  air: ['pm25', 'vnAqi', 'pm10'],
  water: ['waterLevel', 'precipitation', 'flow'],
  traffic: ['intensity', 'averageVehicleSpeed'],
};

export interface SensorPanel {
  readonly element: HTMLElement;
  readonly selectedId: string | undefined;
  open(sensorId: string): void;
  close(): void;
  /** redraws the latest values when the sensor store has news for the open sensor */
  refresh(): void;
  relabel(): void;
}

export function createSensorPanel(deps: {
  api: ApiClient;
  sensors: SensorStore;
  i18n: I18n;
  fmt: Formatter;
  onClose(): void;
}): SensorPanel {
  const { api, sensors, i18n, fmt } = deps;
  const title = h('h2', { id: 'sensor-panel-title' });
  const closeButton = h(
    'button',
    {
      type: 'button',
      class: 'icon-button',
      'data-i18n-attr': 'aria-label:sensor.close',
      'aria-label': i18n.t('sensor.close'),
    },
    '×',
  );
  const meta = h('p', { class: 'sensor-meta' });
  const aqiBadge = h('p', { class: 'aqi-badge', hidden: true });
  const caption = h('caption', { 'data-i18n': 'sensor.latest' }, i18n.t('sensor.latest'));
  const tbody = h('tbody');
  const table = h('table', { class: 'latest-table' }, caption, tbody);
  const metricSelect = h('select', { id: 'sensor-chart-metric' });
  const metricLabel = h(
    'label',
    { for: 'sensor-chart-metric', 'data-i18n': 'sensor.chartMetric' },
    i18n.t('sensor.chartMetric'),
  );
  const chartCaption = h('figcaption', { 'data-i18n': 'sensor.chart' }, i18n.t('sensor.chart'));
  const chartBox = h('div', { class: 'chart-box' });
  const chartNote = h('p', { class: 'chart-note', role: 'status' });
  const element = h(
    'aside',
    { class: 'sensor-panel', 'aria-labelledby': 'sensor-panel-title', hidden: true },
    h('header', null, title, closeButton),
    meta,
    aqiBadge,
    table,
    h('div', { class: 'chart-controls' }, metricLabel, metricSelect),
    h('figure', null, chartCaption, chartBox, chartNote),
  );

  let selectedId: string | undefined;
  let detail: SensorDetail | undefined;
  let chart: uPlot | undefined;
  let chartTimer: ReturnType<typeof setInterval> | undefined;
  let loadToken = 0;

  const metricsOf = (sensor: SensorInfo): MetricInfo[] => {
    const known = detail?.metrics ?? [];
    const extra = Object.keys(sensor.latest).filter((m) => !known.some((k) => k.name === m));
    // derived metrics (VN_AQI) are not in the kind file: their labels live in the translation files
    const labelOf = (name: string) =>
      name === 'vnAqi' ? { vi: i18n.t('metric.vnAqi'), en: i18n.t('metric.vnAqi') } : { vi: name, en: name };
    return [...known, ...extra.map((name) => ({ name, unit: '', label: labelOf(name), min: 0, max: 0 }))];
  };

  function renderLatest(): void {
    const sensor = selectedId ? sensors.get(selectedId) : undefined;
    if (!sensor) return;
    setText(title, sensor.name);
    const status = i18n.t(`status.${sensor.status}` as MessageKey);
    const lastSeen = i18n.t('sensor.lastSeen', {
      time: sensor.lastSeen ? fmt.dateTime(sensor.lastSeen) : i18n.t('sensor.never'),
    });
    setText(
      meta,
      `${i18n.t(`kind.${sensor.kind}` as MessageKey)} · ` +
        `${i18n.t('sensor.district', { district: sensor.district })} · ${status} · ${lastSeen}`,
    );
    const aqi = sensor.kind === 'air' ? sensor.latest.vnAqi : undefined;
    aqiBadge.hidden = !aqi;
    if (aqi) {
      const category = aqiCategory(aqi.value);
      aqiBadge.style.background = category.color;
      aqiBadge.style.color = category.textColor;
      setText(
        aqiBadge,
        i18n.t('sensor.aqiCategory', { value: fmt.number(aqi.value, 0), category: category[i18n.lang] }),
      );
    }
    const rows = metricsOf(sensor)
      .filter((m) => sensor.latest[m.name])
      .map((m) => {
        const latest = sensor.latest[m.name]!;
        return h(
          'tr',
          null,
          h('th', { scope: 'row' }, m.label[i18n.lang]),
          h('td', { class: 'num' }, `${fmt.number(latest.value)} ${displayUnit(m.unit)}`.trim()),
          h('td', null, fmt.time(latest.ts)),
        );
      });
    tbody.replaceChildren(...rows);
  }

  function fillMetricSelect(sensor: SensorInfo): void {
    const metrics = metricsOf(sensor);
    const preferred =
      (PREFERRED_METRIC[sensor.kind] ?? []).find((m) => metrics.some((x) => x.name === m)) ??
      metrics.find((m) => sensor.latest[m.name])?.name ??
      metrics[0]?.name;
    const current =
      metricSelect.value && metrics.some((m) => m.name === metricSelect.value) ? metricSelect.value : preferred;
    metricSelect.replaceChildren(
      ...metrics.map((m) => h('option', { value: m.name, selected: m.name === current }, m.label[i18n.lang])),
    );
    if (current) metricSelect.value = current;
  }

  async function loadChart(): Promise<void> {
    const sensor = selectedId ? sensors.get(selectedId) : undefined;
    const metricName = metricSelect.value;
    if (!sensor || !metricName) return;
    const token = ++loadToken;
    const metric = metricsOf(sensor).find((m) => m.name === metricName);
    const to = Date.now();
    const query = new URLSearchParams({
      metric: metricName,
      from: new Date(to - DAY_MS).toISOString(),
      to: new Date(to).toISOString(),
      every: '5m',
      fn: 'mean',
    });
    if (!chart) setText(chartNote, i18n.t('sensor.loading'));
    try {
      const series = await api.get<ReadingSeries>(`/api/sensors/${encodeURIComponent(sensor.id)}/readings?${query}`);
      if (token !== loadToken) return;
      chart?.destroy();
      chart = undefined;
      const points = series.points.filter((p) => p.value !== null);
      setText(chartNote, points.length ? '' : i18n.t('sensor.noData'));
      if (!points.length) return;
      const levels =
        metricName === 'waterLevel' && sensor.floodLevels
          ? sensor.floodLevels.map((value, i) => ({
              value,
              label: i18n.t('sensor.floodLevel', { level: ['I', 'II', 'III'][i] ?? String(i + 1) }),
            }))
          : undefined;
      chart = renderChart(
        chartBox,
        {
          label: metric?.label[i18n.lang] ?? metricName,
          unit: displayUnit(series.unit || metric?.unit),
          from: to - DAY_MS,
          to,
          ts: series.points.map((p) => toEpochMs(p.ts)),
          values: series.points.map((p) => p.value),
          levels,
        },
        fmt,
        i18n.t('sensor.time'),
      );
    } catch (err) {
      if (token === loadToken) setText(chartNote, i18n.t('app.loadError', { message: (err as Error).message }));
    }
  }

  async function open(sensorId: string): Promise<void> {
    const sensor = sensors.get(sensorId);
    if (!sensor) return;
    const switching = selectedId !== sensorId;
    selectedId = sensorId;
    element.hidden = false;
    if (switching) {
      detail = undefined;
      chart?.destroy();
      chart = undefined;
      metricSelect.value = '';
    }
    renderLatest();
    fillMetricSelect(sensor);
    clearInterval(chartTimer);
    chartTimer = setInterval(() => void loadChart(), CHART_REFRESH_MS);
    if (switching) {
      try {
        // metric labels and units come with the detail: fetch it before drawing the chart
        const fetched = await api.get<SensorDetail>(`/api/sensors/${encodeURIComponent(sensorId)}`);
        if (selectedId !== sensorId) return;
        detail = fetched;
        renderLatest();
        fillMetricSelect(sensor);
      } catch {
        // the list entry is enough to show latest values; the chart reports its own errors
      }
    }
    void loadChart();
  }

  function close(): void {
    selectedId = undefined;
    element.hidden = true;
    clearInterval(chartTimer);
    chart?.destroy();
    chart = undefined;
    deps.onClose();
  }

  closeButton.addEventListener('click', close);
  element.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') close();
  });
  metricSelect.addEventListener('change', () => {
    chart?.destroy();
    chart = undefined;
    void loadChart();
  });
  new ResizeObserver(() => {
    if (chart)
      chart.setSize({
        width: Math.max(200, chartBox.clientWidth),
        height: Math.max(160, Math.min(260, Math.round(chartBox.clientWidth * 0.45))),
      });
  }).observe(chartBox);

  return {
    element,
    get selectedId() {
      return selectedId;
    },
    open(id) {
      void open(id);
    },
    close,
    refresh: renderLatest,
    relabel() {
      const sensor = selectedId ? sensors.get(selectedId) : undefined;
      if (!sensor) return;
      renderLatest();
      fillMetricSelect(sensor);
      chart?.destroy();
      chart = undefined;
      void loadChart();
    },
  };
}
