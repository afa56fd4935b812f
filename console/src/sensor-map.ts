import * as L from 'leaflet';
import type { AlertStore, SensorAlertSummary } from './alert-store.ts';
import type { CityInfo, RiverProperties, RiversGeoJson, SensorInfo } from './api-types.ts';
import { healthBadgeText, type DeviceCondition } from './device-health-badge.ts';
import { dirtyRectCanvas } from './dirty-rect-canvas.ts';
import { h } from './dom.ts';
import type { I18n, MessageKey } from './i18n.ts';
import { markerStyle, STATE_COLORS, type MarkerState } from './marker-style.ts';
import type { SensorStore } from './sensor-store.ts';
import { AQI_CATEGORIES } from './vn-aqi.ts';

export type BoundaryGeoJson = NonNullable<Parameters<typeof L.geoJSON>[0]>;

/** Above this many sensors one canvas draws every marker: thousands of SVG nodes make panning stutter. */
const SVG_MARKER_LIMIT = 1000;
const LEGEND_STATES: readonly MarkerState[] = ['ok', 'alerting', 'acknowledged', 'offline', 'unknown'];
const RIVER_COLOR = '#4fa3e0';
const HEALTH_RING = '#b388ff';
/** rank 1 main river, 2 branch, 3 canal */
const RIVER_WEIGHT: Record<number, number> = { 1: 4, 2: 2.5, 3: 1.8 };

export interface SensorMapDeps {
  city: CityInfo;
  boundary: BoundaryGeoJson | null;
  rivers: RiversGeoJson | null;
  sensors: SensorStore;
  alerts: AlertStore;
  i18n: I18n;
  onSelect(sensorId: string): void;
  /** suspect / under maintenance (device-health-badge.ts): a ring, and said in the marker's label and tooltip */
  deviceConditions?(sensorId: string): DeviceCondition[];
}

