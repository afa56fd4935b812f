import { createAlertDialog } from './alert-dialog.ts';
import { createAlertList, matchesFilter, type AlertAction } from './alert-list.ts';
import { AlertStore } from './alert-store.ts';
import { connectAlertStream, type StreamStatus } from './alert-stream.ts';
import { ApiError, type ApiClient } from './api-client.ts';
import { createAuditView } from './audit-view.ts';
import { createSensorAdminView } from './sensor-admin-view.ts';
import { createHandlingView } from './handling-view.ts';
import type { Alert, CityInfo, LatestReading, RiversGeoJson, SensorInfo, SessionInfo } from './api-types.ts';
import { h, setText } from './dom.ts';
import { createFilterBar } from './filters.ts';
import { createWorkflowPanel, handlingText, type Agencies } from './workflow-panel.ts';
import { createFormatter } from './format.ts';
import type { I18n, MessageKey } from './i18n.ts';
import { createKpiStrip, createRateSampler } from './kpi-strip.ts';
import { createLanguageSwitch } from './language-switch.ts';
import { createNotifier } from './notifier.ts';
import { createSensorMap, type BoundaryGeoJson } from './sensor-map.ts';
import { createSensorPanel } from './sensor-panel.ts';
import { SensorStore } from './sensor-store.ts';
import { startPoller } from './poller.ts';
import { createDeviceConditions } from './device-health-badge.ts';
import { startMaintenancePoller } from './maintenance-poller.ts';
import { createSystemStatus } from './system-status.ts';
import { createLogIntegrityStatus } from './log-integrity-status.ts';

const LATEST_EVERY_MS = 5000;
const SENSORS_EVERY_MS = 10_000;
const RATE_EVERY_MS = 5000;
const HEALTH_EVERY_MS = 10_000;
const AGE_EVERY_MS = 15_000;
const LIST_MIN_INTERVAL_MS = 500;
const LIVE_MIN_INTERVAL_MS = 250;
const MAP_MIN_INTERVAL_MS = 500;

export interface ConsoleApp {
  dispose(): void;
}

/** A speaker with sound waves (shown when sound is on) or a cross (muted): no icon font, no emoji font. */
const SPEAKER_ICON =
  '<svg viewBox="0 0 24 24" aria-hidden="true" fill="none" ' +
  'stroke="currentColor" stroke-width="2" stroke-linecap="round">' +
  '<path d="M4 9h4l5-4v14l-5-4H4z" fill="currentColor"/>' +
  '<path class="sound-waves" d="M16 8.5a5 5 0 0 1 0 7M18.5 6a8.5 8.5 0 0 1 0 12"/>' +
  '<path class="sound-off" d="M16 9l6 6M22 9l-6 6"/></svg>';

