import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AlertEngine } from './alerts/alert-service.ts';
import { startAlertDelivery, type AlertDelivery } from './alerts/delivery/alert-delivery.ts';
import type { AlertOperations } from './alerts/workflow/alert-operations.ts';
import { createAuthGuard } from './api/auth.ts';
import { buildApp } from './api/build-app.ts';
import { startNgsiLdPush } from './api/ngsi-ld/ngsi-ld-push.ts';
import { createNgsiLdSource } from './api/ngsi-ld/ngsi-ld-source.ts';
import { createOperationsReports, offlineDevices } from './api/operations-reports.ts';
import type { HealthReport } from './api/system-routes.ts';
import type { AuditLog } from './audit/audit-log.ts';
import { openPlatformAudit } from './audit/platform-audit.ts';
import { recordPlatformStart } from './audit/platform-events.ts';
import { createBoundedAudit } from './audit/bounded-audit.ts';
import { addressKey } from './config/accounts/login-limiter.ts';
import { createBroker, type Broker } from './broker/create-broker.ts';
import { createDeviceBudget } from './broker/device-budget.ts';
import { createRedisBrokerState } from './broker/redis-broker-state.ts';
import { clusterLinkOf, commitLogDirOf } from './cluster/cluster-node.ts';
import { createSharedBrokerLimits } from './cluster/shared-broker-limits.ts';
import { createSharedState, type SharedState } from './cluster/shared-state.ts';
import type { LiveAuth } from './config/accounts/live-auth.ts';
import type { LiveSessionRegistry } from './config/accounts/live-sessions.ts';
import { loadCity, type City } from './config/city-config.ts';
import type { CredentialsFile } from './config/credentials.ts';
import { loadOperations } from './config/operations-config.ts';
import { loadPlatformConfig, type LoadConfigOptions, type PlatformConfig } from './config/platform-config.ts';
import { preparePrivateDataDir } from './config/private-files.ts';
import { proxyTrust } from './config/trusted-proxies.ts';
import { systemClock, type Clock } from './core/clock.ts';
import { projectPath } from './core/project-root.ts';
import { announceDeviceRefusals } from './ingest/device-refusals.ts';
import { DeviceStateTracker } from './ingest/device-state.ts';
import { IngestEvents } from './ingest/ingest-events.ts';
import { createIngestMetrics } from './ingest/ingest-metrics.ts';
import { createIngest, type IngestService } from './ingest/ingest-service.ts';
import { openPlatformAccounts } from './platform-accounts.ts';
import { createPlatformAlerts } from './platform-alerts.ts';
import { platformHealth } from './platform-health.ts';
import { checkIntegrations, createIntegrations } from './platform-integrations.ts';
import { openListeners, prepareListeners } from './platform-listeners.ts';
import { createPlatformLogger } from './platform-logger.ts';
import { startDemoIfEnabled } from './platform-demo.ts';
import { shutdownSequence } from './platform-shutdown.ts';
import { createPlatformMetrics } from './platform-metrics.ts';
import { openPlatformRegistry } from './platform-registry.ts';
import { platformRoutes } from './platform-routes.ts';
import { DurablePipeline } from './store/durable-pipeline.ts';
import type { DurableWriter } from './store/durable-writer.ts';
import type { StoreFeeder } from './store/store-feeder.ts';
import type { TimeSeriesStore } from './store/time-series-store.ts';

