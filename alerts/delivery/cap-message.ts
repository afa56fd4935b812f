import type { City } from '../../config/city-config.ts';
import type { Alert, AlertCategory, I18nText, Severity } from '../alert-model.ts';
import { capText, type CapLang } from './cap-text.ts';
import { formatCapTime } from './cap-time.ts';
import { xmlElement, type XmlContent } from './xml-text.ts';

export const CAP_NAMESPACE = 'urn:oasis:names:tc:emergency:cap:1.2';

export type CapMsgType = 'Alert' | 'Update' | 'Cancel';
export type CapCategory =
  | 'Geo'
  | 'Met'
  | 'Safety'
  | 'Security'
  | 'Rescue'
  | 'Fire'
  | 'Health'
  | 'Env'
  | 'Transport'
  | 'Infra'
  | 'CBRNE'
  | 'Other';
export type CapSeverity = 'Extreme' | 'Severe' | 'Moderate' | 'Minor' | 'Unknown';
export type CapUrgency = 'Immediate' | 'Expected' | 'Future' | 'Past' | 'Unknown';

export interface CapContext {
  /** CAP `sender`: globally unique, no spaces, commas or `<&`; e.g. "ioc.hue.gov.vn". */
  sender: string;
  city: Pick<City, 'id' | 'name' | 'timezone' | 'sensorsById'>;
  /** Radius of the warning circle around the sensor, km. */
  radiusKm?: number;
  /** CAP `contact`: who the public may call about a message (config `cap.contact`). */
  contact?: string;
}

// FIWARE sub-categories whose hazard CAP files under another category than the FIWARE category suggests.
const GEO = new Set(['earthquake', 'landslide', 'tsunami', 'volcano', 'avalanche']);
const FIRE = new Set(['fire', 'forestFire', 'buildingFire', 'smokeFire']);

export function capCategory(category: AlertCategory, subCategory: string): CapCategory {
  if (FIRE.has(subCategory)) return 'Fire';
  switch (category) {
    case 'environment':
      return 'Env';
    case 'weather':
      return 'Met';
    case 'traffic':
      return 'Transport';
    case 'security':
      return 'Security';
    // CAP's Met covers floods and storms ("Meteorological (inc. flood)"); Geo the ground moving.
    case 'naturalDisaster':
      return GEO.has(subCategory) ? 'Geo' : 'Met';
  }
}

const SEVERITY: Record<Severity, CapSeverity> = {
  critical: 'Extreme',
  high: 'Severe',
  medium: 'Moderate',
  low: 'Minor',
  informational: 'Minor',
};
export const capSeverity = (s: Severity): CapSeverity => SEVERITY[s] ?? 'Unknown';

/** Readings observe the present: act now for high and critical, soon for medium and low. */
export function capUrgency(alert: Pick<Alert, 'severity' | 'state'>): CapUrgency {
  if (alert.state === 'resolved') return 'Past';
  if (alert.severity === 'critical' || alert.severity === 'high') return 'Immediate';
  if (alert.severity === 'informational') return 'Unknown';
  return 'Expected';
}

export function capMsgType(alert: Pick<Alert, 'state' | 'updatedAt' | 'firingAt' | 'startsAt'>): CapMsgType {
  if (alert.state === 'resolved') return 'Cancel';
  return alert.updatedAt > (alert.firingAt ?? alert.startsAt) ? 'Update' : 'Alert';
}

/** The identity of the first message about an alert, which updates and the cancel reference. */
function original(alert: Alert, ctx: CapContext): { identifier: string; sent: string } {
  return {
    identifier: `ioc-${ctx.city.id}-${alert.id}`,
    sent: formatCapTime(alert.firingAt ?? alert.startsAt, ctx.city.timezone),
  };
}

export interface CapHeader {
  identifier: string;
  sent: string;
  msgType: CapMsgType;
  references?: string;
}

/** Each message has its own identifier; an Update or Cancel references the original Alert. */
export function capHeader(alert: Alert, ctx: CapContext): CapHeader {
  const first = original(alert, ctx);
  const msgType = capMsgType(alert);
  if (msgType === 'Alert') return { ...first, msgType };
  const at = msgType === 'Cancel' ? (alert.resolvedAt ?? alert.updatedAt) : alert.updatedAt;
  return {
    identifier: `${first.identifier}-${msgType === 'Cancel' ? 'c' : 'u'}${at}`,
    sent: formatCapTime(at, ctx.city.timezone),
    msgType,
    references: `${ctx.sender},${first.identifier},${first.sent}`,
  };
}

