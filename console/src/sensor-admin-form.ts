import * as L from 'leaflet';
import type { ApiClient } from './api-client.ts';
import type { CityInfo } from './api-types.ts';
import { h, setText } from './dom.ts';
import type { I18n } from './i18n.ts';
import type { BoundaryGeoJson } from './sensor-map.ts';

/**
 * The "new sensor" form of the admin's sensor page: a click on the map sets the position (the fields stay
 * editable for a surveyed one), kind from the city's kinds, district, optional flood alarm levels I-III.
 * The server checks everything again (unknown kind, outside the city, duplicate id) and its message is shown.
 */
export interface CreatedSensor {
  sensor: { id: string };
  credentials: { username: string; password: string };
}

export interface SensorAdminForm {
  readonly element: HTMLElement;
  /** draws the map on first show (Leaflet needs a visible container) */
  show(): void;
}

export function createSensorAdminForm(deps: {
  api: ApiClient;
  i18n: I18n;
  city: CityInfo;
  boundary: BoundaryGeoJson | null;
  onCreated(created: CreatedSensor): void;
}): SensorAdminForm {
  const { api, i18n, city } = deps;
  const field = (id: string, key: Parameters<I18n['t']>[0], input: HTMLInputElement | HTMLSelectElement) =>
    h('div', { class: 'field' }, h('label', { for: id, 'data-i18n': key }, i18n.t(key)), input);
  const id = h('input', {
    id: 'sensor-new-id',
    required: true,
    maxlength: 64,
    pattern: '[A-Za-z0-9][A-Za-z0-9_.\\-]{0,63}',
    autocomplete: 'off',
  });
  const name = h('input', { id: 'sensor-new-name', required: true, maxlength: 200, autocomplete: 'off' });
  const kind = h(
    'select',
    { id: 'sensor-new-kind', required: true },
    ...(city.kinds ?? []).map((k) => h('option', { value: k.kind }, k.kind)),
  );
  const district = h('input', {
    id: 'sensor-new-district',
    required: true,
    maxlength: 100,
    list: 'sensor-new-districts',
    autocomplete: 'off',
  });
  const districts = h(
    'datalist',
    { id: 'sensor-new-districts' },
    ...(city.districts ?? []).map((d) => h('option', { value: d })),
  );
  const lat = h('input', { id: 'sensor-new-lat', type: 'number', step: 'any', required: true });
  const lon = h('input', { id: 'sensor-new-lon', type: 'number', step: 'any', required: true });
  const levels = [1, 2, 3].map((n) => h('input', { id: `sensor-new-flood${n}`, type: 'number', step: 'any' }));
  const status = h('p', { role: 'status', class: 'sensor-admin-status' });
  const mapEl = h('div', {
    class: 'sensor-admin-map',
    role: 'application',
    'data-i18n-attr': 'aria-label:sensors.mapLabel',
    'aria-label': i18n.t('sensors.mapLabel'),
  });
  const submit = h(
    'button',
    { type: 'submit', class: 'btn btn-primary', 'data-i18n': 'sensors.create' },
    i18n.t('sensors.create'),
  );
  const form = h(
    'form',
    {
      class: 'sensor-admin-form',
      'data-i18n-attr': 'aria-label:sensors.newHeading',
      'aria-label': i18n.t('sensors.newHeading'),
    },
    h('h3', { 'data-i18n': 'sensors.newHeading' }, i18n.t('sensors.newHeading')),
    h('p', { class: 'hint', 'data-i18n': 'sensors.mapHint' }, i18n.t('sensors.mapHint')),
    field('sensor-new-id', 'sensors.id', id),
    field('sensor-new-name', 'sensors.name', name),
    field('sensor-new-kind', 'sensors.kind', kind),
    field('sensor-new-district', 'sensors.district', district),
    districts,
    field('sensor-new-lat', 'sensors.lat', lat),
    field('sensor-new-lon', 'sensors.lon', lon),
    field('sensor-new-flood1', 'sensors.flood1', levels[0]!),
    field('sensor-new-flood2', 'sensors.flood2', levels[1]!),
    field('sensor-new-flood3', 'sensors.flood3', levels[2]!),
    submit,
    status,
  );
  const element = h('div', { class: 'sensor-admin-new' }, mapEl, form);

  let map: L.Map | undefined;
  let marker: L.CircleMarker | undefined;
  const place = (at: L.LatLng) => {
    lat.value = at.lat.toFixed(5);
    lon.value = at.lng.toFixed(5);
    if (!map) return;
    marker ??= L.circleMarker(at, { radius: 8, color: '#ffd54f', weight: 3, fillOpacity: 0.6 }).addTo(map);
    marker.setLatLng(at);
  };

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const flood = levels.map((l) => l.value.trim());
    const body = {
      id: id.value.trim(),
      name: name.value.trim(),
      kind: kind.value,
      district: district.value.trim(),
      lat: Number(lat.value),
      lon: Number(lon.value),
      ...(flood.every((f) => f !== '') ? { floodLevels: flood.map(Number) } : {}),
    };
    setText(status, i18n.t('app.loading'));
    api.post<CreatedSensor>('/api/sensors', body).then(
      (created) => {
        setText(status, i18n.t('sensors.created', { id: created.sensor.id }));
        form.reset();
        marker?.remove();
        marker = undefined;
        deps.onCreated(created);
      },
      (err: Error) => setText(status, i18n.t('sensors.error', { message: err.message })),
    );
  });

  return {
    element,
    show() {
      if (map) return void map.invalidateSize();
      map = L.map(mapEl, { center: [city.center.lat, city.center.lon], zoom: city.zoom, zoomSnap: 0.5 });
      map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
      if (city.tileUrl) L.tileLayer(city.tileUrl, { attribution: city.tileAttribution ?? '', maxZoom: 19 }).addTo(map);
      if (deps.boundary)
        L.geoJSON(deps.boundary, {
          interactive: false,
          style: { color: '#8ab4d8', weight: 2, fillColor: '#17324a', fillOpacity: 0.45 },
        }).addTo(map);
      map.on('click', (ev: L.LeafletMouseEvent) => place(ev.latlng));
    },
  };
}
