import type { ApiClient } from './api-client.ts';
import type { CityInfo } from './api-types.ts';
import { h, setText } from './dom.ts';
import type { I18n } from './i18n.ts';
import { createSensorAdminForm, type CreatedSensor, type EditableSensor } from './sensor-admin-form.ts';
import type { BoundaryGeoJson } from './sensor-map.ts';

/**
 * The admin's sensor page (hidden for other roles; the server refuses them anyway): the whole registry,
 * disabled sensors included, with edit (the form, sensor-admin-form.ts, loaded with the sensor: move it on
 * the map, change kind, district, thresholds), rotate secret (shown once, here only), disable/enable, a
 * one-time provisioning code and delete (after a confirmation naming the sensor) per sensor; and the same
 * form to place a new sensor on the map.
 */
interface RegistrySensor extends EditableSensor {
  disabled: boolean;
  hasSecret: boolean;
}

export interface SensorAdminView {
  readonly element: HTMLElement;
  show(): void;
  relabel(): void;
}

export function createSensorAdminView(deps: {
  api: ApiClient;
  i18n: I18n;
  city: CityInfo;
  boundary: BoundaryGeoJson | null;
  timeZone: string;
}): SensorAdminView {
  const { api, i18n } = deps;
  const heading = h('h2', { id: 'sensor-admin-heading', 'data-i18n': 'sensors.heading' }, i18n.t('sensors.heading'));
  // secrets and codes appear here once, in a live region, and are gone when the page is reloaded
  const secret = h('output', { class: 'sensor-admin-secret', role: 'status', 'aria-live': 'polite' });
  const status = h('p', { role: 'status', class: 'sensor-admin-status' });
  const cols = [
    'sensors.id',
    'sensors.name',
    'sensors.kind',
    'sensors.district',
    'sensors.state',
    'sensors.actions',
  ] as const;
  const body = h('tbody');
  const table = h(
    'table',
    {
      class: 'audit-table sensor-admin-table',
      'data-i18n-attr': 'aria-label:sensors.heading',
      'aria-label': i18n.t('sensors.heading'),
    },
    h('thead', null, h('tr', null, ...cols.map((k) => h('th', { scope: 'col', 'data-i18n': k }, i18n.t(k))))),
    body,
  );
  const showCredentials = (c: { username: string; password: string }) =>
    setText(secret, i18n.t('sensors.secretOnce', { username: c.username, password: c.password }));
  const form = createSensorAdminForm({
    ...deps,
    onCreated: (created: CreatedSensor) => {
      showCredentials(created.credentials);
      void load();
    },
    onSaved: () => void load(),
  });
  const element = h(
    'section',
    { class: 'audit-view sensor-admin-view', 'aria-labelledby': 'sensor-admin-heading' },
    heading,
    secret,
    form.element,
    status,
    table,
  );
  const time = () =>
    new Intl.DateTimeFormat(i18n.locale, {
      timeZone: deps.timeZone,
      dateStyle: 'short',
      timeStyle: 'short',
      hourCycle: 'h23',
    });

  const act = (label: string, run: () => Promise<void>) => {
    const b = h('button', { type: 'button', class: 'btn btn-small' }, label);
    b.addEventListener('click', () => {
      run().catch((err: Error) => setText(status, i18n.t('sensors.error', { message: err.message })));
    });
    return b;
  };
  const path = (s: RegistrySensor, tail = '') => `/api/sensors/${encodeURIComponent(s.id)}${tail}`;
  const row = (s: RegistrySensor) =>
    h(
      'tr',
      { 'data-sensor': s.id, class: s.disabled ? 'sensor-disabled' : undefined },
      h('td', null, s.id),
      h('td', null, s.name),
      h('td', null, s.kind),
      h('td', null, s.district),
      h('td', null, i18n.t(s.disabled ? 'sensors.disabled' : 'sensors.enabled')),
      h(
        'td',
        { class: 'sensor-admin-actions' },
        act(i18n.t('sensors.edit'), async () => {
          form.edit(s);
          form.element.scrollIntoView({ block: 'nearest' });
        }),
        act(i18n.t('sensors.rotate'), async () => {
          if (!confirm(i18n.t('sensors.rotateConfirm', { id: s.id }))) return;
          showCredentials(await api.post<{ username: string; password: string }>(path(s, '/secret'), {}));
          await load();
        }),
        act(i18n.t(s.disabled ? 'sensors.enable' : 'sensors.disable'), async () => {
          await api.patch(path(s), { disabled: !s.disabled });
          await load();
        }),
        act(i18n.t('sensors.code'), async () => {
          const issued = await api.post<{ code: string; expiresAt: string }>(path(s, '/provisioning-codes'), {
            expiresInMinutes: 60,
          });
          setText(
            secret,
            i18n.t('sensors.codeOnce', {
              id: s.id,
              code: issued.code,
              until: time().format(Date.parse(issued.expiresAt)),
            }),
          );
        }),
        act(i18n.t('sensors.delete'), async () => {
          if (!confirm(i18n.t('sensors.deleteConfirm', { id: s.id }))) return;
          await api.delete(path(s));
          await load();
          setText(status, i18n.t('sensors.deleted', { id: s.id }));
        }),
      ),
    );

  async function load(): Promise<void> {
    try {
      const { sensors } = await api.get<{ sensors: RegistrySensor[] }>('/api/sensor-registry');
      body.replaceChildren(...sensors.map(row));
      setText(status, i18n.t('sensors.count', { count: sensors.length }));
    } catch (err) {
      setText(status, i18n.t('sensors.error', { message: (err as Error).message }));
    }
  }

  return {
    element,
    show() {
      form.show();
      void load();
    },
    relabel() {
      i18n.apply(element);
      if (!element.hidden) void load();
    },
  };
}
