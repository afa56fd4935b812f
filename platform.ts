import { existsSync, readFileSync } from 'node:fs';
import { preparePrivateDataDir } from './config/private-files.ts';
import { join } from 'node:path';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { pino, type Logger } from 'pino';
import { createAlertService, type AlertEngine } from './alerts/alert-service.ts';
import { startAlertDelivery, type AlertDelivery } from './alerts/delivery/alert-delivery.ts';
import { alertsApi } from './api/alerts-api.ts';
import { writeThrough } from './alerts/write-through-store.ts';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { createAuthGuard } from './api/auth.ts';
import { accountsRoutes } from './api/accounts-routes.ts';
import { sessionRoutes } from './api/session-routes.ts';
import { createLiveAuth, type LiveAuth } from './config/accounts/live-auth.ts';
import { createLiveSessionRegistry, type LiveSessionRegistry } from './config/accounts/live-sessions.ts';
import { createLoginLimiter } from './config/accounts/login-limiter.ts';
import { createWebSessions } from './config/accounts/web-sessions.ts';
import { buildApp } from './api/build-app.ts';
import { ingestRoutes } from './api/ingest-routes.ts';
import { lineProtocolRoutes } from './api/line-protocol-routes.ts';
import { sensorsRoutes } from './api/sensors-routes.ts';
import { systemRoutes, type HealthReport } from './api/system-routes.ts';
import { createBroker, type Broker } from './broker/create-broker.ts';
import { createDeviceBudget } from './broker/device-budget.ts';
import { createRedisBrokerState } from './broker/redis-broker-state.ts';
import { commitLogDirOf, nodeIdOf } from './cluster/cluster-node.ts';
import { createConsolePlugin } from './console/console-plugin.ts';
import { createPlatformLogger } from './platform-logger.ts';
import { prepareListeners } from './platform-listeners.ts';
import { loadCity, type City } from './config/city-config.ts';
import { systemClock, type Clock } from './config/clock.ts';
import { loadCredentials, readCredentialsFile, type CredentialsFile } from './config/credentials.ts';
import { loadPlatformConfig, type LoadConfigOptions, type PlatformConfig } from './config/platform-config.ts';
import { DeviceStateTracker } from './ingest/device-state.ts';
import { IngestEvents } from './ingest/ingest-events.ts';
import { createIngestMetrics } from './ingest/ingest-metrics.ts';
import { createIngest, type IngestService } from './ingest/ingest-service.ts';
import { CommitLog } from './store/commit-log.ts';
import { DurableWriter } from './store/durable-writer.ts';
import { deferredStore, openStore } from './store/open-store.ts';
import { StoreFeeder } from './store/store-feeder.ts';
import { startLifecycleJobs } from './store/lifecycle-jobs.ts';
import { LogDamageReporter } from './store/log-damage-report.ts';
import { Quarantine } from './store/log-quarantine.ts';
import { integrityReport, registerIntegrityMetrics } from './store/integrity-state.ts';
import { LatestValues } from './store/latest-values.ts';
import { markDataDirInUse } from './store/data-dir-lock.ts';
import { createStorageWatch } from './store/storage-watch.ts';
import type { DemoFleet } from './simulators/demo-fleet.ts';
import type { TimeSeriesStore } from './store/time-series-store.ts';
import { AuditLog } from './audit/audit-log.ts';
import { auditDirOf } from './audit/audit-files.ts';
import { auditKeyFileOf, openAuditKey } from './audit/audit-key.ts';
import { importPending } from './audit/audit-pending.ts';
import { recordConfigReload, recordPlatformStart, recordPlatformStop } from './audit/platform-events.ts';
import { auditHooks } from './api/audit-http.ts';
import { auditRoutes } from './api/audit-routes.ts';
import { createNgsiLdSource } from './api/ngsi-ld/ngsi-ld-source.ts';
import { ngsiLdRoutes } from './api/ngsi-ld/ngsi-ld-routes.ts';
import { startNgsiLdPush } from './api/ngsi-ld/ngsi-ld-push.ts';

/**
 * The composition root: the only module that knows every other one. It wires config -> store (commit
 * log, writer, feeder, adapter) -> ingest -> broker -> API, starts the listeners and shuts them down in
 * the reverse order.
 */
