import { join } from 'node:path';
import { Counter, type Registry } from 'prom-client';
import type { AuditRecorder } from '../../audit/audit-log.ts';
import type { Clock } from '../../core/clock.ts';
import type { Operations } from '../../config/operations-config.ts';
import type { AlertEngine } from '../alert-service.ts';
import type { DeliveryLogger } from '../delivery/delivery-logger.ts';
import type { MqttPublish } from '../delivery/mqtt-alert-publisher.ts';
import { startAgencyNotifier, type AgencyNotifier } from './agency-notifier.ts';
import { startEscalation, type Escalation } from './escalation.ts';
import { SilenceStore } from './silence-store.ts';
import { createWorkflowService, type WorkflowService } from './workflow-service.ts';

/**
 * The IOC's own job around the alerts engine, composed in one place: routing and handling (workflow),
 * silences, escalation and agency notices, with their counters in /metrics. platform.ts builds it before
 * the engine starts (so new alerts are routed) and starts escalation once open alerts are restored.
 */
export interface AlertOperations {
  readonly ops: Operations;
  readonly workflow: WorkflowService;
  readonly silences: SilenceStore;
  readonly escalation: Escalation;
  /** after alerts.start(): arms escalation for the restored alerts and starts agency notices */
  start(): void;
  stop(): Promise<void>;
  notifier(): AgencyNotifier | undefined;
}

export interface AlertOperationsDeps {
  readonly ops: Operations;
  readonly alerts: AlertEngine;
  readonly clock: Clock;
  readonly dataDir?: string;
  readonly logger: DeliveryLogger & { info(obj: object, msg?: string): void };
  readonly publish: MqttPublish;
  readonly audit?: AuditRecorder;
  readonly registry?: Registry;
  /** the city's sensor kinds, which a silence's `match.sensorKind` must name */
  readonly sensorKinds?: readonly string[];
}

export function createAlertOperations(deps: AlertOperationsDeps): AlertOperations {
  const { ops, alerts, clock, logger } = deps;
  const registers = deps.registry ? [deps.registry] : [];
  const workflowCount = new Counter({
    name: 'ioc_alert_workflow_total',
    help:
      'Alerts held back by a maintenance window (held_no_data), marked silenced, and workflow actions refused ' +
      "(not the alert's agency)",
    labelNames: ['what'],
    registers,
  });
  const escalations = new Counter({
    name: 'ioc_alert_escalations_total',
    help: 'Alert escalation steps by level (1 re-notify, 2 next level, 3 duty desk)',
    labelNames: ['level'],
    registers,
  });
  const silences = new SilenceStore(
    deps.dataDir ? join(deps.dataDir, 'silences.json') : undefined,
    clock,
    ops.timezone,
    logger,
    deps.sensorKinds,
  );
  const workflow = createWorkflowService({
    alerts,
    ops,
    silences,
    clock,
    logger,
    count: (what) => workflowCount.inc({ what }),
  });
  alerts.setRaiseHook(workflow.raiseHook);
  const escalation = startEscalation({
    alerts,
    ops,
    silences,
    clock,
    logger,
    audit: deps.audit,
    count: (level) => escalations.inc({ level: String(level) }),
    onAdopted: (listener) => alerts.partitions.onAdopted(listener),
  });
  let notifier: AgencyNotifier | undefined;
  return {
    ops,
    workflow,
    silences,
    escalation,
    start() {
      escalation.start();
      notifier ??= startAgencyNotifier({ bus: alerts.bus, ops, publish: deps.publish, clock, logger });
    },
    async stop() {
      escalation.stop();
      await notifier?.stop();
      notifier = undefined;
      silences.close();
    },
    notifier: () => notifier,
  };
}
