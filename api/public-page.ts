import type { PublicSummary } from '../alerts/kpi/public-summary.ts';
import { formatCityTime } from '../alerts/kpi/city-time.ts';

/**
 * The public handling page (/public): rendered on the server from the public summary, so it needs no
 * script, no login and no API token, and holds nothing the summary does not. Vietnamese first; ?lang=en.
 */
export type Lang = 'vi' | 'en';

const TEXT = {
  vi: {
    title: 'Xử lý sự cố đô thị — công khai',
    intro: 'Số liệu do Trung tâm IOC công bố, cập nhật theo từng thay đổi.',
    open: 'Sự cố đang mở theo phường và loại',
    district: 'Phường/xã',
    type: 'Loại',
    count: 'Số sự cố',
    none: 'Không có sự cố đang mở.',
    times: 'Thời gian xử lý',
    week: 'Tuần này',
    month: 'Tháng này',
    alerts: 'Số cảnh báo',
    ack: 'Tiếp nhận',
    resolve: 'Giải quyết',
    median: 'trung vị (phút)',
    p90: 'p90 (phút)',
    within: 'Đạt thời hạn',
    generated: 'Cập nhật lúc',
    other: 'English',
    otherHref: '?lang=en',
    sensors: 'Cảm biến',
  },
  en: {
    title: 'City incident handling — open data',
    intro: 'Figures published by the IOC, updated on every change.',
    open: 'Open incidents by ward and type',
    district: 'Ward',
    type: 'Type',
    count: 'Incidents',
    none: 'No open incidents.',
    times: 'Handling times',
    week: 'This week',
    month: 'This month',
    alerts: 'Alerts',
    ack: 'Acknowledge',
    resolve: 'Resolve',
    median: 'median (min)',
    p90: 'p90 (min)',
    within: 'Within target',
    generated: 'Updated',
    other: 'Tiếng Việt',
    otherHref: '?lang=vi',
    sensors: 'Sensors',
  },
} as const;

const TYPES: Record<string, { vi: string; en: string }> = {
  flood: { vi: 'Ngập lụt', en: 'Flood' },
  riverRise: { vi: 'Nước sông lên nhanh', en: 'River rising fast' },
  heavyRain: { vi: 'Mưa lớn', en: 'Heavy rain' },
  airPollution: { vi: 'Ô nhiễm không khí', en: 'Air pollution' },
  waterPollution: { vi: 'Ô nhiễm nước', en: 'Water pollution' },
  trafficJam: { vi: 'Ùn tắc giao thông', en: 'Traffic jam' },
  deviceFault: { vi: 'Sự cố thiết bị', en: 'Device fault' },
  deviceHealth: { vi: 'Thiết bị cần bảo trì', en: 'Device needs maintenance' },
};

export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const num = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : String(v));
const share = (v: number | null | undefined): string =>
  v === null || v === undefined ? '—' : `${Math.round(v * 100)} %`;

export function renderPublicPage(s: PublicSummary, lang: Lang): string {
  const t = TEXT[lang];
  const rows: string[] = [];
  if (s.openIncidents) {
    rows.push(`<section aria-labelledby="open"><h2 id="open">${t.open}</h2>`);
    if (!s.openIncidents.length) rows.push(`<p>${t.none}</p>`);
    else {
      const ids = s.openIncidents.some((o) => o.sensorIds);
      rows.push(
        `<table><thead><tr><th scope="col">${t.district}</th><th scope="col">${t.type}</th>` +
          `<th scope="col">${t.count}</th>${ids ? `<th scope="col">${t.sensors}</th>` : ''}</tr></thead><tbody>`,
      );
      for (const o of s.openIncidents) {
        rows.push(
          `<tr><td>${escapeHtml(o.district)}</td><td>${escapeHtml(TYPES[o.type]?.[lang] ?? o.type)}</td>` +
            `<td>${o.count}</td>${ids ? `<td>${escapeHtml((o.sensorIds ?? []).join(', '))}</td>` : ''}</tr>`,
        );
      }
      rows.push('</tbody></table>');
    }
    rows.push('</section>');
  }
  if (s.week && s.month) {
    rows.push(
      `<section aria-labelledby="times"><h2 id="times">${t.times}</h2><table><thead><tr><th scope="col"></th>` +
        `<th scope="col">${t.alerts}</th>`,
    );
    rows.push(
      `<th scope="col">${t.ack} ${t.median}</th><th scope="col">${t.ack} ${t.p90}</th>` +
        `<th scope="col">${t.ack}: ${t.within}</th>`,
    );
    rows.push(
      `<th scope="col">${t.resolve} ${t.median}</th><th scope="col">${t.resolve} ${t.p90}</th>` +
        `<th scope="col">${t.resolve}: ${t.within}</th></tr></thead><tbody>`,
    );
    for (const [name, p] of [
      [t.week, s.week],
      [t.month, s.month],
    ] as const) {
      rows.push(
        `<tr><th scope="row">${name}</th><td>${p.alerts}</td><td>${num(p.acknowledge.medianMinutes)}</td>` +
          `<td>${num(p.acknowledge.p90Minutes)}</td><td>${share(p.acknowledge.withinTarget)}</td>`,
      );
      rows.push(
        `<td>${num(p.resolve.medianMinutes)}</td><td>${num(p.resolve.p90Minutes)}</td>` +
          `<td>${share(p.resolve.withinTarget)}</td></tr>`,
      );
    }
    rows.push('</tbody></table></section>');
  }
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t.title}</title><style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #bbb;padding:.25rem .5rem;text-align:left}
</style></head>
<body><header><h1>${t.title}</h1><p>${t.intro}</p>
<nav><a href="${t.otherHref}" hreflang="${lang === 'vi' ? 'en' : 'vi'}">${t.other}</a></nav></header><main>
${rows.join('\n')}
</main><footer>
<p>${t.generated}: <time datetime="${new Date(s.generatedAt).toISOString()}">${formatCityTime(
    s.generatedAt,
    s.timezone,
  )}</time> (${escapeHtml(s.timezone)})</p></footer></body></html>`;
}