export interface PlatformOptions extends LoadConfigOptions {
  clock?: Clock;
  logger?: Logger;
}

export interface Platform {
  readonly config: PlatformConfig;
  readonly city: City;
  readonly logger: Logger;
  readonly httpUrl: string;
  readonly mqttUrl: string;
  readonly mqttWsUrl: string;
  /** MQTT over TLS (mqtts://), when tls: is configured */
  readonly mqttsUrl: string | undefined;
  readonly credentialsFile: string;
  /** the plain credentials, when the credentials file is present (demo profile) */
  readonly credentials: CredentialsFile | undefined;
  readonly events: IngestEvents;
  readonly ingest: IngestService;
  readonly store: TimeSeriesStore;
  /** durable write path (commit log): what other modules use to store points */
  readonly writer: DurableWriter;
  readonly feeder: StoreFeeder;
  readonly broker: Broker;
  readonly app: FastifyInstance;
  readonly registry: Registry;
  readonly states: DeviceStateTracker;
  readonly alerts: AlertEngine;
  readonly delivery: AlertDelivery;
  /** accounts, tokens and device secrets as the platform checks them now (reloaded when auth.json changes) */
  readonly accounts: LiveAuth;
  readonly liveSessions: LiveSessionRegistry;
  /** record(): for every module that changes state (accounts, tokens, configuration reload) */
  readonly audit: AuditLog;
  health(): HealthReport;
  close(): Promise<void>;
}

const VERSION = (JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string }).version;

function hostForUrl(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}