export interface SensorMap {
  /** rebuilds markers when sensors were added or removed, restyles the dirty ones otherwise */
  update(dirty: ReadonlySet<string>, summaries: ReadonlyMap<string, SensorAlertSummary>): void;
  setFilter(visible: (sensor: SensorInfo) => boolean): void;
  focus(sensorId: string): void;
  relabel(): void;
  invalidateSize(): void;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function createSensorMap(container: HTMLElement, deps: SensorMapDeps): SensorMap {
  const { city, i18n, sensors, alerts } = deps;
  const map = L.map(container, {
    center: [city.center.lat, city.center.lon],
    zoom: city.zoom,
    zoomSnap: 0.5,
    keyboard: true,
    zoomControl: false,
  });
  const zoom = L.control.zoom({ zoomInTitle: i18n.t('map.zoomIn'), zoomOutTitle: i18n.t('map.zoomOut') }).addTo(map);
  const labelZoom = () => {
    for (const [selector, key] of [
      ['.leaflet-control-zoom-in', 'map.zoomIn'],
      ['.leaflet-control-zoom-out', 'map.zoomOut'],
    ] as const) {
      const button = zoom.getContainer()?.querySelector(selector);
      button?.setAttribute('title', i18n.t(key));
      button?.setAttribute('aria-label', i18n.t(key));
    }
  };
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  if (city.tileUrl) {
    // Optional: a base map from a configured (ideally self-hosted) tile server. Without it the console
    // needs nothing from the internet.
    L.tileLayer(city.tileUrl, { attribution: city.tileAttribution ?? '', maxZoom: 19 }).addTo(map);
  }
  // The city's shape, then its rivers, then the markers: each in its own pane so a river is never dimmed
  // by the boundary's fill and never covers a sensor (markers stay in the overlay pane, z-index 400).
  const pane = (name: string, zIndex: number) => {
    const el = map.createPane(name);
    el.style.zIndex = String(zIndex);
    el.style.pointerEvents = 'none';
    return el;
  };
  if (deps.boundary) {
    pane('ioc-boundary', 350);
    L.geoJSON(deps.boundary, {
      pane: 'ioc-boundary',
      interactive: false,
      style: (feature) => {
        const type = feature?.geometry.type;
        return type === 'LineString' || type === 'MultiLineString'
          ? { color: RIVER_COLOR, weight: 2.5, opacity: 0.9 }
          : { color: '#8ab4d8', weight: 2, fillColor: '#17324a', fillOpacity: 0.45 };
      },
    }).addTo(map);
  }
  // Not interactive: a river must not take the click meant for a sensor beside it. Its names are read
  // out through the pane's label instead (an image with a text alternative).
  const riversPane = deps.rivers ? pane('ioc-rivers', 380) : undefined;
  if (deps.rivers && riversPane) {
    riversPane.setAttribute('role', 'img');
    L.geoJSON<RiverProperties>(deps.rivers, {
      pane: 'ioc-rivers',
      interactive: false,
      style: (feature) => ({
        color: RIVER_COLOR,
        weight: RIVER_WEIGHT[feature?.properties.rank ?? 1] ?? 2,
        opacity: 0.9,
        lineCap: 'round',
        lineJoin: 'round',
      }),
    }).addTo(map);
  }
  function labelRivers(): void {
    if (!riversPane || !deps.rivers) return;
    const names = deps.rivers.features.map((f) => (i18n.lang === 'vi' ? f.properties.name : f.properties.name_en));
    riversPane.setAttribute('aria-label', i18n.t('map.rivers', { names: names.join(', ') }));
  }
  if (city.boundaryAttribution) map.attributionControl.addAttribution(escapeHtml(city.boundaryAttribution));

  const layer = L.layerGroup().addTo(map);
  const markers = new Map<string, L.CircleMarker>();
  let builtFor = -1;
  let large = false;
  let renderer: L.Renderer | undefined;
  let visible: (sensor: SensorInfo) => boolean = () => true;

  const legend = new L.Control({ position: 'bottomleft' });
  const legendBody = h('div', { class: 'map-legend' });
  legend.onAdd = () => {
    L.DomEvent.disableClickPropagation(legendBody);
    return legendBody;
  };
  legend.addTo(map);

  function renderLegend(): void {
    const swatch = (color: string, ring?: string) =>
      h('span', {
        class: 'swatch',
        style: `background:${color};${ring ? `box-shadow:0 0 0 2px ${ring}` : ''}`,
        'aria-hidden': 'true',
      });
    legendBody.replaceChildren(
      h('h3', null, i18n.t('map.legend')),
      h(
        'ul',
        null,
        ...LEGEND_STATES.map((state) =>
          h(
            'li',
            null,
            swatch(
              STATE_COLORS[state],
              state === 'alerting' ? '#d32f2f' : state === 'acknowledged' ? '#ffffff' : undefined,
            ),
            i18n.t(`map.state.${state}` as MessageKey),
          ),
        ),
        deps.rivers
          ? h(
              'li',
              null,
              h('span', { class: 'swatch swatch-line', style: `background:${RIVER_COLOR}`, 'aria-hidden': 'true' }),
              i18n.t('map.riverLegend'),
            )
          : null,
      ),
      h('h3', null, i18n.t('map.aqi')),
      h(
        'ul',
        { class: 'aqi-legend' },
        ...AQI_CATEGORIES.map((c) => h('li', null, swatch(c.color), `${c.min}–${c.max} ${c[i18n.lang]}`)),
      ),
    );
  }

  const conditionsOf = (id: string): DeviceCondition[] => deps.deviceConditions?.(id) ?? [];
  const badgesOf = (id: string): string =>
    conditionsOf(id)
      .map((c) => ` · ${healthBadgeText(c, i18n)}`)
      .join('');
  function label(sensor: SensorInfo, state: MarkerState): string {
    const text = i18n.t('map.markerLabel', { name: sensor.name, state: i18n.t(`map.state.${state}` as MessageKey) });
    return text + badgesOf(sensor.id);
  }

  // one pass over the alerts per frame, not one per marker: 5,000 markers x 1,000 alerts adds up
  let summaries: ReadonlyMap<string, SensorAlertSummary> = new Map();
  // the style each marker was last given: a poll that changes no colour touches no marker
  const applied = new WeakMap<L.CircleMarker, string>();
  function styleMarker(marker: L.CircleMarker, sensor: SensorInfo, force = false): void {
    const style = markerStyle(sensor, summaries.get(sensor.id), large);
    const conditions = conditionsOf(sensor.id);
    // a suspect or serviced device wears a violet ring unless an alert's ring needs the operator more
    if (conditions.length && style.state !== 'alerting') Object.assign(style, { color: HEALTH_RING, weight: 3 });
    const key =
      `${style.state}|${style.fillColor}|${style.color}|${style.weight}|${style.dashArray}|${style.radius}|` +
      `${i18n.lang}|${conditions.join(',')}`;
    if (!force && applied.get(marker) === key) return;
    applied.set(marker, key);
    marker.setStyle({
      fillColor: style.fillColor,
      color: style.color,
      weight: style.weight,
      dashArray: style.dashArray ?? undefined,
      fillOpacity: 0.95,
      opacity: 1,
    });
    marker.setRadius(style.radius);
    const el = marker.getElement();
    if (el) {
      el.setAttribute('data-state', style.state);
      if (conditions.length) el.setAttribute('data-health', conditions.join(' '));
      else el.removeAttribute('data-health');
      el.setAttribute('aria-label', label(sensor, style.state));
    }
    // Sensors share sites (a camera, a counter and an air station at one market): draw what needs the
    // operator on top and silent sensors underneath, so a neighbour never hides an alert or an AQI colour.
    if (style.state === 'alerting') marker.bringToFront();
    else if (style.state === 'unknown' || style.state === 'offline') marker.bringToBack();
  }

  const decorated = new WeakSet<Element>();
  function decorate(marker: L.CircleMarker, sensor: SensorInfo): void {
    const el = marker.getElement();
    // canvas: no per-marker element; the alert list is the accessible path there
    if (!el || decorated.has(el)) return;
    decorated.add(el);
    el.setAttribute('role', 'button');
    el.setAttribute('tabindex', '0');
    el.setAttribute('data-sensor-id', sensor.id);
    el.addEventListener('keydown', (event) => {
      const key = (event as KeyboardEvent).key;
      if (key === 'Enter' || key === ' ') {
        event.preventDefault();
        deps.onSelect(sensor.id);
      }
    });
  }

  function rebuild(): void {
    summaries = alerts.summariesBySensor();
    layer.clearLayers();
    markers.clear();
    large = sensors.size > SVG_MARKER_LIMIT;
    renderer = large ? dirtyRectCanvas({ padding: 0.1 }) : L.svg();
    for (const sensor of sensors.all()) {
      const marker = L.circleMarker([sensor.lat, sensor.lon], { renderer, bubblingMouseEvents: false });
      marker.on('click', () => deps.onSelect(sensor.id));
      marker.bindTooltip(() => sensor.name + badgesOf(sensor.id), { direction: 'top', offset: [0, -8] });
      markers.set(sensor.id, marker);
      if (visible(sensor)) {
        marker.addTo(layer);
        decorate(marker, sensor);
      }
      styleMarker(marker, sensor, true);
    }
    builtFor = sensors.membershipVersion;
  }

  renderLegend();
  labelZoom();
  labelRivers();

  return {
    update(dirty, current) {
      summaries = current;
      if (builtFor !== sensors.membershipVersion) return rebuild();
      for (const id of dirty) {
        const marker = markers.get(id);
        const sensor = sensors.get(id);
        if (marker && sensor) styleMarker(marker, sensor);
      }
    },
    setFilter(predicate) {
      visible = predicate;
      for (const [id, marker] of markers) {
        const sensor = sensors.get(id);
        if (!sensor) continue;
        const show = visible(sensor);
        if (show && !layer.hasLayer(marker)) {
          marker.addTo(layer);
          decorate(marker, sensor);
          styleMarker(marker, sensor, true);
        } else if (!show && layer.hasLayer(marker)) {
          layer.removeLayer(marker);
        }
      }
    },
    focus(sensorId) {
      const sensor = sensors.get(sensorId);
      if (!sensor) return;
      map.panTo([sensor.lat, sensor.lon], { animate: true });
    },
    relabel() {
      summaries = alerts.summariesBySensor();
      renderLegend();
      labelZoom();
      labelRivers();
      for (const [id, marker] of markers) {
        const sensor = sensors.get(id);
        if (sensor) styleMarker(marker, sensor);
      }
    },
    invalidateSize() {
      map.invalidateSize();
    },
  };
}
