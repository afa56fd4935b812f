import { DAY_NAMES, type Agency } from '../../config/operations-config.ts';

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