export async function startPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const startedAt = Date.now();
  const config = loadPlatformConfig(options);
  const clock = options.clock ?? systemClock;
  const city = loadCity(config.cityFile, config.kindsDir);
  const logger = options.logger ?? createPlatformLogger({ level: config.log.level, format: config.log.format, timezone: city.timezone });
  // the listening policy and the certificate are checked before anything starts (platform-listeners.ts)
  const listeners = prepareListeners({ config, clock, logger });
  // before anything is written: every file the platform creates there is 0600, every folder 0700
  preparePrivateDataDir(config.dataDir);

  if (config.security.insecure) {
    const banner = '!!! INSECURE DEVELOPMENT MODE: any client may connect and publish anywhere without credentials. Never run this on a network. !!!';
    logger.warn(banner);
    process.stderr.write(`\n${'!'.repeat(banner.length)}\n${banner}\n${'!'.repeat(banner.length)}\n\n`);
  }
  const creds = loadCredentials(config.dataDir, city, config.profile);
  if (creds.missingDevices.length) {
    logger.warn({ sensors: creds.missingDevices }, `${creds.missingDevices.length} sensors have no device credentials and cannot connect`);
  }
  // revocation without a restart: a changed auth.json (CLI, admin API) closes what the old secrets opened
  const liveSessions = createLiveSessionRegistry();
  const webSessions = createWebSessions({ clock, ttlMs: config.accounts.sessionHours * 3_600_000 });
  const accounts = createLiveAuth({
    dataDir: config.dataDir, initial: creds.file, sessions: liveSessions, clock, logger: logger.child({ module: 'auth' }),
    alsoCurrent: (p) => p.credential?.kind !== 'session' || webSessions.isLive(p.credential.id),
  });
  accounts.onReload(() => webSessions.prune((p) => accounts.isCurrent(p)));

  // The store opens in its own thread (or reaches a server); let it start while the rest is wired.
  const storeOpening = openStore(config, logger);
  storeOpening.catch(() => undefined);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ioc_process_' });
  // a cluster's nodes are told apart in /metrics by their node id
  if (config.cluster.redis) registry.setDefaultLabels({ node: nodeIdOf(config) });
  // prom-client names three gauges `_total`, which Prometheus reserves for counters; the same figures stay
  // without the suffix (ioc_process_nodejs_active_handles, ...)
  for (const what of ['handles', 'requests', 'resources']) registry.removeSingleMetric(`ioc_process_nodejs_active_${what}_total`);
  const auditDir = auditDirOf(config.dataDir);
  const auditKey = openAuditKey(auditKeyFileOf(config.audit.keyFile, config.dataDir), logger);
  const audit = AuditLog.open({ dir: auditDir, clock, logger: logger.child({ module: 'audit' }), maxFileBytes: config.audit.maxFileBytes, registry, key: auditKey, witness: { everyEntries: config.audit.witnessEveryEntries, everyMs: config.audit.witnessEveryMinutes * 60_000 } });
  const auditLogger = logger.child({ module: 'audit' });
  await importPending(auditDir, audit, auditLogger);
  // entries the command line left while this platform holds the log (ioc credentials ...)
  const pendingTimer = clock.setInterval(() => { void importPending(auditDir, audit, auditLogger); }, 5000);

  // --- durability: commit log -> group writer -> feeder -> store adapter ---
  const releaseDataDir = markDataDirInUse(config.dataDir); // ioc restore refuses a directory in use
  // damaged or torn log bytes are copied to <dataDir>/log/quarantine, logged once, counted, shown in health
  const quarantine = new Quarantine(join(config.dataDir, 'log', 'quarantine'), () => clock.now());
  const logDamage = new LogDamageReporter({ quarantine, logger: logger.child({ module: 'commit-log' }), registry });
  // in cluster mode each node keeps its own log (<dataDir>/log/<nodeId>), so nodes may share a data volume
  const logDir = commitLogDirOf(config);
  const log = CommitLog.open({ dir: logDir, segmentBytes: config.store.log.segmentBytes, damage: logDamage });
  // disk full / I/O errors: a state (no acks, health 503, one log line), and the low-disk watermark
  const disk = createStorageWatch({ dataDir: config.dataDir, logDir, segmentBytes: config.store.log.segmentBytes, disk: config.store.disk, clock, logger, registry });
  const writer = new DurableWriter({ log, maxBytes: config.store.log.maxBytes, clock, logger, storage: disk.storage, probe: disk.probe });
  const store = deferredStore(config.store.kind, storeOpening);
  // the newest value per sensor and field, from what becomes durable: the API's latest values (store/latest-values.ts)
  const latestValues = new LatestValues(() => clock.now());
  writer.on('durable', (points) => latestValues.note(points));

  // --- ingest, alerts, broker and API are wired while the store opens ---
  const events = new IngestEvents();
  events.on('error', (err: Error) => logger.error({ err }, 'an ingest event listener failed'));
  const states = new DeviceStateTracker(city, events);
  const alerts = createAlertService({ store: writeThrough(store, (points) => writer.write(points)), city, events, clock, logger: logger.child({ module: 'alerts' }), rulesDir: city.rulesDir, dataDir: config.dataDir, flap: { transitions: config.limits.alertFlapTransitions, windowMs: config.limits.alertFlapWindowSeconds * 1000 } });
  const ingest = createIngest({ city, limits: { ...config.ingest, maxPayloadBytes: config.mqtt.maxPayloadBytes }, sink: writer, events, clock, logger, metrics: createIngestMetrics(registry) });
  // the hard packet cap leaves room for the payload limit to be answered with a reason first
  // one message budget per device for MQTT and HTTP ingest alike (broker/device-budget.ts)
  const deviceBudget = createDeviceBudget(config.limits, clock, logger, registry);
  const broker = await createBroker({ budget: deviceBudget, maxPacketBytes: Math.max(1024 * 1024, 4 * config.mqtt.maxPayloadBytes), auth: accounts, sessions: liveSessions, isCurrent: (p) => accounts.isCurrent(p), insecure: config.security.insecure, ingest, city, logger, registry, limits: config.limits, clock, ...(config.cluster.redis ? { shared: createRedisBrokerState(config.cluster.redis) } : {}) });

  // --- API ---
  const health = (): HealthReport => {
    const s = feeder.state();
    const storeReady = s.healthy;
    const adapterState = store.state?.() ?? {};
    const auditState = audit.state();
    const integrity = integrityReport(logDamage, s);
    return {
      status: disk.status() === 'down' ? 'down' : disk.status() === 'degraded' || !storeReady || writer.isFull || auditState.chain === 'broken' || auditState.writeError || integrity.state !== 'ok' ? 'degraded' : 'ok',
      integrity,
      audit: { chain: auditState.chain, reason: auditState.reason, writeError: auditState.writeError, seq: auditState.head.seq },
      insecure: config.security.insecure,
      broker: { ready: true, clients: broker.connectedClients },
      store: {
        kind: store.name,
        ready: storeReady,
        lagBytes: s.lagBytes,
        spoolBytes: log.sizeBytes,
        spoolMaxBytes: config.store.log.maxBytes,
        acknowledgementsHeld: writer.isFull,
        ...(s.lastError ? { lastError: s.lastError } : {}),
        ...(Object.keys(adapterState).length ? { adapter: { ...adapterState } as Record<string, unknown> } : {}),
      },
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      storage: disk.health(),
    };
  };
  registerStoreMetrics(registry, () => ({ feeder: feeder.state(), logBytes: log.sizeBytes, held: writer.isFull, groups: writer.stats.groups }));
  registerIntegrityMetrics(registry, () => feeder.state());

  const guard = createAuthGuard(accounts, config.security.insecure, webSessions);
  // alert delivery: WebSocket hub, MQTT ioc/alerts/..., webhooks (the REST, stream and CAP routes below)
  const delivery = startAlertDelivery({ feed: alerts, clock, logger: logger.child({ module: 'alert-delivery' }), publish: (t, p, o) => broker.publish(t, p, o), webhooks: config.webhooks, registry });
  // A read sees what was accepted before it (alerts announce a reading while its commit is under way).
  // A failing store or a full spool will not catch up within a read: answer at once from what the store
  // has rather than make every request of an operator's console wait out the timeouts.
  const readBarrier = async () => {
    if (writer.isFull || !feeder.state().healthy) return;
    await writer.settled(2000);
    await feeder.waitFor(log.head, 2000);
  };
  // links in the public feed: public.baseUrl, else the address listened on (known once listening)
  let listenUrl = '';
  // NGSI-LD entities from the same in-memory state the console reads (api/ngsi-ld/, docs/ngsi-ld.md)
  const ngsiLd = createNgsiLdSource({ city, states, latest: latestValues, alerts, clock });
  const routes: FastifyPluginAsync[] = [
    auditHooks({ audit, clock, registry, logger, authFailuresPerMinute: config.audit.authFailuresPerMinute }),
    auditRoutes({ audit, dir: auditDir }),
    systemRoutes({ city, guard, registry, health, tileUrl: config.map.tileUrl, tileAttribution: config.map.tileAttribution }),
    sensorsRoutes({ city, store, states, guard, readBarrier, latest: latestValues }),
    ingestRoutes({ ingest, guard, maxPayloadBytes: config.mqtt.maxPayloadBytes, budget: deviceBudget }),
    lineProtocolRoutes({ ingest, city, auth: accounts, insecure: config.security.insecure, maxReadingsPerPublish: config.ingest.maxReadingsPerPublish, maxBodyBytes: config.ingest.lineProtocolMaxBytes, budget: deviceBudget }),
    createConsolePlugin({ auth: guard, logger }),
    ...alertsApi({ alerts, delivery, store, city, guard, clock, readBarrier, liveSessions, audit, cap: { ...config.cap, publicBaseUrl: () => config.public.baseUrl ?? listenUrl } }),
    sessionRoutes({ auth: accounts, sessions: webSessions, clock, registry, limiter: createLoginLimiter({ ...config.accounts, windowMs: config.accounts.failureWindowMinutes * 60_000, knownAddressMs: config.accounts.knownAddressDays * 86_400_000 }, clock), audit }),
    accountsRoutes({ auth: accounts, clock, audit, sensorIds: () => city.sensorsById.keys() }),
    ngsiLdRoutes({ source: ngsiLd, public: config.ngsiLd.public, logger, registry }),
  ];
  const app = await buildApp({ logger, routes, version: VERSION, https: listeners.https, access: { guard, registry }, security: { allowedOrigins: config.http.cors.origins, publicOrigin: config.public.baseUrl, registry }, mqttOverWebSocket: (stream, req) => broker.handleStream(stream, req) });

  // --- the store: replay what the commit log holds, restore state, then listen ---
  let openedStore: TimeSeriesStore;
  try {
    openedStore = await storeOpening;
  } catch (err) {
    // e.g. InfluxDB refused the credentials: release what was built before saying so
    accounts.close();
    await delivery.stop();
    await app.close();
    await broker.close();
    releaseDataDir();
    pendingTimer.cancel();
    await audit.close();
    throw err;
  }
  let releasing = false;
  const feeder = new StoreFeeder({
    name: openedStore.name,
    log,
    store: openedStore,
    checkpointFile: join(logDir, `${openedStore.name}.checkpoint`),
    // InfluxDB prefers fewer, larger writes; the embedded store takes each group as it comes
    lingerMs: config.store.influxdb && config.store.kind === 'influxdb' ? config.store.influxdb.flushIntervalMs : 0,
    clock,
    logger,
    checkpointEveryRecords: config.store.log.checkpointEveryRecords,
    checkpointEveryMs: config.store.log.checkpointEverySeconds * 1000,
    quarantine,
    onProgress: (applied: number) => {
      // a segment is deleted only once the store made everything in it durable
      if (releasing || !log.canRelease(applied)) return;
      releasing = true;
      feeder.checkpoint()
        .then((durable) => {
          log.release(durable);
          writer.notifySpace();
        })
        .catch((err: Error) => logger.warn({ err: err.message }, 'store sync failed; the commit log keeps the segment'))
        .finally(() => { releasing = false; });
    },
  });
  writer.on('durable', (points, end, records) => feeder.push(points, end, records));
  // every record from the checkpoint on is checked now, so damage is reported at start, not when the store gets there;
  // the store replays meanwhile (damage met by both is reported once)
  feeder.start();
  await log.verify(feeder.appliedOffset);
  if (log.head > feeder.appliedOffset) {
    logger.info({ bytes: log.head - feeder.appliedOffset }, 'replaying the commit log into the store');
  }
  await feeder.waitFor(log.head, 5000);

  // roll-ups and retention on their cron schedules, on the platform's clock (store/lifecycle-jobs.ts)
  const lifecycleJobs = startLifecycleJobs({ store: openedStore, clock, schedule: config.store.lifecycle.schedule, logger: logger.child({ module: 'store-lifecycle' }) });
  await openedStore.latest({ since: latestValues.since() }).then((v) => latestValues.seed(v), (err: Error) => logger.warn({ err: err.message }, 'could not read the latest values from the store'));
  await states.restore(openedStore, clock.now()).catch((err: Error) => logger.warn({ err: err.message }, 'could not restore device states from the store'));
  await alerts.start();
  const ngsiLdPush = config.ngsiLd.push ? startNgsiLdPush({ source: ngsiLd, config: config.ngsiLd.push, clock, logger: logger.child({ module: 'ngsi-ld-push' }), registry }) : undefined;

  const tcp = await broker.listenTcp(config.mqtt.port, config.mqtt.host);
  const mqttPort = (tcp.address() as { port: number }).port;
  // Fastify logs each address it listens on (both loopback and the LAN address for 0.0.0.0): that is the
  // HTTP listener's line, worded like the others
  await app.listen({ port: config.http.port, host: config.http.host, listenTextResolver: (address) => `HTTP API listening on ${address} (docs at ${address}/docs)` });
  const httpPort = (app.server.address() as { port: number }).port;
  const { mqttsUrl } = await listeners.start({
    broker, httpServer: app.server, registry,
    // a configuration reload: the certificate files changed on disk (config/tls-reloader.ts)
    onReload: (result, cert) => void recordConfigReload(audit, { target: 'tls', outcome: result === 'reloaded' ? 'success' : 'failure', details: cert ? { fingerprint256: cert.fingerprint256, notAfter: new Date(cert.notAfter).toISOString() } : { kept: 'the previous certificate' } }),
  });

  const httpUrl = `${listeners.httpScheme}://${hostForUrl(config.http.host)}:${httpPort}`;
  listenUrl = httpUrl;
  const mqttUrl = `mqtt://${hostForUrl(config.mqtt.host)}:${mqttPort}`;
  const mqttWsUrl = `${listeners.wsScheme}://${hostForUrl(config.http.host)}:${httpPort}/mqtt`;
  logger.info(`MQTT broker listening on ${mqttUrl}`);
  logger.info(`MQTT over WebSocket listening on ${mqttWsUrl}`);
  await recordPlatformStart(audit, auditDir, { version: VERSION, profile: config.profile, configFile: config.configFile, config: { ...config } });
  logger.info({ store: store.name, dataDir: config.dataDir, sensors: city.sensors.length, readyMs: Date.now() - startedAt }, 'platform ready');

  const credentials = creds.generated ?? (existsSync(creds.credentialsFile) ? readCredentialsFile(creds.credentialsFile) : undefined);
  // The demo fleet plays the default city in-process so a fresh clone shows data and alerts at once;
  // a production profile never runs it, and demo.enabled: false (IOC_DEMO=0) turns it off.
  let demo: DemoFleet | undefined;
  if (config.profile === 'demo' && config.demo.enabled && credentials) {
    // loaded only here: the fleet pulls in the MQTT client and the simulators, which a production start never needs
    const { startDemoFleet } = await import('./simulators/demo-fleet.ts');
    demo = await startDemoFleet({ mqttUrl, credentials, city, clock, logger: logger.child({ module: 'demo' }) })
      .catch((err: Error) => { logger.warn({ err: err.message }, 'the demo fleet could not start'); return undefined; });
  }

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      logger.info('shutting down: closing listeners, flushing acknowledged readings');
      const step = async (name: string, fn: () => Promise<unknown>) => {
        logger.debug(`shutdown: ${name}`);
        await fn();
      };
      accounts.close();
      await step('demo fleet', async () => demo?.stop());
      await step('alert delivery', () => delivery.stop());
      await step('NGSI-LD push', async () => { await ngsiLdPush?.stop(); ngsiLd.stop(); });
      await step('HTTP server', () => app.close());
      await step('MQTT broker', () => broker.close());
      await step('TLS listeners', () => listeners.close());
      await step('alerts engine', () => alerts.stop());
      await step('commit log writer', () => writer.close());
      lifecycleJobs.stop();
      disk.stop();
      logger.debug('shutdown: store feeder');
      const drained = await feeder.drain(5000);
      logger.debug({ drained }, 'shutdown: store');
      if (!drained) logger.warn('the store is behind: the rest stays in the commit log and is replayed at next start');
      await store.close();
      await log.close();
      releaseDataDir();
      pendingTimer.cancel();
      await recordPlatformStop(audit);
      await audit.close();
      logger.info('stopped');
    })();
    return closing;
  };

  return {
    config, city, logger, httpUrl, mqttUrl, mqttWsUrl, mqttsUrl,
    credentialsFile: creds.credentialsFile,
    credentials,
    events, ingest, store, writer, feeder, broker, app, registry, states, alerts, delivery, audit, accounts, liveSessions, health, close,
  };
}

