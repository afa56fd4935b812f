import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createAlertService, type AlertEngine } from './alerts/alert-service.ts';
import type { MqttPublish } from './alerts/delivery/mqtt-alert-publisher.ts';
import { createAlertOperations, type AlertOperations } from './alerts/workflow/alert-operations.ts';
import { writeThrough } from './alerts/write-through-store.ts';
import type { AuditRecorder } from './audit/audit-log.ts';
import { alertClusterOf, type AlertCluster } from './cluster/alert-cluster.ts';
import { nodeIdOf } from './cluster/cluster-node.ts';
import type { City } from './config/city-config.ts';
import type { Operations } from './config/operations-config.ts';
import type { PlatformConfig } from './config/platform-config.ts';
import { systemClock, type Clock } from './core/clock.ts';
import type { IngestEvents } from './ingest/ingest-events.ts';
import type { DurableWriter } from './store/durable-writer.ts';
import type { TimeSeriesStore } from './store/time-series-store.ts';

export interface PlatformAlerts {
  /** cluster mode only (cluster.redis): rule partitions owned across nodes, alert events through Redis */
  readonly alertCluster: AlertCluster | undefined;
  readonly alerts: AlertEngine;
  /** agencies, routing, handling, escalation and silences around the engine (docs/operations-workflow.md) */
  readonly operations: AlertOperations;
}

/**
 * The alerts engine as the platform runs it (the composition root's helper): in a cluster, this node
 * evaluates only the rule partitions it owns and hears the others' events through Redis
 * (cluster/alert-cluster.ts); its events are stored through the commit log like readings; the workflow
 * runs around it. Nothing is started here: the platform starts them once the store has opened.
 */
export function createPlatformAlerts(deps: {
  config: PlatformConfig;
  city: City;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  events: IngestEvents;
  store: TimeSeriesStore;
  writer: DurableWriter;
  operationsConfig: Operations;
  audit: AuditRecorder;
  /** the broker's publish (agency notices on MQTT) */
  publish: MqttPublish;
}): PlatformAlerts {
  const { config, city, clock, logger, registry, events } = deps;
  const alertCluster = alertClusterOf(config, nodeIdOf(config), {
    city,
    local: events,
    clock,
    timers: systemClock,
    logger,
    registry,
  });
  const alerts = createAlertService({
    store: writeThrough(deps.store, (points) => deps.writer.write(points)),
    city,
    events: alertCluster?.events ?? events,
    // in a cluster a read answers as the shared alert stream shows, on any node (alerts/alert-queries.ts)
    ...(alertCluster ? { owns: alertCluster.owns, clusterView: alertCluster.feed } : {}),
    clock,
    logger: logger.child({ module: 'alerts' }),
    rulesDir: city.rulesDir,
    dataDir: config.dataDir,
    flap: { transitions: config.limits.alertFlapTransitions, windowMs: config.limits.alertFlapWindowSeconds * 1000 },
  });
  const operations = createAlertOperations({
    ops: deps.operationsConfig,
    alerts,
    clock,
    dataDir: config.dataDir,
    logger: logger.child({ module: 'operations' }),
    publish: deps.publish,
    audit: deps.audit,
    registry,
    sensorKinds: [...city.kinds.keys()],
  });
  return { alertCluster, alerts, operations };
}