function place(alert: Alert, ctx: CapContext): { name: string; lat?: number; lon?: number } {
  const sensor = ctx.city.sensorsById.get(alert.sensorId);
  const at = alert.location ?? (sensor ? { lat: sensor.lat, lon: sensor.lon } : undefined);
  return { name: sensor?.name ?? alert.sensorId, lat: at?.lat, lon: at?.lon };
}

const round = (n: number, digits: number): string => String(Number(n.toFixed(digits)));

function info(alert: Alert, ctx: CapContext, lang: CapLang, depth: number): string {
  const text = capText(lang);
  const pick = (t: I18nText): string => t[lang];
  const cancelled = alert.state === 'resolved';
  const where = place(alert, ctx);
  const d = depth + 1;
  const parameter = (name: string, value: string | number | undefined): string =>
    value === undefined
      ? ''
      : xmlElement('parameter', [xmlElement('valueName', name, d + 1), xmlElement('value', value, d + 1)], d);
  const circle =
    where.lat !== undefined && where.lon !== undefined
      ? `${round(where.lat, 5)},${round(where.lon, 5)} ${round(ctx.radiusKm ?? 1, 3)}`
      : undefined;
  const area: XmlContent = [
    xmlElement('areaDesc', text.areaDesc(where.name, alert.district), d + 1),
    circle ? xmlElement('circle', circle, d + 1) : '',
  ];
  // Element order is the schema's (CAP 1.2 §3.2.2): validators reject any other.
  return xmlElement(
    'info',
    [
      xmlElement('language', lang === 'vi' ? 'vi-VN' : 'en-US', d),
      xmlElement('category', capCategory(alert.category, alert.subCategory), d),
      xmlElement('event', text.event(alert.subCategory) ?? pick(alert.title), d),
      xmlElement('responseType', cancelled ? 'AllClear' : 'Monitor', d),
      xmlElement('urgency', capUrgency(alert), d),
      xmlElement('severity', capSeverity(alert.severity), d),
      xmlElement('certainty', 'Observed', d),
      xmlElement(
        'eventCode',
        [xmlElement('valueName', 'FIWARE:subCategory', d + 1), xmlElement('value', alert.subCategory, d + 1)],
        d,
      ),
      xmlElement('onset', formatCapTime(alert.startsAt, ctx.city.timezone), d),
      xmlElement('senderName', text.senderName(pick(ctx.city.name)), d),
      xmlElement('headline', cancelled ? text.cancel(pick(alert.title)) : pick(alert.title), d),
      xmlElement('description', pick(alert.message), d),
      cancelled ? '' : xmlElement('instruction', text.instruction(alert.subCategory), d),
      ctx.contact ? xmlElement('contact', ctx.contact, d) : '',
      parameter('metric', alert.metric),
      parameter('value', alert.value),
      parameter('threshold', alert.threshold),
      parameter('unit', alert.unit),
      parameter('sensorId', alert.sensorId),
      xmlElement('area', area, d),
    ],
    depth,
  );
}

/** One CAP 1.2 `<alert>` element (no XML declaration), indented by `depth`, in Vietnamese then English. */
export function renderCapAlertElement(alert: Alert, ctx: CapContext, depth = 0): string {
  const header = capHeader(alert, ctx);
  const d = depth + 1;
  return xmlElement(
    'alert',
    [
      xmlElement('identifier', header.identifier, d),
      xmlElement('sender', ctx.sender, d),
      xmlElement('sent', header.sent, d),
      xmlElement('status', 'Actual', d),
      xmlElement('msgType', header.msgType, d),
      xmlElement('scope', 'Public', d),
      xmlElement('references', header.references, d),
      info(alert, ctx, 'vi', d),
      info(alert, ctx, 'en', d),
    ],
    depth,
    ` xmlns="${CAP_NAMESPACE}"`,
  );
}

/** A standalone CAP 1.2 document for one alert. */
export function renderCapAlert(alert: Alert, ctx: CapContext): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${renderCapAlertElement(alert, ctx)}`;
}
