/**
 * City-local calendar fields for daily and weekly cycles. Offsets come from Intl for the city's time zone
 * (Asia/Ho_Chi_Minh is UTC+7 all year) and are cached per UTC hour: a 10,000-device fleet asks for the
 * local hour tens of thousands of times a second.
 */
export interface LocalTime {
  /** fractional hour of day, 0 <= hour < 24 */
  readonly hour: number;
  /** 0 = Sunday ... 6 = Saturday */
  readonly weekday: number;
  /** 1 = January ... 12 = December */
  readonly month: number;
}

const HOUR = 3_600_000;

export function createLocalTimeFn(timezone: string): (epochMs: number) => LocalTime {
  let formatter: Intl.DateTimeFormat;
  try {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
  } catch {
    throw new RangeError(`unknown time zone "${timezone}"`);
  }
  const offsets = new Map<number, number>();
  const offsetAt = (epochMs: number): number => {
    const key = Math.floor(epochMs / HOUR);
    let offset = offsets.get(key);
    if (offset === undefined) {
      const at = key * HOUR;
      const parts = Object.fromEntries(formatter.formatToParts(at).map((p) => [p.type, p.value]));
      const asUtc = Date.UTC(
        Number(parts.year),
        Number(parts.month) - 1,
        Number(parts.day),
        Number(parts.hour),
        Number(parts.minute),
      );
      offset = asUtc - at;
      if (offsets.size > 1000) offsets.clear();
      offsets.set(key, offset);
    }
    return offset;
  };
  return (epochMs) => {
    const local = new Date(epochMs + offsetAt(epochMs));
    return {
      hour: local.getUTCHours() + local.getUTCMinutes() / 60 + local.getUTCSeconds() / 3600,
      weekday: local.getUTCDay(),
      month: local.getUTCMonth() + 1,
    };
  };
}

/** A smooth bump centred on `peak` (hours) with the given width, wrapping around midnight. */
export function dailyPeak(hour: number, peak: number, width: number): number {
  let d = Math.abs(hour - peak);
  if (d > 12) d = 24 - d;
  return Math.exp(-(d * d) / (2 * width * width));
}
