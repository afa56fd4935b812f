import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AlertEngine } from './alerts/alert-service.ts';
import type { AlertDelivery } from './alerts/delivery/alert-delivery.ts';
import type { AlertOperations } from './alerts/workflow/alert-operations.ts';
import { accountsRoutes } from './api/accounts-routes.ts';
import { alertWorkflowRoutes } from './api/alert-workflow-routes.ts';
import { alertsApi } from './api/alerts-api.ts';
import { auditHooks } from './api/audit-http.ts';
import { auditRoutes } from './api/audit-routes.ts';
import type { AuthGuard } from './api/auth.ts';
import { clusterRoutes } from './api/cluster-routes.ts';
import { ingestRoutes } from './api/ingest-routes.ts';
import { lineProtocolRoutes } from './api/line-protocol-routes.ts';
import { ngsiLdRoutes } from './api/ngsi-ld/ngsi-ld-routes.ts';
import type { NgsiLdSource } from './api/ngsi-ld/ngsi-ld-source.ts';
import { sensorsRoutes } from './api/sensors-routes.ts';
import { sessionRoutes } from './api/session-routes.ts';
import { silencesRoutes } from './api/silences-routes.ts';
import { systemRoutes, type HealthReport } from './api/system-routes.ts';
import type { AuditLog } from './audit/audit-log.ts';
import type { DeviceBudget } from './broker/device-budget.ts';
import { alertActionForwarding } from './cluster/alert-action-forwarding.ts';
import { sharedChangesSettled, type SharedState } from './cluster/shared-state.ts';
import type { AlertCluster } from './cluster/alert-cluster.ts';
import { nodeIdOf } from './cluster/cluster-node.ts';
import { singleNodeStatus } from './cluster/cluster-status.ts';
import type { PlatformConfig } from './config/platform-config.ts';
import type { City } from './config/city-config.ts';
import type { Operations } from './config/operations-config.ts';
import { createConsolePlugin } from './console/console-plugin.ts';
import type { Clock } from './core/clock.ts';
import type { DeviceStateTracker } from './ingest/device-state.ts';
import type { IngestService } from './ingest/ingest-service.ts';
import type { PlatformAccounts } from './platform-accounts.ts';
import { registryRoutes, type PlatformRegistry } from './platform-registry.ts';
import type { DurablePipeline } from './store/durable-pipeline.ts';

/** The running parts the HTTP API serves, as the composition root made them. */
export interface RouteParts {
  readonly config: PlatformConfig;
  readonly city: City;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly startedAt: number;
  readonly guard: AuthGuard;
  readonly health: () => HealthReport;
  readonly audit: AuditLog;
  readonly auditDir: string;
  readonly pipeline: DurablePipeline;
  readonly states: DeviceStateTracker;
  readonly ingest: IngestService;
  readonly deviceBudget: DeviceBudget;
  readonly integrationRoutes: readonly FastifyPluginAsync[];
  readonly signIn: Pick<
    PlatformAccounts,
    'accounts' | 'liveSessions' | 'webSessions' | 'loginLimiter' | 'sharedLimits'
  >;
  readonly devices: PlatformRegistry;
  readonly alerts: AlertEngine;
  readonly alertCluster: AlertCluster | undefined;
  readonly operations: AlertOperations;
  readonly operationsConfig: Operations;
  readonly reportRoutes: readonly FastifyPluginAsync[];
  readonly delivery: AlertDelivery;
  readonly ngsiLd: NgsiLdSource;
  readonly broker: { readonly connectedClients: number };
  /** the HTTP address listened on and the MQTT address devices are told, known once the platform listens */
  readonly listenUrl: () => string;
  readonly deviceMqttUrl: () => string;
  /** cluster mode: the shared state, once the store is open (an admin's change answers once Redis has it) */
  readonly shared: () => SharedState | undefined;
}

/**
 * The HTTP API as the list of route plugins buildApp registers (the composition root's helper): one plugin
 * per resource, each made from the parts it needs. Adding an endpoint is one line here
 * (docs/ARCHITECTURE.md, "An endpoint").
 */
