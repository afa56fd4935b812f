import type { AlertWorkflow } from './workflow-model.ts';

/** Copies the workflow field by field (as presentAlert does), so nothing internal leaks out. */
export function presentWorkflow(w: AlertWorkflow): AlertWorkflow {
  return {
    agencyId: w.agencyId,
    assignee: w.assignee,
    route: w.route,
    inProgressAt: w.inProgressAt,
    inProgressBy: w.inProgressBy,
    outcome: w.outcome,
    steps: w.steps.map((s) => ({ stepId: s.stepId, by: s.by, at: s.at })),
    escalation: { phase: w.escalation.phase, level: w.escalation.level, at: w.escalation.at },
    silence: w.silence ? { id: w.silence.id, reason: w.silence.reason, until: w.silence.until } : undefined,
    log: w.log.map((e) => ({ ...e })),
  };
}