function registerStoreMetrics(registry: Registry, read: () => { feeder: ReturnType<StoreFeeder['state']>; logBytes: number; held: boolean; groups: number }): void {
  const gauge = (name: string, help: string, value: (s: ReturnType<typeof read>) => number) =>
    new Gauge({ name, help, registers: [registry], collect() { this.set(value(read())); } });
  gauge('ioc_store_up', '1 when the last write to the store succeeded', (s) => (s.feeder.healthy ? 1 : 0));
  gauge('ioc_store_lag_bytes', 'Commit log bytes not yet in the store', (s) => s.feeder.lagBytes);
  gauge('ioc_store_points_written', 'Points written to the store since start', (s) => s.feeder.written);
  gauge('ioc_store_write_failures', 'Failed store writes since start (each is retried)', (s) => s.feeder.failures);
  gauge('ioc_store_last_write_seconds', 'Duration of the last store write', (s) => s.feeder.lastWriteMs / 1000);
  gauge('ioc_spool_bytes', 'Bytes held in the commit log (the spool while the store is behind or down)', (s) => s.logBytes);
  gauge('ioc_acks_held', '1 while acknowledgements are held because the spool is full', (s) => (s.held ? 1 : 0));
  gauge('ioc_commit_groups', 'Commit log groups (fsyncs) since start', (s) => s.groups);
}