export function platformRoutes(parts: RouteParts): FastifyPluginAsync[] {
  const { config, city, clock, logger, registry, guard, audit, pipeline, alerts, alertCluster, operations } = parts;
  const { accounts, liveSessions, webSessions, loginLimiter } = parts.signIn;
  const { store, latest } = pipeline;
  // a read sees what was accepted before it (store/durable-pipeline.ts)
  const readBarrier = () => pipeline.readBarrier();
  const isOnDuty = (account: string): boolean => accounts.account(account)?.iocDuty === true;
  return [
    ...(alertCluster
      ? [
          alertActionForwarding({
            nodeId: nodeIdOf(config),
            // required in cluster mode (config/cluster-config.ts refuses to start without it)
            secret: config.cluster.secret ?? '',
            ownerOf: alertCluster.ownerOf,
            registry,
          }),
        ]
      : []),
    ...(alertCluster ? [sharedChangesSettled(parts.shared)] : []),
    auditHooks({ audit, clock, registry, logger, authFailuresPerMinute: config.audit.authFailuresPerMinute }),
    auditRoutes({ audit, dir: parts.auditDir }),
    systemRoutes({
      city,
      guard,
      registry,
      health: parts.health,
      tileUrl: config.map.tileUrl,
      tileAttribution: config.map.tileAttribution,
    }),
    sensorsRoutes({ city, store, states: parts.states, guard, readBarrier, latest }),
    ingestRoutes({
      ingest: parts.ingest,
      guard,
      maxPayloadBytes: config.mqtt.maxPayloadBytes,
      budget: parts.deviceBudget,
    }),
    ...parts.integrationRoutes,
    lineProtocolRoutes({
      ingest: parts.ingest,
      city,
      auth: accounts,
      insecure: config.security.insecure,
      maxReadingsPerPublish: config.ingest.maxReadingsPerPublish,
      maxBodyBytes: config.ingest.lineProtocolMaxBytes,
      budget: parts.deviceBudget,
    }),
    createConsolePlugin({ auth: guard, logger }),
    alertWorkflowRoutes({ alerts, workflow: operations.workflow, ops: parts.operationsConfig, isOnDuty, audit }),
    silencesRoutes({ silences: operations.silences, clock, audit }),
    ...parts.reportRoutes,
    ...alertsApi({
      alerts,
      delivery: parts.delivery,
      store,
      city,
      guard,
      clock,
      readBarrier,
      liveSessions,
      audit,
      workflow: { service: operations.workflow, isOnDuty },
      cap: { ...config.cap, publicBaseUrl: () => config.public.baseUrl ?? parts.listenUrl() },
    }),
    sessionRoutes({
      auth: accounts,
      sessions: webSessions,
      clock,
      registry,
      limiter: loginLimiter,
      audit,
      auditPerMinute: config.audit.authFailuresPerMinute,
    }),
    accountsRoutes({ auth: accounts, clock, audit, sensorIds: () => city.sensorsById.keys() }),
    ngsiLdRoutes({ source: parts.ngsiLd, public: config.ngsiLd.public, logger, registry }),
    ...registryRoutes(parts.devices, {
      config,
      clock,
      accounts,
      audit,
      metrics: registry,
      mqttUrl: parts.deviceMqttUrl,
      ...(parts.signIn.sharedLimits ? { sharedLimits: parts.signIn.sharedLimits } : {}),
    }),
    clusterRoutes({
      status: async () =>
        alertCluster
          ? alertCluster.status()
          : singleNodeStatus({
              id: nodeIdOf(config),
              address: { http: parts.listenUrl(), mqtt: parts.deviceMqttUrl() },
              upSince: new Date(parts.startedAt).toISOString(),
              lastHeartbeat: new Date().toISOString(),
              clients: parts.broker.connectedClients,
              commitLogLagBytes: pipeline.health().store.lagBytes,
            }),
    }),
  ];
}
