import type { EventEmitter } from 'node:events';
import type { Alert, AlertEvent, AlertState, Severity } from './alert-model.ts';
import type { Rule } from './rule-schema.ts';

/** What alert delivery (WebSocket, REST, MQTT out, webhooks, CAP) and the API may ask of the engine. */
export interface AlertFilter {
  state?: AlertState[];
  severity?: Severity[];
  kind?: string[];
  district?: string[];
  sensorId?: string;
  /** epoch ms: alerts updated at or after */
  from?: number;
  /** epoch ms: alerts that started before */
  to?: number;
  limit?: number;
}

/**
 * What the handling workflow adds to a new alert (alerts/workflow/workflow-service.ts): its agency and a
 * silence mark. Undefined holds the alert back entirely (a device under maintenance raises no no-data alert).
 */
export type RaiseHook = (
  alert: Alert,
  context: { readonly rule: Rule; readonly aboutDevice: boolean },
) => Alert | undefined;

export interface RuleRegistry {
  list(): Rule[];
  get(id: string): Rule | undefined;
  /** Validates (DomainError invalid, naming the field), persists and applies at once. */
  put(rule: unknown, by: string): Promise<Rule>;
  /** DomainError not_found when no such rule. Open alerts of the rule are resolved. */
  remove(id: string, by: string): Promise<void>;
}

export interface AlertService {
  /** Every lifecycle event, in order, each with a seq one higher than the last. */
  readonly bus: EventEmitter<{ alert: [AlertEvent] }>;
  /** Restores open alerts from the store, then subscribes to IngestEvents. */
  start(): Promise<void>;
  stop(): Promise<void>;
  list(filter: AlertFilter): Promise<Alert[]>;
  get(id: string): Promise<Alert | undefined>;
  /** Alerts not yet resolved. */
  open(): Alert[];
  /** DomainError not_found / conflict (already resolved, or still pending). */
  acknowledge(id: string, by: string, note?: string): Promise<Alert>;
  /** DomainError not_found / conflict (already resolved). `change` adds to the resolved alert (an outcome). */
  resolve(id: string, by: string, note?: string, change?: (resolved: Alert) => Alert): Promise<Alert>;
  /**
   * Changes an open alert and records it as one event of `type` (the handling workflow, alerts/workflow/).
   * `change` sees the current alert and may throw a DomainError: then nothing changes. Resolves once stored.
   */
  amend(id: string, type: 'acknowledged' | 'workflow', change: (current: Alert) => Alert): Promise<Alert>;
  rules: RuleRegistry;
}
