import type { Alert } from './api-types.ts';

/** GET /api/agencies as the console reads it: the agencies alerts are routed to, and who I am among them. */
export interface Agencies {
  dutyDesk: string;
  me: { name: string; agencies: string[]; iocDuty: boolean };
  agencies: Array<{ id: string; name: { vi: string; en: string }; members: string[] }>;
}

export function agencyName(agencies: Agencies | undefined, id: string | undefined, lang: 'vi' | 'en'): string {
  if (!id) return '';
  return agencies?.agencies.find((a) => a.id === id)?.name[lang] ?? id;
}

/**
 * Whether I may work the alert, as the server decides it (alerts/workflow/workflow-service.ts canAct): the
 * IOC duty role, a member of the alert's agency, or the person it is assigned to. For what the console
 * shows only: the server refuses the others anyway.
 */
export function mayHandle(agencies: Agencies | undefined, alert: Pick<Alert, 'workflow'>): boolean {
  const me = agencies?.me;
  if (!me) return false;
  if (me.iocDuty) return true;
  const w = alert.workflow;
  return w !== undefined && (w.assignee === me.name || me.agencies.includes(w.agencyId));
}
