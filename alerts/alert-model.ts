// The shared alert model: the contract between the alerts engine (alerts/) and alert delivery
// (alerts/delivery/, api/alerts-*.ts). Kept verbatim from the agreed model; change it only together.
// Issue 16 added `inProgress`, `workflow` and the `workflow` event (alerts/workflow/, docs/operations-workflow.md).
import type { AlertWorkflow } from './workflow/workflow-model.ts';
export type Severity = 'informational' | 'low' | 'medium' | 'high' | 'critical';
export type AlertCategory = 'environment' | 'weather' | 'traffic' | 'naturalDisaster' | 'security';
export type AlertState = 'pending' | 'firing' | 'acknowledged' | 'inProgress' | 'resolved';
export interface I18nText {
  vi: string;
  en: string;
}
export interface Alert {
  id: string; // uuid
  ruleId: string;
  sensorId: string;
  kind: string;
  district: string;
  severity: Severity;
  category: AlertCategory;
  subCategory: string; // e.g. flood, airPollution, trafficJam
  state: AlertState;
  title: I18nText;
  message: I18nText; // message names the value and the threshold, e.g. "Mực nước 2,15 m vượt báo động II (2,0 m)"
  metric?: string;
  value?: number;
  threshold?: number;
  unit?: string;
  location?: { lat: number; lon: number };
  startsAt: number; // epoch ms: when the condition first held (pending)
  firingAt?: number;
  updatedAt: number;
  acknowledgedAt?: number;
  acknowledgedBy?: string;
  ackNote?: string;
  resolvedAt?: number;
  resolvedBy?: string; // 'system' when the rule cleared it
  resolveNote?: string;
  /** set on the event that found it flapping (alerts/flap-limiter.ts): changes after it are not announced */
  flapping?: boolean;
  /** routing, handling steps, escalation and silence (alerts/workflow/); absent on alerts raised before it */
  workflow?: AlertWorkflow;
}
export type AlertEventType = 'pending' | 'firing' | 'updated' | 'acknowledged' | 'workflow' | 'resolved';
export interface AlertEvent {
  seq: number;
  type: AlertEventType;
  ts: number;
  alert: Alert;
}