/** the audit action of a refused MQTT CONNECT (bounded per address and minute) */
const MQTT_CONNECT_REFUSED_ACTION = 'mqtt.connect_refused';
/**
 * The composition root: the only module that knows every other one. It wires config -> store (commit
 * log, writer, feeder, adapter) -> ingest -> broker -> API, starts the listeners and shuts them down in
 * the reverse order. What a part needs to be made lives with the part or in a platform-*.ts helper beside
 * this file (accounts, audit, health, metrics, listeners, device registry, integrations, logger).
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
  /** resolves once the store holds what was accepted before the call (what an API read waits for) */
  readBarrier(): Promise<void>;
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
  const registry = createPlatformMetrics(config);
  const { accounts, liveSessions, webSessions, redisSessions, ...signIn } = openPlatformAccounts({
    config,
    city,
    clock,
    logger,
    registry,
  });
  // a sign-out on another node closes the alert streams this node holds for that session
  await redisSessions?.start(webSessions, () => accounts.sweep());

  devices.attach(liveSessions, registry);
  // durability (store/durable-pipeline.ts): commit log -> group writer -> feeder -> store adapter, integrity
  // and disk state; the adapter opens in its own thread (or reaches a server) while the rest is wired
  const pipeline = new DurablePipeline({ config, clock, logger, registry, logDir: commitLogDirOf(config) });
  const { writer, store } = pipeline;
  // a refused audit (its key gone while the log is keyed) must not leave the store's worker and the data-dir
  // lock behind: the pipeline is released before the refusal is passed on
  const platformAudit = await openPlatformAudit({ config, clock, logger, registry }).catch(async (err: unknown) => {
    await pipeline.close();
    throw err;
  });
  const audit = platformAudit.log;

  // --- ingest, alerts, broker and API are wired while the store opens ---
  const events = new IngestEvents();
  events.on('error', (err: Error) => logger.error({ err }, 'an ingest event listener failed'));
  const states = new DeviceStateTracker(city, events);
  // the engine (in a cluster: the rule partitions this node owns) and the workflow around it (platform-alerts.ts)
  const { alertCluster, alerts, operations } = createPlatformAlerts({
    config,
    city,
    clock,
    logger,
    registry,
    events,
    store,
    writer,
    operationsConfig,
    audit,
    publish: (t, p, o) => broker.publish(t, p, o),
  });
  devices.onSensorsChanged(() => alerts.sensorsChanged('registry'));
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
  // refused MQTT CONNECTs in the audit log, a few per address and minute, the rest summed (audit/bounded-audit.ts);
  // an IPv6 client counts by its /64 (addressKey), as sign-ins and provisioning do: it holds 2^64 addresses
  const connectAudit = createBoundedAudit({
    audit,
    clock,
    action: MQTT_CONNECT_REFUSED_ACTION,
    perWindow: config.audit.authFailuresPerMinute,
  });
  // cluster mode: how this node reaches the cluster's Redis (also for the shared state below); MQTT connections,
  // device budgets and CONNECT penalties counted for the cluster
  const link = clusterLinkOf(config);
  const brokerLimits = link
    ? createSharedBrokerLimits({
        ...link,
        logger,
        registry,
        maxPenaltyMs: config.limits.abusePenaltyMaxSeconds * 1000,
      })
    : undefined;
  // the hard packet cap leaves room for the payload limit to be answered with a reason first
  const broker = await createBroker({
    onConnectRefused: (r) =>
      connectAudit.record(addressKey(r.address), {
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
    ...(brokerLimits ? { sharedLimits: brokerLimits } : {}),
  });

  // --- API ---
  const health = platformHealth({ pipeline, audit, broker, insecure: config.security.insecure, startedAt });
  const guard = createAuthGuard(accounts, config.security.insecure, webSessions);
  // alert delivery: WebSocket hub, MQTT ioc/alerts/..., webhooks (the REST, stream and CAP routes below)
  const delivery = startAlertDelivery({
    feed: alerts,
    ...(alertCluster ? { hubFeed: alertCluster.feed } : {}),
    clock,
    logger: logger.child({ module: 'alert-delivery' }),
    publish: (t, p, o) => broker.publish(t, p, o),
    webhooks: config.webhooks,
    allowPrivateWebhookTargets: config.security.allowPrivateWebhookTargets,
    dataDir: config.dataDir,
    registry,
  });
  // links in the public feed: public.baseUrl, else the address listened on (known once listening)
  let listenUrl = '';
  // NGSI-LD entities from the same in-memory state the console reads (api/ngsi-ld/, docs/ngsi-ld.md)
  const ngsiLd = createNgsiLdSource({ city, states, latest: pipeline.latest, alerts, clock });
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
  const routes = platformRoutes({
    shared: () => shared,
    config,
    city,
    clock,
    logger,
    registry,
    startedAt,
    guard,
    health,
    audit,
    auditDir: platformAudit.dir,
    pipeline,
    states,
    ingest,
    deviceBudget,
    integrationRoutes: integrations.routes,
    signIn: {
      accounts,
      liveSessions,
      webSessions,
      loginLimiter: signIn.loginLimiter,
      sharedLimits: signIn.sharedLimits,
    },
    devices,
    alerts,
    alertCluster,
    operations,
    operationsConfig,
    reportRoutes: reports.routes,
    delivery,
    ngsiLd,
    broker,
    listenUrl: () => listenUrl,
    deviceMqttUrl: () => mqttUrlForDevices,
  });
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
    // e.g. InfluxDB refused the credentials: release what was built before saying so (the pipeline has); a
    // release that fails is logged, and the error said is the one that stopped the start
    const { step } = shutdownSequence(logger);
    await step('accounts', () => accounts.close());
    await step('console sessions', async () => redisSessions?.stop());
    await step('shared limits', async () => signIn.sharedLimits?.stop());
    await step('shared MQTT limits', async () => brokerLimits?.stop());
    await step('device registry', () => devices.close());
    await step('cluster alerts', async () => alertCluster?.stop());
    await step('alert delivery', () => delivery.stop());
    await step('HTTP server', () => app.close());
    await step('MQTT broker', () => broker.close());
    await step('audit', () => platformAudit.abandon());
    throw err;
  }
  // what the close below stops, made by the steps after it
  let ngsiLdPush: ReturnType<typeof startNgsiLdPush> | undefined;
  let demo: Awaited<ReturnType<typeof startDemoIfEnabled>>;
  let closing: Promise<void> | undefined;
  /** Stops what runs; a start that failed before being recorded abandons the audit (it records no stop). */
  const close = (audit: 'stop' | 'abandon' = 'stop') => {
    closing ??= (async () => {
      logger.info('shutting down: closing listeners, flushing acknowledged readings');
      const { step, finish } = shutdownSequence(logger);
      await step('accounts', () => accounts.close());
      await step('device registry', () => devices.close());
      await step('demo fleet', async () => demo?.stop());
      await step('alert operations', () => operations.stop());
      await step('operations reports', async () => reports.stop());
      await step('alert delivery', () => delivery.stop());
      await step('cluster alerts', async () => alertCluster?.stop());
      await step('cluster shared state', async () => shared?.stop());
      await step('console sessions', async () => redisSessions?.stop());
      await step('shared limits', async () => signIn.sharedLimits?.stop());
      await step('NGSI-LD push', async () => {
        await ngsiLdPush?.stop();
        ngsiLd.stop();
      });
      await step('HTTP server', () => app.close());
      await step('MQTT broker', () => broker.close());
      await step('shared MQTT limits', async () => brokerLimits?.stop());
      await step('MQTT refusal audit', () => connectAudit.close());
      await step('TLS listeners', () => listeners.close());
      await step('alerts engine', () => alerts.stop());
      await step('durable pipeline', () => pipeline.close());
      await step('audit', () => (audit === 'stop' ? platformAudit.stop() : platformAudit.abandon()));
      finish();
    })();
    return closing;
  };

  // a step that fails (Redis refusing the shared state, a port in use) releases everything made so far: no
  // listener, worker thread, Redis connection or data-dir lock outlives a start that did not happen
  let addresses: Awaited<ReturnType<typeof openListeners>>;
  const { credentials } = signIn;
  let recorded = false;
  try {
    await states
      .restore(openedStore, clock.now())
      .catch((err: Error) => logger.warn({ err: err.message }, 'could not restore device states from the store'));
    await alerts.start();
    // cluster mode: accounts, device secrets, the device registry, API rule changes, silences, provisioning codes
    // and webhook targets are the cluster's (in Redis), taken before anyone can reach this node
    // (cluster/shared-state.ts)
    shared = link
      ? createSharedState({
          ...link,
          logger,
          accounts,
          registry: devices.registry,
          rules: alerts.ruleChanges,
          silences: operations.silences,
          codes: devices.codes,
          webhookTargets: delivery.webhookTargets,
          // required in cluster mode (config/cluster-config.ts refuses to start without it)
          clusterSecret: config.cluster.secret ?? '',
        })
      : undefined;
    await shared?.start();
    await brokerLimits?.start();
    await alertCluster?.start(alerts, nodeFacts);
    ngsiLdPush = config.ngsiLd.push
      ? startNgsiLdPush({
          source: ngsiLd,
          config: config.ngsiLd.push,
          clock,
          logger: logger.child({ module: 'ngsi-ld-push' }),
          registry,
        })
      : undefined;
    operations.start();

    addresses = await openListeners(listeners, { config, broker, app, registry, audit, logger });
    listenUrl = addresses.httpUrl;
    mqttUrlForDevices = addresses.mqttsUrl ?? addresses.mqttUrl;
    await recordPlatformStart(audit, platformAudit.dir, {
      version: VERSION,
      profile: config.profile,
      configFile: config.configFile,
      config: { ...config },
    });
    recorded = true;
    logger.info(
      { store: store.name, dataDir: config.dataDir, sensors: city.sensors.length, readyMs: Date.now() - startedAt },
      'platform ready',
    );

    demo = await startDemoIfEnabled({ config, credentials, mqttUrl: addresses.mqttUrl, city, clock, logger });
  } catch (err) {
    await close(recorded ? 'stop' : 'abandon').catch((closeErr: unknown) =>
      logger.warn({ err: closeErr }, 'releasing a failed start did not finish'),
    );
    throw err;
  }

  return {
    config,
    city,
    logger,
    ...addresses,
    credentialsFile: signIn.credentialsFile,
    credentials,
    events,
    ingest,
    store,
    readBarrier: () => pipeline.readBarrier(),
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
    close: () => close(),
    // made when the store opened (store/durable-pipeline.ts)
    get feeder() {
      return pipeline.feeder;
    },
  };
}
