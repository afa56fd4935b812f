import { formatCityTime } from '../kpi/city-time.ts';
import type { HandoverReport } from './handover-report.ts';

/** The handover report as a printable page (A4, no script), Vietnamese first; `lang: 'en'` for English. */
const TEXT = {
  vi: {
    title: 'Báo cáo giao ca',
    period: 'Ca trực',
    byType: 'Cảnh báo theo loại',
    byAgency: 'Cảnh báo theo đơn vị',
    type: 'Loại',
    agency: 'Đơn vị',
    count: 'Số lượng',
    handling: 'Thời gian xử lý',
    ack: 'Tiếp nhận',
    resolve: 'Giải quyết',
    median: 'Trung vị (phút)',
    p90: 'p90 (phút)',
    within: 'Đạt thời hạn',
    open: 'Còn đang mở',
    alert: 'Cảnh báo',
    severity: 'Mức độ',
    state: 'Trạng thái',
    since: 'Từ lúc',
    district: 'Phường/xã',
    silences: 'Tạm ngưng thông báo đang hiệu lực',
    reason: 'Lý do',
    until: 'Đến',
    offline: 'Thiết bị mất kết nối',
    unhealthy: 'Thiết bị cần bảo trì',
    sensor: 'Cảm biến',
    none: 'Không có.',
    generated: 'Lập lúc',
    escalated: 'Đã chuyển cấp',
    silenced: 'tạm ngưng',
  },
  en: {
    title: 'Shift handover report',
    period: 'Shift',
    byType: 'Alerts by type',
    byAgency: 'Alerts by agency',
    type: 'Type',
    agency: 'Agency',
    count: 'Count',
    handling: 'Handling times',
    ack: 'Acknowledge',
    resolve: 'Resolve',
    median: 'Median (min)',
    p90: 'p90 (min)',
    within: 'Within target',
    open: 'Still open',
    alert: 'Alert',
    severity: 'Severity',
    state: 'State',
    since: 'Since',
    district: 'Ward',
    silences: 'Silences in force',
    reason: 'Reason',
    until: 'Until',
    offline: 'Devices offline',
    unhealthy: 'Devices needing maintenance',
    sensor: 'Sensor',
    none: 'None.',
    generated: 'Generated',
    escalated: 'Escalation level',
    silenced: 'silenced',
  },
} as const;

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const mins = (ms: number | null): string => (ms === null ? '—' : String(Math.round(ms / 6_000) / 10));
const pct = (v: number | null): string => (v === null ? '—' : `${Math.round(v * 100)} %`);

function table(headers: readonly string[], rows: readonly string[][], none: string): string {
  if (!rows.length) return `<p>${none}</p>`;
  return (
    `<table><thead><tr>${headers.map((h) => `<th scope="col">${h}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`
  );
}

export function renderHandoverHtml(r: HandoverReport, lang: 'vi' | 'en'): string {
  const t = TEXT[lang];
  const at = (ms: number | undefined) => (ms === undefined ? '—' : esc(formatCityTime(ms, r.timezone)));
  const h = r.handling;
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><title>${t.title}</title>
<style>@page{size:A4;margin:15mm}body{font-family:system-ui,sans-serif;font-size:11pt}
table{border-collapse:collapse;width:100%;margin:.3rem 0 1rem}
th,td{border:1px solid #999;padding:2px 6px;text-align:left}h2{font-size:13pt;margin:.8rem 0 .2rem}</style></head><body>
<h1>${t.title}</h1><p>${t.period}: ${at(r.from)} – ${at(r.to)} (${esc(r.timezone)})</p>
<h2>${t.byType}</h2>${table(
    [t.type, t.count],
    r.alertsByType.map((x) => [esc(x.type), String(x.count)]),
    t.none,
  )}
<h2>${t.byAgency}</h2>${table(
    [t.agency, t.count],
    r.alertsByAgency.map((x) => [esc(x.name[lang]), String(x.count)]),
    t.none,
  )}
<h2>${t.handling}</h2>${table(
    ['', t.median, t.p90, t.within],
    [
      [t.ack, mins(h.acknowledge.medianMs), mins(h.acknowledge.p90Ms), pct(h.acknowledge.withinTarget)],
      [t.resolve, mins(h.resolve.medianMs), mins(h.resolve.p90Ms), pct(h.resolve.withinTarget)],
    ],
    t.none,
  )}
<h2>${t.open} (${r.stillOpen.length})</h2>${table(
    [t.alert, t.severity, t.state, t.agency, t.district, t.since, t.escalated],
    r.stillOpen.map((o) => [
      `${esc(o.title[lang])}${o.silenced ? ` (${t.silenced})` : ''}`,
      esc(o.severity),
      esc(o.state),
      esc(o.agencyId ?? ''),
      esc(o.district),
      at(o.firingAt),
      String(o.escalationLevel),
    ]),
    t.none,
  )}
<h2>${t.silences}</h2>${table(
    [t.reason, t.until],
    r.silences.map((s) => [esc(s.reason), at(s.until)]),
    t.none,
  )}
<h2>${t.offline}</h2>${table(
    [t.sensor, t.since],
    r.devices.offline.map((d) => [esc(d.sensorId), at(d.since)]),
    t.none,
  )}
<h2>${t.unhealthy}</h2>${table(
    [t.sensor, t.alert, t.since],
    r.devices.unhealthy.map((d) => [esc(d.sensorId), esc(d.message[lang]), at(d.since)]),
    t.none,
  )}
<p>${t.generated}: ${at(r.generatedAt)}</p></body></html>`;
}
