import type { I18n } from './i18n.ts';

/**
 * Numbers and times in the operator's language (vi-VN: "2,15"; en-GB: "2.15"), clocks in the city's time
 * zone: a Huế operator and a remote engineer must read the same time for the same alert.
 */
export interface Formatter {
  number(value: number, maxFractionDigits?: number): string;
  time(epochMs: number): string;
  dateTime(epochMs: number): string;
  age(epochMs: number, now?: number): string;
}

export function createFormatter(i18n: I18n, timeZone: string): Formatter {
  const cache = new Map<string, Intl.NumberFormat>();
  let forLocale = '';
  let timeFmt: Intl.DateTimeFormat;
  let dateTimeFmt: Intl.DateTimeFormat;
  let relFmt: Intl.RelativeTimeFormat;
  const refresh = () => {
    if (forLocale === i18n.locale) return;
    forLocale = i18n.locale;
    cache.clear();
    timeFmt = new Intl.DateTimeFormat(forLocale, { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    dateTimeFmt = new Intl.DateTimeFormat(forLocale, {
      timeZone,
      day: '2-digit',
      month: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    relFmt = new Intl.RelativeTimeFormat(forLocale, { numeric: 'auto', style: 'short' });
  };
  refresh();
  return {
    number(value, maxFractionDigits = 2) {
      refresh();
      const key = String(maxFractionDigits);
      let fmt = cache.get(key);
      if (!fmt) {
        fmt = new Intl.NumberFormat(forLocale, { maximumFractionDigits: maxFractionDigits });
        cache.set(key, fmt);
      }
      return fmt.format(value);
    },
    time(epochMs) {
      refresh();
      return timeFmt.format(epochMs);
    },
    dateTime(epochMs) {
      refresh();
      return dateTimeFmt.format(epochMs);
    },
    age(epochMs, now = Date.now()) {
      refresh();
      const seconds = Math.round((epochMs - now) / 1000);
      const abs = Math.abs(seconds);
      if (abs < 60) return relFmt.format(seconds, 'second');
      if (abs < 3600) return relFmt.format(Math.round(seconds / 60), 'minute');
      if (abs < 86_400) return relFmt.format(Math.round(seconds / 3600), 'hour');
      return relFmt.format(Math.round(seconds / 86_400), 'day');
    },
  };
}
