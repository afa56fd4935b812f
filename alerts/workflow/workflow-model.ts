import { z } from 'zod';

/**
 * How an alert is being handled, carried on the alert itself (`Alert.workflow`) so every lifecycle event
 * in `alert_events` holds it: a restart folds the latest snapshot back and nothing else needs storing.
 * `log` is the alert's handling history (who did what, when); it is bounded (LOG_LIMIT) so a snapshot
 * stays small. docs/operations-workflow.md describes the states and what moves them.
 */
export const OUTCOMES = ['handled', 'falseAlarm', 'duplicate', 'deviceFault'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const WORKFLOW_ACTIONS = [
  'assigned',
  'reassigned',
  'acknowledged',
  'inProgress',
  'stepDone',
  'escalated',
  'silenced',
  'unsilenced',
  'resolved',
] as const;
export type WorkflowAction = (typeof WORKFLOW_ACTIONS)[number];

export const LOG_LIMIT = 100;

export const workflowEntrySchema = z.object({
  at: z.number().describe('epoch ms'),
  by: z.string().describe('an account name, or "system"'),
  action: z.enum(WORKFLOW_ACTIONS),
  note: z.string().optional(),
  agencyId: z.string().optional(),
  assignee: z.string().optional(),
  stepId: z.string().optional(),
  level: z.number().int().optional().describe('escalation level reached (1 re-notify, 2 next level, 3 duty desk)'),
  outcome: z.enum(OUTCOMES).optional(),
  offHours: z.boolean().optional().describe('the notified agency was outside its working hours'),
});
export type WorkflowEntry = z.infer<typeof workflowEntrySchema>;

export const workflowSchema = z.object({
  agencyId: z.string().describe('the agency responsible'),
  assignee: z.string().optional().describe('a person the alert is assigned to'),
  route: z.string().describe('the routing rule that chose the agency, or "default" / "manual"'),
  inProgressAt: z.number().optional(),
  inProgressBy: z.string().optional(),
  outcome: z.enum(OUTCOMES).optional(),
  steps: z.array(z.object({ stepId: z.string(), by: z.string(), at: z.number() })).describe('SOP steps ticked off'),
  escalation: z.object({
    phase: z.enum(['acknowledge', 'resolve']),
    level: z.number().int().min(0).max(3),
    at: z.number().optional(),
  }),
  silence: z
    .object({ id: z.string(), reason: z.string(), until: z.number().optional() })
    .optional()
    .describe('a silence or maintenance window held this alert: recorded and shown, never notified or escalated'),
  log: z.array(workflowEntrySchema),
});
export type AlertWorkflow = z.infer<typeof workflowSchema>;

/** Appends to the log, dropping the oldest entries past LOG_LIMIT (the first, the assignment, is kept). */
export function withEntry(workflow: AlertWorkflow, entry: WorkflowEntry): AlertWorkflow {
  const log = [...workflow.log, entry];
  if (log.length > LOG_LIMIT) log.splice(1, log.length - LOG_LIMIT);
  return { ...workflow, log };
}
