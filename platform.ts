import { existsSync, readFileSync } from 'node:fs';
import { projectPath } from './core/project-root.ts';
import { preparePrivateDataDir } from './config/private-files.ts';
import { dirname } from 'node:path';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import { createAlertService, type AlertEngine } from './alerts/alert-service.ts';
import { startAlertDelivery, type AlertDelivery } from './alerts/delivery/alert-delivery.ts';
import { alertsApi } from './api/alerts-api.ts';
import { writeThrough } from './alerts/write-through-store.ts';
import { createAlertOperations, type AlertOperations } from './alerts/workflow/alert-operations.ts';
import { loadOperations } from './config/operations-config.ts';
import { alertWorkflowRoutes } from './api/alert-workflow-routes.ts';
import { silencesRoutes } from './api/silences-routes.ts';
import { createOperationsReports, offlineDevices } from './api/operations-reports.ts';
import { Registry, collectDefaultMetrics } from 'prom-client';
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
import { proxyTrust } from './config/trusted-proxies.ts';
import { createBoundedAudit } from './audit/bounded-audit.ts';

import { createBroker, type Broker } from './broker/create-broker.ts';
import { createDeviceBudget } from './broker/device-budget.ts';
import { createRedisBrokerState } from './broker/redis-broker-state.ts';
import { commitLogDirOf, nodeIdOf } from './cluster/cluster-node.ts';
import { alertClusterOf } from './cluster/alert-cluster.ts';
import { singleNodeStatus } from './cluster/cluster-status.ts';
import { clusterRoutes } from './api/cluster-routes.ts';
import { alertActionForwarding } from './cluster/alert-action-forwarding.ts';
import { createSharedState, type SharedState, sharedChangesSettled } from './cluster/shared-state.ts';
import { createRedisWebSessions } from './cluster/redis-web-sessions.ts';
import { createConsolePlugin } from './console/console-plugin.ts';
import { createPlatformLogger } from './platform-logger.ts';
import { prepareListeners } from './platform-listeners.ts';
import { checkIntegrations, createIntegrations } from './platform-integrations.ts';
import { loadCity, type City } from './config/city-config.ts';
import { systemClock, type Clock } from './core/clock.ts';
import { loadCredentials, readCredentialsFile, type CredentialsFile } from './config/credentials.ts';
import { loadPlatformConfig, type LoadConfigOptions, type PlatformConfig } from './config/platform-config.ts';
import { DeviceStateTracker } from './ingest/device-state.ts';
import { announceDeviceRefusals } from './ingest/device-refusals.ts';
import { IngestEvents } from './ingest/ingest-events.ts';
import { createIngestMetrics } from './ingest/ingest-metrics.ts';
import { createIngest, type IngestService } from './ingest/ingest-service.ts';
import type { DurableWriter } from './store/durable-writer.ts';
import { DurablePipeline } from './store/durable-pipeline.ts';
import type { StoreFeeder } from './store/store-feeder.ts';
import type { DemoFleet } from './simulators/demo-fleet.ts';
import type { TimeSeriesStore } from './store/time-series-store.ts';
import { AuditLog } from './audit/audit-log.ts';
import { auditDirOf, auditLogIsKeyed } from './audit/audit-files.ts';
import { auditKeyFileOf, openAuditKey } from './audit/audit-key.ts';
import { importPending } from './audit/audit-pending.ts';
import { recordConfigReload, recordPlatformStart, recordPlatformStop } from './audit/platform-events.ts';
import { auditHooks } from './api/audit-http.ts';
import { auditRoutes } from './api/audit-routes.ts';
import { createNgsiLdSource } from './api/ngsi-ld/ngsi-ld-source.ts';
import { ngsiLdRoutes } from './api/ngsi-ld/ngsi-ld-routes.ts';
import { startNgsiLdPush } from './api/ngsi-ld/ngsi-ld-push.ts';
import { openPlatformRegistry } from './platform-registry.ts';
import { createSensorAdmin } from './config/sensors/sensor-admin.ts';
import { ProvisioningCodes } from './config/sensors/provisioning-codes.ts';
import { createProvisioningLimiter } from './config/sensors/provisioning-limiter.ts';
import { sensorAdminRoutes } from './api/sensor-admin-routes.ts';
import { sensorImportRoutes } from './api/sensor-import-routes.ts';
import { provisionRoutes } from './api/provision-routes.ts';