export async function startConsole(
  root: HTMLElement,
  deps: { api: ApiClient; i18n: I18n; session: SessionInfo; onLogout(): void },
): Promise<ConsoleApp> {
  const { api, i18n, session } = deps;
  root.replaceChildren(h('p', { class: 'app-loading', role: 'status' }, i18n.t('app.loading')));
  const [city, boundary, rivers, sensorList] = await Promise.all([
    api.get<CityInfo>('/api/city'),
    api.get<BoundaryGeoJson>('/api/city/boundary').catch(() => null),
    // optional in a city's config (404 then): the map is still usable without rivers
    api.get<RiversGeoJson>('/api/city/rivers').catch(() => null),
    api.get<{ sensors: SensorInfo[] }>('/api/sensors'),
  ]);

  const fmt = createFormatter(i18n, city.timezone);
  const alerts = new AlertStore();
  const sensors = new SensorStore();
  sensors.applySensors(sensorList.sensors);
  const notifier = createNotifier();
  notifier.unlockAudio();
  const disposers: (() => void)[] = [];

  // --- header -------------------------------------------------------------------------------------
  const cityName = h('span', { class: 'brand-city' });
  const kpi = createKpiStrip({ alerts, sensors, i18n, fmt });
  const muteLabel = h('span', { 'data-i18n': 'header.mute' }, i18n.t('header.mute'));
  const mute = h('button', { type: 'button', class: 'btn btn-toggle', 'aria-pressed': String(notifier.muted) });
  mute.innerHTML = SPEAKER_ICON;
  mute.append(muteLabel);
  const renderMute = () => {
    mute.setAttribute('aria-pressed', String(notifier.muted));
    mute.title = notifier.muted ? i18n.t('header.muted') : i18n.t('header.mute');
  };
  mute.addEventListener('click', () => {
    notifier.setMuted(!notifier.muted);
    notifier.unlockAudio();
    renderMute();
  });
  const role = h('span', { class: 'role-badge' });
  const logout = h('button', { type: 'button', class: 'btn', 'data-i18n': 'header.logout' }, i18n.t('header.logout'));
  // admins only: the server refuses /api/audit to others anyway; the button is not even drawn for them
  const audit = session.role === 'admin' ? createAuditView({ api, i18n, timeZone: city.timezone }) : undefined;
  const auditToggle = audit
    ? h(
        'button',
        { type: 'button', class: 'btn', 'aria-pressed': 'false', 'data-i18n': 'header.audit' },
        i18n.t('header.audit'),
      )
    : null;
  // admins only, like the audit page: the device registry (sensor-admin-view.ts)
  const sensorAdmin =
    session.role === 'admin'
      ? createSensorAdminView({ api, i18n, city, boundary, timeZone: city.timezone })
      : undefined;
  const sensorAdminToggle = sensorAdmin
    ? h(
        'button',
        { type: 'button', class: 'btn', 'aria-pressed': 'false', 'data-i18n': 'header.sensors' },
        i18n.t('header.sensors'),
      )
    : null;
  // operators and admins: processing times and the shift handover (the API refuses viewers anyway)
  const handling = session.role === 'viewer' ? undefined : createHandlingView({ api, i18n, timeZone: city.timezone });
  const handlingToggle = handling
    ? h(
        'button',
        { type: 'button', class: 'btn', 'aria-pressed': 'false', 'data-i18n': 'header.handling' },
        i18n.t('header.handling'),
      )
    : null;
  logout.addEventListener('click', () => deps.onLogout());
  const header = h(
    'header',
    { class: 'topbar' },
    h(
      'div',
      { class: 'brand' },
      h('span', { class: 'brand-mark', 'data-i18n': 'app.short' }, i18n.t('app.short')),
      cityName,
    ),
    kpi.element,
    h(
      'div',
      { class: 'controls' },
      createLanguageSwitch(i18n),
      mute,
      handlingToggle,
      sensorAdminToggle,
      auditToggle,
      role,
      logout,
    ),
  );

  // --- connection banner --------------------------------------------------------------------------
  const bannerText = h('span');
  const retry = h(
    'button',
    { type: 'button', class: 'btn btn-small', 'data-i18n': 'conn.retryNow' },
    i18n.t('conn.retryNow'),
  );
  const banner = h('div', { class: 'banner', role: 'status', hidden: true }, bannerText, retry);
  const staleBanner = h('div', { class: 'banner banner-warn', role: 'status', hidden: true });
  // the platform's disk: cannot write (nothing accepted) or low (console/src/system-status.ts)
  const systemStatus = createSystemStatus({ i18n, fmt });
  let streamStatus: StreamStatus = { state: 'connecting' };
  let countdown: ReturnType<typeof setInterval> | undefined;
  const renderBanner = () => {
    clearInterval(countdown);
    if (streamStatus.state === 'open') {
      banner.hidden = true;
      return;
    }
    banner.hidden = false;
    retry.hidden = streamStatus.state !== 'offline';
    const tick = () => {
      if (streamStatus.state === 'offline') {
        const seconds = Math.max(0, Math.ceil((streamStatus.retryAt - Date.now()) / 1000));
        setText(bannerText, i18n.t('conn.offline', { seconds }));
      } else setText(bannerText, i18n.t('conn.connecting'));
    };
    tick();
    if (streamStatus.state === 'offline') countdown = setInterval(tick, 1000);
  };
  disposers.push(() => clearInterval(countdown));

  // --- map, sensor panel, alerts -------------------------------------------------------------------
  const mapEl = h('div', {
    class: 'map',
    'data-i18n-attr': 'aria-label:map.label',
    'aria-label': i18n.t('map.label'),
    role: 'region',
  });
  const panel = createSensorPanel({ api, sensors, i18n, fmt, onClose: () => undefined });
  const filters = createFilterBar({
    sensors,
    i18n,
    onChange: () => {
      applyMapFilter();
      scheduleRender(true);
    },
  });
  // agencies and who I am among them: the "mine / my agency's" filter and the handling shown with alerts
  let agencies: Agencies | undefined;
  void api.get<Agencies>('/api/agencies').then(
    (a) => {
      agencies = a;
      filters.value.me = a.me;
      scheduleRender(true);
    },
    () => undefined,
  );
  const workflowPanel = createWorkflowPanel({
    api,
    i18n,
    timeZone: city.timezone,
    canAct: session.role !== 'viewer',
    agencies: () => agencies,
    onChoose: (action) => dialog.switchTo(action),
    onUpdated: (alert) => {
      alerts.applyAlert(alert);
      scheduleRender(true);
    },
  });
  const dialog = createAlertDialog({
    i18n,
    panel: workflowPanel,
    submit: async (action: AlertAction, alert: Alert, note: string, outcome?: string) => {
      const body = { ...(note ? { note } : {}), ...(outcome ? { outcome } : {}) };
      const reply = await api.post<Alert | { alert: Alert }>(
        `/api/alerts/${encodeURIComponent(alert.id)}/${action}`,
        body,
      );
      const updated = reply && 'alert' in reply ? reply.alert : reply;
      if (updated && typeof updated === 'object' && 'id' in updated) alerts.applyAlert(updated);
      scheduleRender(true);
    },
  });
  // suspect or serviced devices: a badge on their marker and alerts (device-health-badge.ts)
  const deviceConditions = createDeviceConditions(alerts);
  const alertList = createAlertList({
    deviceConditions: (id) => deviceConditions.of(id),
    alerts,
    sensors,
    i18n,
    fmt,
    onAction: (action, alert) => dialog.open(action, alert),
    canAct: session.role !== 'viewer',
    handling: (alert) => handlingText(alert, agencies, i18n),
    onSelectSensor: (id) => selectSensor(id),
  });
  const alertCount = h('span', { class: 'alert-count num' });
  const alertsPane = h(
    'section',
    { class: 'alerts-pane', 'aria-labelledby': 'alerts-heading' },
    h(
      'div',
      { class: 'pane-head' },
      h('h2', { id: 'alerts-heading', 'data-i18n': 'alerts.heading' }, i18n.t('alerts.heading')),
      alertCount,
    ),
    filters.element,
    alertList.element,
  );
  const mapPane = h('section', { class: 'map-pane' }, mapEl, panel.element);
  const layout = h('main', { class: 'layout' }, mapPane, alertsPane);
  // commit-log damage and quarantined records (log-integrity-status.ts)
  const logIntegrity = createLogIntegrityStatus(api, i18n);
  disposers.push(logIntegrity.stop);
  root.replaceChildren(
    h(
      'div',
      { class: 'app' },
      header,
      banner,
      staleBanner,
      systemStatus.element,
      logIntegrity.element,
      layout,
      audit?.element,
      sensorAdmin?.element,
      handling?.element,
      dialog.element,
    ),
  );
  if (handling && handlingToggle) {
    handling.element.hidden = true;
    handlingToggle.addEventListener('click', () => {
      const open = handling.element.hidden;
      handling.element.hidden = !open;
      layout.hidden = open;
      handlingToggle.setAttribute('aria-pressed', String(open));
      if (open) handling.show();
    });
  }
  if (audit && auditToggle) {
    audit.element.hidden = true;
    auditToggle.addEventListener('click', () => {
      const open = audit.element.hidden;
      audit.element.hidden = !open;
      layout.hidden = open;
      auditToggle.setAttribute('aria-pressed', String(open));
      if (open) audit.show();
    });
  }
  if (sensorAdmin && sensorAdminToggle) {
    sensorAdmin.element.hidden = true;
    // one page at a time: the registry, the audit log, or the operations view
    auditToggle?.addEventListener('click', () => {
      sensorAdmin.element.hidden = true;
      sensorAdminToggle.setAttribute('aria-pressed', 'false');
    });
    sensorAdminToggle.addEventListener('click', () => {
      const open = sensorAdmin.element.hidden;
      sensorAdmin.element.hidden = !open;
      if (audit) audit.element.hidden = true;
      auditToggle?.setAttribute('aria-pressed', 'false');
      layout.hidden = open;
      sensorAdminToggle.setAttribute('aria-pressed', String(open));
      if (open) sensorAdmin.show();
    });
  }

  const map = createSensorMap(mapEl, {
    city,
    boundary,
    rivers,
    sensors,
    alerts,
    i18n,
    onSelect: (id) => selectSensor(id),
    deviceConditions: (id) => deviceConditions.of(id),
  });
  function selectSensor(id: string): void {
    panel.open(id);
    map.focus(id);
  }
  function applyMapFilter(): void {
    const f = filters.value;
    map.setFilter((s: SensorInfo) => (!f.kind || s.kind === f.kind) && (!f.district || s.district === f.district));
  }
  filters.syncOptions();
  applyMapFilter();

  // --- rendering: at most once per animation frame, whatever the event rate ------------------------
  let frame = 0;
  let seenAlerts = -1;
  let seenSensors = -1;
  let seenMembership = sensors.membershipVersion;
  let forceList = false;
  // Live data repaints at most 4 times a second (an operator sees no difference; a storm of events then
  // costs 4 renders a second, not 60); what the operator did (filters, an ack) repaints at the next frame.
  let lastFrameAt = 0;
  let frameTimer: ReturnType<typeof setTimeout> | undefined;
  disposers.push(() => clearTimeout(frameTimer));
  function scheduleRender(force = false): void {
    forceList ||= force;
    if (frame || (frameTimer && !force)) return;
    const wait = force ? 0 : LIVE_MIN_INTERVAL_MS - (performance.now() - lastFrameAt);
    if (wait <= 0) {
      clearTimeout(frameTimer);
      frameTimer = undefined;
      frame = requestAnimationFrame(renderFrame);
    } else {
      frameTimer = setTimeout(() => {
        frameTimer = undefined;
        frame = requestAnimationFrame(renderFrame);
      }, wait);
    }
  }
  // The list re-sorts at most twice a second: nobody reads a list that reorders 60 times a second during a
  // storm, and each repaint of it costs style, layout and paint (at 4 a second, these frames alone made the
  // p95 frame of the 5,000-sensor storm measurement). KPIs and counts still follow 4 times a second.
  let lastListAt = 0;
  let listTimer: ReturnType<typeof setTimeout> | undefined;
  disposers.push(() => clearTimeout(listTimer));
  // The map redraws at most twice a second, in the same frame as the list: each redraw of the 5,000-marker
  // canvas hands a full-size bitmap to the compositor, and colours that change twice a second are plenty to
  // watch. Only the changed markers' pixels are redrawn (dirty-rect-canvas.ts).
  const mapDirty = new Set<string>();
  let mapMembership = -1;
  let lastMapAt = 0;
  let mapTimer: ReturnType<typeof setTimeout> | undefined;
  disposers.push(() => clearTimeout(mapTimer));
  function renderFrame(): void {
    frame = 0;
    const now = performance.now();
    lastFrameAt = now;
    const listDue = forceList || now - lastListAt >= LIST_MIN_INTERVAL_MS;
    const alertsChanged = alerts.version !== seenAlerts;
    const sensorsChanged = sensors.version !== seenSensors;
    if (sensors.membershipVersion !== seenMembership) {
      seenMembership = sensors.membershipVersion;
      filters.syncOptions();
    }
    if ((alertsChanged || forceList) && !listDue) {
      listTimer ??= setTimeout(
        () => {
          listTimer = undefined;
          scheduleRender(true);
        },
        LIST_MIN_INTERVAL_MS - (now - lastListAt),
      );
    } else if (alertsChanged || forceList) {
      lastListAt = now;
      alertList.render(filters.value);
    }
    if (alertsChanged || forceList) {
      let open = 0;
      const openFilter = { ...filters.value, showResolved: false };
      for (const a of alerts.all()) if (matchesFilter(a, openFilter)) open++;
      setText(alertCount, i18n.t('alerts.count', { count: fmt.number(open) }));
    }
    if (alertsChanged || sensorsChanged) {
      for (const id of alerts.takeDirtySensors()) mapDirty.add(id);
      for (const id of sensors.takeDirty()) mapDirty.add(id);
      if (panel.selectedId && mapDirty.has(panel.selectedId)) panel.refresh();
      kpi.render();
    }
    if (mapDirty.size || sensors.membershipVersion !== mapMembership) {
      if (forceList || now - lastMapAt >= MAP_MIN_INTERVAL_MS) {
        lastMapAt = now;
        mapMembership = sensors.membershipVersion;
        map.update(mapDirty, alerts.summariesBySensor());
        mapDirty.clear();
      } else {
        mapTimer ??= setTimeout(
          () => {
            mapTimer = undefined;
            scheduleRender(true);
          },
          MAP_MIN_INTERVAL_MS - (now - lastMapAt),
        );
      }
    }
    seenAlerts = alerts.version;
    seenSensors = sensors.version;
    forceList = false;
  }

  function relabel(): void {
    setText(cityName, city.name[i18n.lang]);
    setText(
      role,
      i18n.t(session.username ? 'header.who' : 'header.role', {
        name: session.username ?? '',
        role: i18n.t(`role.${session.role}` as MessageKey),
      }),
    );
    notifier.setBaseTitle(`${i18n.t('app.short')} · ${city.name[i18n.lang]}`);
    renderMute();
    renderBanner();
    kpi.relabel();
    systemStatus.relabel();
    filters.relabel();
    map.relabel();
    panel.relabel();
    audit?.relabel();
    sensorAdmin?.relabel();
    handling?.relabel();
    scheduleRender(true);
  }
  disposers.push(i18n.onChange(relabel));
  relabel();

  // --- live data -----------------------------------------------------------------------------------
  const stream = connectAlertStream(api.streamUrl('/api/alerts/stream'), {
    onSnapshot: (list) => {
      alerts.applySnapshot(list);
      scheduleRender();
    },
    onEvent: (event) => {
      if (alerts.applyEvent(event)) {
        alertList.markNew(event.alert.id);
        notifier.notifyCritical(`${i18n.t('notify.critical')}: ${event.alert.title[i18n.lang]}`);
      }
      scheduleRender();
    },
    onStatus: (status) => {
      streamStatus = status;
      renderBanner();
    },
    // a revoked token shows up as a refused upgrade: one authenticated read tells (a 401 logs out)
    onRejected: () => {
      void api.get('/api/city').catch(() => undefined);
    },
  });
  retry.addEventListener('click', () => stream.retryNow());
  disposers.push(() => stream.close());

  const onPollError = (err: unknown) => {
    if (err instanceof ApiError && err.status === 401) return;
    staleBanner.hidden = false;
    setText(staleBanner, i18n.t('conn.dataStale', { message: (err as Error).message }));
  };
  const polled = () => {
    staleBanner.hidden = true;
    scheduleRender();
  };
  disposers.push(
    startPoller(
      LATEST_EVERY_MS,
      async (signal) => {
        const { readings } = await api.get<{ readings: LatestReading[] }>('/api/readings/latest', signal);
        sensors.applyLatest(readings);
        polled();
      },
      onPollError,
    ),
  );
  disposers.push(
    startPoller(
      SENSORS_EVERY_MS,
      async (signal) => {
        sensors.applySensors((await api.get<{ sensors: SensorInfo[] }>('/api/sensors', signal)).sensors);
        polled();
      },
      onPollError,
      SENSORS_EVERY_MS,
    ),
  );
  disposers.push(
    startMaintenancePoller(api, sensors, deviceConditions, () => {
      map.relabel();
      scheduleRender(true);
    }),
  );
  const sampleRate = createRateSampler(api);
  disposers.push(
    startPoller(
      HEALTH_EVERY_MS,
      (signal) => systemStatus.refresh(signal),
      () => undefined,
    ),
  );
  disposers.push(
    startPoller(
      RATE_EVERY_MS,
      async () => {
        kpi.setRate(await sampleRate());
      },
      () => kpi.setRate(undefined),
    ),
  );
  const ageTimer = setInterval(() => alertList.tickAges(), AGE_EVERY_MS);
  disposers.push(() => clearInterval(ageTimer));
  const onResize = () => map.invalidateSize();
  window.addEventListener('resize', onResize);
  disposers.push(() => window.removeEventListener('resize', onResize));

  scheduleRender(true);
  return {
    dispose() {
      cancelAnimationFrame(frame);
      for (const dispose of disposers) dispose();
      notifier.dispose();
    },
  };
}
