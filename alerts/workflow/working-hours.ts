import { DAY_NAMES, type Agency, type Operations } from '../../config/operations-config.ts';

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Whether `t` falls in the agency's working hours, read in the city's time zone. */
export function withinHours(agency: Agency, t: number, timezone: string): boolean {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timezone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(new Date(t)).map((p) => [p.type, p.value]));
  const day = DAY_NAMES.find((d) => d === String(parts.weekday).slice(0, 3).toLowerCase());
  if (!day || !agency.hours.days.includes(day)) return false;
  const hm = `${String(parts.hour).padStart(2, '0')}:${String(parts.minute).padStart(2, '0')}`;
  return hm >= agency.hours.from && hm < agency.hours.to;
}

/** the agency is known and outside its working hours at `t` */
export function isOffHours(ops: Operations, agencyId: string, t: number): boolean {
  const agency = ops.agenciesById.get(agencyId);
  return agency !== undefined && !withinHours(agency, t, ops.timezone);
}

/**
 * Who covers for `agencyId` at `t`: the IOC duty desk when the agency is off hours (nobody reads a ward's
 * channel at 3 a.m., and the duty desk is staffed around the clock), else nobody. Notices then go to the
 * duty desk at once as well, and escalation rungs meant for the agency go to the duty desk instead.
 */
export function coverOf(ops: Operations, agencyId: string, t: number): string | undefined {
  return agencyId !== ops.dutyDesk && isOffHours(ops, agencyId, t) ? ops.dutyDesk : undefined;
}
