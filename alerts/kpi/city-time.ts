import { DomainError } from '../../core/domain-error.ts';

/**
 * Periods people ask for are in the city's time zone (Asia/Ho_Chi_Minh for Huế): "2026-10-15" means that
 * day's midnight in Huế, not in UTC. A time with an explicit offset or Z is taken as written.
 */
const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/** the zone's offset from UTC at `epochMs`, in ms (Intl knows the zone's rules; no table of our own) */
export function zoneOffsetMs(epochMs: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(epochMs));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(epochMs / 1000) * 1000;
}

/** city wall-clock fields -> epoch ms */
export function cityTime(y: number, mo: number, d: number, h: number, mi: number, s: number, timeZone: string): number {
  const guess = Date.UTC(y, mo - 1, d, h, mi, s);
  return guess - zoneOffsetMs(guess - zoneOffsetMs(guess, timeZone), timeZone);
}

/** parses a query parameter; DomainError invalid naming `field` */
export function parseCityTime(text: string, timeZone: string, field: string): number {
  const m = LOCAL.exec(text);
  if (m) {
    const [y, mo, d, h, mi, s] = m.slice(1).map((v) => Number(v ?? 0)) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const t = cityTime(y, mo, d, h, mi, s, timeZone);
    if (Number.isFinite(t) && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && s <= 59) return t;
  } else if (/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:\d{2})$/.test(text)) {
    const t = Date.parse(text);
    if (Number.isFinite(t)) return t;
  }
  throw new DomainError(
    'invalid',
    'invalid_time',
    `${field}: "${text.slice(0, 40)}" is not a date (2026-10-15), ` +
      'a city time (2026-10-15T07:30) or an ISO time with offset',
  );
}

/** the city-local fields of an epoch time */
function fieldsOf(epochMs: number, timeZone: string): { y: number; mo: number; d: number; dow: number } {
  const local = new Date(epochMs + zoneOffsetMs(epochMs, timeZone));
  return { y: local.getUTCFullYear(), mo: local.getUTCMonth() + 1, d: local.getUTCDate(), dow: local.getUTCDay() };
}

/** midnight (city time) of the Monday of the week holding `epochMs` (weeks start on Monday in Vietnam) */
export function startOfWeek(epochMs: number, timeZone: string): number {
  const f = fieldsOf(epochMs, timeZone);
  return cityTime(f.y, f.mo, f.d - ((f.dow + 6) % 7), 0, 0, 0, timeZone);
}

export function startOfMonth(epochMs: number, timeZone: string): number {
  const f = fieldsOf(epochMs, timeZone);
  return cityTime(f.y, f.mo, 1, 0, 0, 0, timeZone);
}

/** "15/10/2026 07:30" in the city's time zone, for people (reports, the public page) */
export function formatCityTime(epochMs: number, timeZone: string): string {
  return new Intl.DateTimeFormat('vi-VN', {
    timeZone,
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(epochMs));
}
