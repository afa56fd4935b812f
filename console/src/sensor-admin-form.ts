import * as L from 'leaflet';
import type { ApiClient } from './api-client.ts';
import type { CityInfo } from './api-types.ts';
import { h, setText } from './dom.ts';
import type { I18n } from './i18n.ts';
import type { BoundaryGeoJson } from './sensor-map.ts';

/**
 * The sensor form of the admin's sensor page, for a new sensor or an existing one (`edit`): a click on the
 * map sets the position (the fields stay editable for a surveyed one), kind from the city's kinds,
 * district, optional flood alarm levels I-III. An edit sends only what changed (PATCH), so a field the
 * admin did not touch is never rewritten. The server checks everything again (unknown kind, outside the
 * city, duplicate id) and its message is shown.
 */
export interface CreatedSensor {
  sensor: { id: string };
  credentials: { username: string; password: string };
}

/** what the form edits: the registry entry as GET /api/sensor-registry gives it */
export interface EditableSensor {
  id: string;
  kind: string;
  name: string;
  district: string;
  lat: number;
  lon: number;
  floodLevels?: number[];
}

export interface SensorAdminForm {
  readonly element: HTMLElement;
  /** draws the map on first show (Leaflet needs a visible container) */
  show(): void;
  /** loads an existing sensor into the form; saving then PATCHes it */
  edit(sensor: EditableSensor): void;
}

export function createSensorAdminForm(deps: {
  api: ApiClient;
  i18n: I18n;
  city: CityInfo;
  boundary: BoundaryGeoJson | null;
  onCreated(created: CreatedSensor): void;
  onSaved(id: string): void;
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
  const cancel = h(
    'button',
    { type: 'button', class: 'btn', hidden: true, 'data-i18n': 'sensors.cancelEdit' },
    i18n.t('sensors.cancelEdit'),
  );
  const heading = h('h3', { 'data-i18n': 'sensors.newHeading' }, i18n.t('sensors.newHeading'));
  const form = h(
    'form',
    {
      class: 'sensor-admin-form',
      'data-i18n-attr': 'aria-label:sensors.newHeading',
      'aria-label': i18n.t('sensors.newHeading'),
    },
    heading,
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
    cancel,
    status,
  );
  const element = h('div', { class: 'sensor-admin-new' }, mapEl, form);

  let map: L.Map | undefined;
  let marker: L.CircleMarker | undefined;
  // a click is rounded to about a metre; a stored position is shown as it is, so an edit does not move it
  const place = (at: L.LatLng, exact = false) => {
    lat.value = exact ? String(at.lat) : at.lat.toFixed(5);
    lon.value = exact ? String(at.lng) : at.lng.toFixed(5);
    if (!map) return;
    marker ??= L.circleMarker(at, { radius: 8, color: '#ffd54f', weight: 3, fillOpacity: 0.6 }).addTo(map);
    marker.setLatLng(at);
  };

  /** the sensor being edited, as loaded: an edit sends only the fields that differ from it */
  let editing: EditableSensor | undefined;
  const setMode = (next: EditableSensor | undefined) => {
    editing = next;
    const headingKey = next ? 'sensors.editHeading' : 'sensors.newHeading';
    const submitKey = next ? 'sensors.save' : 'sensors.create';
    heading.dataset.i18n = headingKey;
    setText(heading, i18n.t(headingKey));
    form.dataset.i18nAttr = `aria-label:${headingKey}`;
    form.setAttribute('aria-label', i18n.t(headingKey));
    submit.dataset.i18n = submitKey;
    setText(submit, i18n.t(submitKey));
    id.readOnly = next !== undefined;
    cancel.hidden = next === undefined;
  };
  const clear = () => {
    form.reset();
    marker?.remove();
    marker = undefined;
    setMode(undefined);
  };
  cancel.addEventListener('click', () => {
    clear();
    setText(status, '');
  });

  /** the three levels, none (null) or a problem: the server takes all three or none */
  const readLevels = (): number[] | null | 'incomplete' => {
    const flood = levels.map((l) => l.value.trim());
    if (flood.every((f) => f === '')) return null;
    return flood.every((f) => f !== '') ? flood.map(Number) : 'incomplete';
  };
  const changes = (was: EditableSensor, flood: number[] | null): Record<string, unknown> => {
    const now = { name: name.value.trim(), kind: kind.value, district: district.value.trim() };
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(now)) if (was[key as keyof typeof now] !== value) out[key] = value;
    if (Number(lat.value) !== was.lat || Number(lon.value) !== was.lon) {
      out.lat = Number(lat.value);
      out.lon = Number(lon.value);
    }
    if (JSON.stringify(flood) !== JSON.stringify(was.floodLevels ?? null)) out.floodLevels = flood;
    return out;
  };

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const flood = readLevels();
    if (flood === 'incomplete') return setText(status, i18n.t('sensors.floodIncomplete'));
    const was = editing;
    if (was) {
      const patch = changes(was, flood);
      if (Object.keys(patch).length === 0) return setText(status, i18n.t('sensors.nothingChanged'));
      setText(status, i18n.t('app.loading'));
      api.patch(`/api/sensors/${encodeURIComponent(was.id)}`, patch).then(
        () => {
          clear();
          setText(status, i18n.t('sensors.saved', { id: was.id }));
          deps.onSaved(was.id);
        },
        (err: Error) => setText(status, i18n.t('sensors.error', { message: err.message })),
      );
      return;
    }
    const body = {
      id: id.value.trim(),
      name: name.value.trim(),
      kind: kind.value,
      district: district.value.trim(),
      lat: Number(lat.value),
      lon: Number(lon.value),
      ...(flood ? { floodLevels: flood } : {}),
    };
    setText(status, i18n.t('app.loading'));
    api.post<CreatedSensor>('/api/sensors', body).then(
      (created) => {
        clear();
        setText(status, i18n.t('sensors.created', { id: created.sensor.id }));
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
      if (editing) place(L.latLng(editing.lat, editing.lon), true);
    },
    edit(sensor) {
      clear();
      setMode(sensor);
      id.value = sensor.id;
      name.value = sensor.name;
      if (![...kind.options].some((o) => o.value === sensor.kind))
        kind.append(h('option', { value: sensor.kind }, sensor.kind));
      kind.value = sensor.kind;
      district.value = sensor.district;
      levels.forEach((l, i) => {
        l.value = sensor.floodLevels?.[i] === undefined ? '' : String(sensor.floodLevels[i]);
      });
      setText(status, '');
      place(L.latLng(sensor.lat, sensor.lon), true);
      map?.panTo([sensor.lat, sensor.lon]);
      name.focus();
    },
  };
}
