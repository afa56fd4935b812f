import { z } from 'zod';
import type { Alert } from './alert-model.ts';
import { CATEGORIES, SEVERITIES } from './rule-schema.ts';
import { workflowSchema } from './workflow/workflow-model.ts';

/**
 * The alert model as a zod schema: what the journal reads back from the store and what the API sends
 * (and documents in OpenAPI). One schema, so the stored and the served shape cannot drift apart.
 */
export const ALERT_STATES = [
  'pending',
  'firing',
  'acknowledged',
  'inProgress',
  'resolved',
] as const satisfies readonly Alert['state'][];

const i18nText = z.object({ vi: z.string(), en: z.string() });

export const alertSchema = z.object({
  id: z.string(),
  ruleId: z.string(),
  sensorId: z.string(),
  kind: z.string(),
  district: z.string(),
  severity: z.enum(SEVERITIES),
  category: z.enum(CATEGORIES),
  subCategory: z.string(),
  state: z.enum(ALERT_STATES),
  title: i18nText,
  message: i18nText,
  metric: z.string().optional(),
  value: z.number().optional(),
  threshold: z.number().optional(),
  unit: z.string().optional(),
  location: z.object({ lat: z.number(), lon: z.number() }).optional(),
  startsAt: z.number().describe('epoch ms: when the condition first held'),
  firingAt: z.number().optional(),
  updatedAt: z.number(),
  acknowledgedAt: z.number().optional(),
  acknowledgedBy: z.string().optional(),
  ackNote: z.string().optional(),
  resolvedAt: z.number().optional(),
  resolvedBy: z.string().optional().describe('"system" when the rule cleared it'),
  resolveNote: z.string().optional(),
  flapping: z
    .boolean()
    .optional()
    .describe('state changes too often: further changes are recorded, not announced, until it settles'),
  workflow: workflowSchema
    .optional()
    .describe('routing, handling, escalation and silence (docs/operations-workflow.md)'),
});