/** the audit action of a refused MQTT CONNECT (bounded per address and minute) */
const MQTT_CONNECT_REFUSED_ACTION = 'mqtt.connect_refused';

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
  readonly operations: AlertOperations;
  readonly delivery: AlertDelivery;
  /** accounts, tokens and device secrets as the platform checks them now (reloaded when auth.json changes) */
  readonly accounts: LiveAuth;
  readonly liveSessions: LiveSessionRegistry;
  /** record(): for every module that changes state (accounts, tokens, configuration reload) */
  readonly audit: AuditLog;
  health(): HealthReport;
  close(): Promise<void>;
}

const VERSION = (JSON.parse(readFileSync(projectPath('package.json'), 'utf8')) as { version: string }).version;

function hostForUrl(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}

export async function startPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const startedAt = Date.now();
  const config = loadPlatformConfig(options);
  const clock = options.clock ?? systemClock;
  const seedCity = loadCity(config.cityFile, config.kindsDir);
  checkIntegrations(config, seedCity);
  const logger =
    options.logger ??
    createPlatformLogger({ level: config.log.level, format: config.log.format, timezone: seedCity.timezone });
  for (const deprecation of config.deprecations) logger.warn({ configFile: config.configFile }, deprecation);
  const operationsConfig = loadOperations(dirname(config.cityFile), seedCity);
  for (const deprecation of operationsConfig.deprecations)
    logger.warn({ cityDir: dirname(config.cityFile) }, deprecation);
  // the listening policy and the certificate are checked before anything starts (platform-listeners.ts)
  const listeners = prepareListeners({ config, clock, logger });
  // before anything is written: every file the platform creates there is 0600, every folder 0700
  preparePrivateDataDir(config.dataDir);
  // the device registry (<dataDir>/sensors.json, seeded from the city's YAML): every module reads the live city
  // account names are read when a sensor is created (after start): a sensor id must not share an account's MQTT lanes
  const devices = openPlatformRegistry({
    dataDir: config.dataDir,
    city: seedCity,
    clock,
    logger: logger.child({ module: 'sensor-registry' }),
    accountNames: () => accounts.accounts.map((a) => a.name),
  });
  const city = devices.city;

  if (config.security.insecure) {
    const banner =
      '!!! INSECURE DEVELOPMENT MODE: any client may connect and publish ' +
      'anywhere without credentials. Never run this on a network. !!!';
    logger.warn(banner);
    process.stderr.write(`\n${'!'.repeat(banner.length)}\n${banner}\n${'!'.repeat(banner.length)}\n\n`);
  }
  const creds = loadCredentials(config.dataDir, city, config.profile);
  if (creds.missingDevices.length) {
    logger.warn(
      { sensors: creds.missingDevices },
      `${creds.missingDevices.length} sensors have no device credentials and cannot connect`,
    );
  }
  // revocation without a restart: a changed auth.json (CLI, admin API) closes what the old secrets opened
  const liveSessions = createLiveSessionRegistry();
  // cluster mode: console sessions in Redis too, so a browser's next request may land on any node
  const redisSessions = config.cluster.redis
    ? createRedisWebSessions({
        redisUrl: config.cluster.redis,
        keyPrefix: config.cluster.keyPrefix,
        nodeId: nodeIdOf(config),
        logger: logger.child({ module: 'web-sessions' }),
      })
    : undefined;
  const webSessions = createWebSessions({
    clock,
    ttlMs: config.accounts.sessionHours * 3_600_000,
    ...(redisSessions
      ? {
          shared: redisSessions.store,
          onSharedError: (err: Error, what: string) =>
            logger.warn({ err: err.message, what }, 'console sessions: Redis did not answer; this node only'),
        }
      : {}),
  });
  const accounts = createLiveAuth({
    dataDir: config.dataDir,
    initial: creds.file,
    sessions: liveSessions,
    clock,
    logger: logger.child({ module: 'auth' }),
    alsoCurrent: (p) => p.credential?.scheme !== 'session' || webSessions.isLive(p.credential.id),
  });
  accounts.onReload(() => webSessions.prune((p) => accounts.isCurrent(p)));
  // a sign-out on another node closes the alert streams this node holds for that session
  await redisSessions?.start(webSessions, () => accounts.sweep());

  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ioc_process_' });
  // a cluster's nodes are told apart in /metrics by their node id
  if (config.cluster.redis) registry.setDefaultLabels({ node: nodeIdOf(config) });
  // prom-client names three gauges `_total`, which Prometheus reserves for counters; the same figures stay
  // without the suffix (ioc_process_nodejs_active_handles, ...)
  for (const what of ['handles', 'requests', 'resources'])
    registry.removeSingleMetric(`ioc_process_nodejs_active_${what}_total`);
  devices.attach(liveSessions, registry);
  // durability (store/durable-pipeline.ts): commit log -> group writer -> feeder -> store adapter, integrity
  // and disk state; the adapter opens in its own thread (or reaches a server) while the rest is wired
  const pipeline = new DurablePipeline({ config, clock, logger, registry, logDir: commitLogDirOf(config) });
  const { writer, store, latest: latestValues } = pipeline;
  const auditDir = auditDirOf(config.dataDir);
  const auditKey = openAuditKey(
    auditKeyFileOf(config.audit.keyFile, config.dataDir),
    logger,
    auditLogIsKeyed(auditDir),
  );
  const audit = AuditLog.open({
    dir: auditDir,
    clock,
    logger: logger.child({ module: 'audit' }),
    maxFileBytes: config.audit.maxFileBytes,
    registry,
    key: auditKey,
    witness: { everyEntries: config.audit.witnessEveryEntries, everyMs: config.audit.witnessEveryMinutes * 60_000 },
  });
  const auditLogger = logger.child({ module: 'audit' });
  await importPending(auditDir, audit, auditLogger);
  // entries the command line left while this platform holds the log (ioc credentials ...)
  const pendingTimer = clock.setInterval(() => {
    void importPending(auditDir, audit, auditLogger);
  }, 5000);

  // --- ingest, alerts, broker and API are wired while the store opens ---
  const events = new IngestEvents();
  events.on('error', (err: Error) => logger.error({ err }, 'an ingest event listener failed'));
  const states = new DeviceStateTracker(city, events);
  // cluster mode: one owner node per rule partition, alert events through Redis (cluster/alert-cluster.ts)
  const alertCluster = alertClusterOf(config, nodeIdOf(config), {
    city,
    local: events,
    clock,
    timers: systemClock,
    logger,
    registry,
  });
  const alerts = createAlertService({
    store: writeThrough(store, (points) => writer.write(points)),
    city,
    events: alertCluster?.events ?? events,
    ...(alertCluster ? { owns: alertCluster.owns } : {}),
    clock,
    logger: logger.child({ module: 'alerts' }),
    rulesDir: city.rulesDir,
    dataDir: config.dataDir,
    flap: { transitions: config.limits.alertFlapTransitions, windowMs: config.limits.alertFlapWindowSeconds * 1000 },
  });
  devices.onSensorsChanged(() => alerts.sensorsChanged('registry'));
  // agencies, routing, handling, escalation and silences around the engine (docs/operations-workflow.md)
  const operations = createAlertOperations({
    ops: operationsConfig,
    alerts,
    clock,
    dataDir: config.dataDir,
    logger: logger.child({ module: 'operations' }),
    publish: (t, p, o) => broker.publish(t, p, o),
    audit,
    registry,
    sensorKinds: [...city.kinds.keys()],
  });
  // refusals by the broker's lanes count against a device's health as ingest's do (ingest/device-refusals.ts)
  const deviceRefusals = announceDeviceRefusals(events, city, clock, logger);
  const ingest = createIngest({
    city,
    limits: { ...config.ingest, maxPayloadBytes: config.mqtt.maxPayloadBytes },
    sink: writer,
    events,
    clock,
    logger,
    metrics: createIngestMetrics(registry),
  });
  // one message budget per device for MQTT and HTTP ingest alike (broker/device-budget.ts), integrations too
  const deviceBudget = createDeviceBudget(config.limits, clock, logger, registry, deviceRefusals);
  // ChirpStack, camera sources: their MQTT dialects and HTTP routes (platform-integrations.ts)
  const integrations = createIntegrations({ config, city, ingest, logger, registry, budget: deviceBudget });
  // the hard packet cap leaves room for the payload limit to be answered with a reason first
  // refused MQTT CONNECTs in the audit log, a few per address and minute, the rest summed (audit/bounded-audit.ts)
  const connectAudit = createBoundedAudit({
    audit,
    clock,
    action: MQTT_CONNECT_REFUSED_ACTION,
    perWindow: config.audit.authFailuresPerMinute,
  });
  const broker = await createBroker({
    onConnectRefused: (r) =>
      connectAudit.record(r.address, {
        actor: { name: 'anonymous', role: 'anonymous' },
        address: r.address,
        action: MQTT_CONNECT_REFUSED_ACTION,
        outcome: 'failure',
        target: 'mqtt.connect',
        details: {
          ...(r.username === undefined ? {} : { username: r.username }),
          clientId: r.clientId,
          returnCode: r.returnCode,
          reason: r.reason,
        },
      }),
    dialects: integrations.dialects,
    budget: deviceBudget,
    maxPacketBytes: Math.max(1024 * 1024, 4 * config.mqtt.maxPayloadBytes),
    auth: devices.gateDevices(accounts),
    sessions: liveSessions,
    isCurrent: (p) => accounts.isCurrent(p) && devices.isCurrentDevice(p),
    insecure: config.security.insecure,
    ingest,
    city,
    logger,
    registry,
    limits: config.limits,
    clock,
    trustedProxies: proxyTrust(config.mqtt.trustedProxies),
    ...(config.cluster.redis ? { shared: createRedisBrokerState(config.cluster.redis) } : {}),
  });

  // --- API ---
  const health = (): HealthReport => {
    const p = pipeline.health();
    const auditState = audit.state();
    const auditFailing = auditState.chain === 'broken' || Boolean(auditState.writeError);
    return {
      status: p.status === 'down' ? 'down' : p.status === 'degraded' || auditFailing ? 'degraded' : 'ok',
      integrity: p.integrity,
      audit: {
        chain: auditState.chain,
        reason: auditState.reason,
        writeError: auditState.writeError,
        seq: auditState.head.seq,
      },
      insecure: config.security.insecure,
      broker: { ready: true, clients: broker.connectedClients },
      store: p.store,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      storage: p.storage,
    };
  };

  const guard = createAuthGuard(accounts, config.security.insecure, webSessions);
  const isOnDuty = (account: string): boolean => accounts.account(account)?.iocDuty === true;
  // alert delivery: WebSocket hub, MQTT ioc/alerts/..., webhooks (the REST, stream and CAP routes below)
  const delivery = startAlertDelivery({
    feed: alerts,
    ...(alertCluster ? { hubFeed: alertCluster.feed } : {}),
    clock,
    logger: logger.child({ module: 'alert-delivery' }),
    publish: (t, p, o) => broker.publish(t, p, o),
    webhooks: config.webhooks,
    registry,
  });
  // a read sees what was accepted before it (store/durable-pipeline.ts)
  const readBarrier = () => pipeline.readBarrier();
  // links in the public feed: public.baseUrl, else the address listened on (known once listening)
  let listenUrl = '';
  // NGSI-LD entities from the same in-memory state the console reads (api/ngsi-ld/, docs/ngsi-ld.md)
  const ngsiLd = createNgsiLdSource({ city, states, latest: latestValues, alerts, clock });
  let mqttUrlForDevices = '';
  // processing times (private and public) and shift handover reports (issue 16 items 5, 7)
  const reports = createOperationsReports({
    alerts,
    ops: operationsConfig,
    clock,
    publish: config.public.publish,
    silences: operations.silences,
    offline: () => offlineDevices(city.sensors, states),
    reports: config.reports,
    logger: logger.child({ module: 'reports' }),
    registry,
  });
  const nodeFacts = () => ({
    httpUrl: listenUrl,
    mqttUrl: mqttUrlForDevices,
    clients: broker.connectedClients,
    commitLogLagBytes: pipeline.health().store.lagBytes,
  });
  // cluster mode: made once the store is open (below); an admin's change answers once Redis has it
  let shared: SharedState | undefined;
  const routes: FastifyPluginAsync[] = [
    ...(alertCluster ? [alertActionForwarding({ nodeId: nodeIdOf(config), ownerOf: alertCluster.ownerOf })] : []),
    ...(alertCluster ? [sharedChangesSettled(() => shared)] : []),
    auditHooks({ audit, clock, registry, logger, authFailuresPerMinute: config.audit.authFailuresPerMinute }),
    auditRoutes({ audit, dir: auditDir }),
    systemRoutes({
      city,
      guard,
      registry,
      health,
      tileUrl: config.map.tileUrl,
      tileAttribution: config.map.tileAttribution,
    }),
    sensorsRoutes({ city, store, states, guard, readBarrier, latest: latestValues }),
    ingestRoutes({ ingest, guard, maxPayloadBytes: config.mqtt.maxPayloadBytes, budget: deviceBudget }),
    ...integrations.routes,
    lineProtocolRoutes({
      ingest,
      city,
      auth: accounts,
      insecure: config.security.insecure,
      maxReadingsPerPublish: config.ingest.maxReadingsPerPublish,
      maxBodyBytes: config.ingest.lineProtocolMaxBytes,
      budget: deviceBudget,
    }),
    createConsolePlugin({ auth: guard, logger }),
    alertWorkflowRoutes({ alerts, workflow: operations.workflow, ops: operationsConfig, isOnDuty, audit }),
    silencesRoutes({ silences: operations.silences, clock, audit }),
    ...reports.routes,
    ...alertsApi({
      alerts,
      delivery,
      store,
      city,
      guard,
      clock,
      readBarrier,
      liveSessions,
      audit,
      workflow: { service: operations.workflow, isOnDuty },
      cap: { ...config.cap, publicBaseUrl: () => config.public.baseUrl ?? listenUrl },
    }),
    sessionRoutes({
      auth: accounts,
      sessions: webSessions,
      clock,
      registry,
      limiter: createLoginLimiter(
        {
          ...config.accounts,
          windowMs: config.accounts.failureWindowMinutes * 60_000,
          knownAddressMs: config.accounts.knownAddressDays * 86_400_000,
        },
        clock,
      ),
      audit,
      auditPerMinute: config.audit.authFailuresPerMinute,
    }),
    accountsRoutes({ auth: accounts, clock, audit, sensorIds: () => city.sensorsById.keys() }),
    ngsiLdRoutes({ source: ngsiLd, public: config.ngsiLd.public, logger, registry }),
    ...sensorRegistryRoutes(),
    clusterRoutes({
      status: async () =>
        alertCluster
          ? alertCluster.status()
          : singleNodeStatus({
              id: nodeIdOf(config),
              address: { http: listenUrl, mqtt: mqttUrlForDevices },
              upSince: new Date(startedAt).toISOString(),
              lastHeartbeat: new Date().toISOString(),
              clients: broker.connectedClients,
              commitLogLagBytes: pipeline.health().store.lagBytes,
            }),
    }),
  ];
  function sensorRegistryRoutes(): FastifyPluginAsync[] {
    const admin = createSensorAdmin({ registry: devices.registry, changeAuth: (fn) => accounts.change(fn) });
    const codes = new ProvisioningCodes(config.dataDir, clock);
    const limiter = createProvisioningLimiter(
      {
        maxFailures: config.accounts.maxFailuresPerAddress,
        windowMs: config.accounts.failureWindowMinutes * 60_000,
      },
      clock,
    );
    return [
      sensorAdminRoutes({
        registry: devices.registry,
        admin,
        codes,
        hasSecret: (id) => accounts.device?.(id) !== undefined,
        audit,
        metrics: registry,
      }),
      sensorImportRoutes({ registry: devices.registry, admin, audit }),
      provisionRoutes({
        codes,
        admin,
        exists: (id) => devices.registry.entry(id) !== undefined,
        limiter,
        registry,
        audit,
        clock,
        auditPerMinute: config.audit.authFailuresPerMinute,
        mqttUrl: () => mqttUrlForDevices,
      }),
    ];
  }
  const app = await buildApp({
    logger,
    routes,
    version: VERSION,
    https: listeners.https,
    access: { guard, registry },
    security: { allowedOrigins: config.http.cors.origins, publicOrigin: config.public.baseUrl, registry },
    trustedProxies: config.http.trustedProxies,
    mqttOverWebSocket: (stream, req, address) => broker.handleStream(stream, req, address),
  });

  // --- the store: replay what the commit log holds, restore state, then listen ---
  let openedStore: TimeSeriesStore;
  try {
    openedStore = await pipeline.open();
  } catch (err) {
    // e.g. InfluxDB refused the credentials: release what was built before saying so (the pipeline has)
    accounts.close();
    await redisSessions?.stop();
    devices.close();
    await alertCluster?.stop();
    await delivery.stop();
    await app.close();
    await broker.close();
    pendingTimer.cancel();
    await audit.close();
    throw err;
  }
  await states
    .restore(openedStore, clock.now())
    .catch((err: Error) => logger.warn({ err: err.message }, 'could not restore device states from the store'));
  await alerts.start();
  // cluster mode: accounts, device secrets, the device registry and API rule changes are the cluster's (in
  // Redis), taken before a device or an operator can reach this node (cluster/shared-state.ts)
  shared = config.cluster.redis
    ? createSharedState({
        redisUrl: config.cluster.redis,
        keyPrefix: config.cluster.keyPrefix,
        nodeId: nodeIdOf(config),
        logger,
        accounts,
        registry: devices.registry,
        rules: alerts.ruleChanges,
      })
    : undefined;
  await shared?.start();
  await alertCluster?.start(alerts, nodeFacts);
  const ngsiLdPush = config.ngsiLd.push
    ? startNgsiLdPush({
        source: ngsiLd,
        config: config.ngsiLd.push,
        clock,
        logger: logger.child({ module: 'ngsi-ld-push' }),
        registry,
      })
    : undefined;
  operations.start();

  const tcp = await broker.listenTcp(config.mqtt.port, config.mqtt.host);
  const mqttPort = (tcp.address() as { port: number }).port;
  // Fastify logs each address it listens on (both loopback and the LAN address for 0.0.0.0): that is the
  // HTTP listener's line, worded like the others
  await app.listen({
    port: config.http.port,
    host: config.http.host,
    listenTextResolver: (address) => `HTTP API listening on ${address} (docs at ${address}/docs)`,
  });
  const httpPort = (app.server.address() as { port: number }).port;
  const { mqttsUrl } = await listeners.start({
    broker,
    httpServer: app.server,
    registry,
    // a configuration reload: the certificate files changed on disk (config/tls-reloader.ts)
    onReload: (result, cert) =>
      void recordConfigReload(audit, {
        target: 'tls',
        outcome: result === 'reloaded' ? 'success' : 'failure',
        details: cert
          ? { fingerprint256: cert.fingerprint256, notAfter: new Date(cert.notAfter).toISOString() }
          : { kept: 'the previous certificate' },
      }),
  });

  const httpUrl = `${listeners.httpScheme}://${hostForUrl(config.http.host)}:${httpPort}`;
  listenUrl = httpUrl;
  const mqttUrl = `mqtt://${hostForUrl(config.mqtt.host)}:${mqttPort}`;
  mqttUrlForDevices = mqttsUrl ?? mqttUrl;
  const mqttWsUrl = `${listeners.wsScheme}://${hostForUrl(config.http.host)}:${httpPort}/mqtt`;
  logger.info(`MQTT broker listening on ${mqttUrl}`);
  logger.info(`MQTT over WebSocket listening on ${mqttWsUrl}`);
  await recordPlatformStart(audit, auditDir, {
    version: VERSION,
    profile: config.profile,
    configFile: config.configFile,
    config: { ...config },
  });
  logger.info(
    { store: store.name, dataDir: config.dataDir, sensors: city.sensors.length, readyMs: Date.now() - startedAt },
    'platform ready',
  );

  const credentials =
    creds.generated ?? (existsSync(creds.credentialsFile) ? readCredentialsFile(creds.credentialsFile) : undefined);
  // The demo fleet plays the default city in-process so a fresh clone shows data and alerts at once;
  // a production profile never runs it, and demo.enabled: false (IOC_DEMO=0) turns it off.
  let demo: DemoFleet | undefined;
  if (config.profile === 'demo' && config.demo.enabled && credentials) {
    // loaded only here: the fleet pulls in the MQTT client and the simulators, which a production start never needs
    const { startDemoFleet } = await import('./simulators/demo-fleet.ts');
    demo = await startDemoFleet({ mqttUrl, credentials, city, clock, logger: logger.child({ module: 'demo' }) }).catch(
      (err: Error) => {
        logger.warn({ err: err.message }, 'the demo fleet could not start');
        return undefined;
      },
    );
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
      devices.close();
      await step('demo fleet', async () => demo?.stop());
      await step('alert operations', () => operations.stop());
      await step('operations reports', async () => reports.stop());
      await step('alert delivery', () => delivery.stop());
      await step('cluster alerts', async () => alertCluster?.stop());
      await step('cluster shared state', async () => shared?.stop());
      await step('console sessions', async () => redisSessions?.stop());
      await step('NGSI-LD push', async () => {
        await ngsiLdPush?.stop();
        ngsiLd.stop();
      });
      await step('HTTP server', () => app.close());
      await step('MQTT broker', () => broker.close());
      await step('MQTT refusal audit', () => connectAudit.close());
      await step('TLS listeners', () => listeners.close());
      await step('alerts engine', () => alerts.stop());
      await step('durable pipeline', () => pipeline.close());
      pendingTimer.cancel();
      await recordPlatformStop(audit);
      await audit.close();
      logger.info('stopped');
    })();
    return closing;
  };

  return {
    config,
    city,
    logger,
    httpUrl,
    mqttUrl,
    mqttWsUrl,
    mqttsUrl,
    credentialsFile: creds.credentialsFile,
    credentials,
    events,
    ingest,
    store,
    writer,
    broker,
    app,
    registry,
    states,
    alerts,
    operations,
    delivery,
    audit,
    accounts,
    liveSessions,
    health,
    close,
    // made when the store opened (store/durable-pipeline.ts)
    get feeder() {
      return pipeline.feeder;
    },
  };
}
