import { DOMParser, type Element } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import { loadCity } from '../../config/city-config.ts';
import { loadPlatformConfig } from '../../config/platform-config.ts';
import type { Alert } from '../alert-model.ts';
import { makeAlert } from './alert-fixtures.ts';
import { renderCapAtomFeed, selectPublicAlerts } from './cap-feed.ts';
import { CAP_NAMESPACE, renderCapAlert, type CapContext } from './cap-message.ts';
import { formatCapTime } from './cap-time.ts';

const config = loadPlatformConfig({ env: {} });
const city = loadCity(config.cityFile, config.kindsDir);
const ctx: CapContext = { sender: 'ioc.hue.gov.vn', city };

// Element order from the CAP 1.2 schema (OASIS, 2010): a consumer validating against it rejects any other.
const ALERT_ORDER = [
  'identifier',
  'sender',
  'sent',
  'status',
  'msgType',
  'source',
  'scope',
  'restriction',
  'addresses',
  'code',
  'note',
  'references',
  'incidents',
  'info',
];
const INFO_ORDER = [
  'language',
  'category',
  'event',
  'responseType',
  'urgency',
  'severity',
  'certainty',
  'audience',
  'eventCode',
  'effective',
  'onset',
  'expires',
  'senderName',
  'headline',
  'description',
  'instruction',
  'web',
  'contact',
  'parameter',
  'resource',
  'area',
];
const AREA_ORDER = ['areaDesc', 'polygon', 'circle', 'geocode', 'altitude', 'ceiling'];
const REQUIRED_ALERT = ['identifier', 'sender', 'sent', 'status', 'msgType', 'scope'];
const REQUIRED_INFO = ['category', 'event', 'urgency', 'severity', 'certainty'];
const CAP_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/;

function parse(xml: string): Element {
  const errors: string[] = [];
  const doc = new DOMParser({
    onError: (level, msg) => {
      if (level !== 'warning') errors.push(msg);
    },
  }).parseFromString(xml, 'text/xml');
  expect(errors).toEqual([]);
  return doc.documentElement!;
}
const children = (el: Element): Element[] => Array.from(el.childNodes).filter((n): n is Element => n.nodeType === 1);
const names = (el: Element): string[] => children(el).map((c) => c.localName!);
const child = (el: Element, name: string): Element => children(el).find((c) => c.localName === name)!;
const text = (el: Element, name: string): string | undefined =>
  children(el).find((c) => c.localName === name)?.textContent ?? undefined;

function expectOrdered(actual: string[], order: string[]): void {
  const positions = actual.map((n) => order.indexOf(n));
  expect(positions, `unknown element in ${actual.join(',')}`).not.toContain(-1);
  expect(positions, `out of schema order: ${actual.join(',')}`).toEqual([...positions].sort((a, b) => a - b));
}

/** Structure check against the CAP 1.2 schema's element order, namespace and required fields. */
function expectValidCap(alertEl: Element): void {
  expect(alertEl.namespaceURI).toBe(CAP_NAMESPACE);
  expect(alertEl.localName).toBe('alert');
  expectOrdered(names(alertEl), ALERT_ORDER);
  for (const required of REQUIRED_ALERT) expect(names(alertEl)).toContain(required);
  expect(text(alertEl, 'sent')).toMatch(CAP_TIME);
  for (const info of children(alertEl).filter((c) => c.localName === 'info')) {
    expect(info.namespaceURI).toBe(CAP_NAMESPACE);
    expectOrdered(names(info), INFO_ORDER);
    for (const required of REQUIRED_INFO) expect(names(info)).toContain(required);
    for (const area of children(info).filter((c) => c.localName === 'area')) {
      expectOrdered(names(area), AREA_ORDER);
      expect(names(area)).toContain('areaDesc');
    }
  }
}

const floodAt = Date.UTC(2026, 9, 28, 3, 0, 0);
const flood = (overrides: Partial<Alert> = {}): Alert =>
  makeAlert({ startsAt: floodAt - 600_000, firingAt: floodAt, updatedAt: floodAt, ...overrides });

describe('CAP 1.2 messages', () => {
  it('renders a firing alert as a valid CAP Alert with Vietnamese and English info blocks', () => {
    const alert = flood({ severity: 'critical' });
    const root = parse(renderCapAlert(alert, ctx));
    expectValidCap(root);
    expect(text(root, 'identifier')).toBe(`ioc-hue-${alert.id}`);
    expect(text(root, 'sender')).toBe('ioc.hue.gov.vn');
    expect(text(root, 'sent')).toBe('2026-10-28T10:00:00+07:00');
    expect([text(root, 'status'), text(root, 'msgType'), text(root, 'scope')]).toEqual(['Actual', 'Alert', 'Public']);
    const infos = children(root).filter((c) => c.localName === 'info');
    expect(infos.map((i) => text(i, 'language'))).toEqual(['vi-VN', 'en-US']);
    const [vi, en] = infos as [Element, Element];
    expect([
      text(vi, 'category'),
      text(vi, 'event'),
      text(vi, 'urgency'),
      text(vi, 'severity'),
      text(vi, 'certainty'),
    ]).toEqual(['Met', 'Lũ', 'Immediate', 'Extreme', 'Observed']);
    expect(text(en, 'event')).toBe('Flood');
    expect(text(vi, 'headline')).toBe(alert.title.vi);
    expect(text(en, 'description')).toBe(alert.message.en);
    expect(text(vi, 'onset')).toBe('2026-10-28T09:50:00+07:00');
    const area = child(vi, 'area');
    expect(text(area, 'areaDesc')).toBe('Trạm thủy văn Kim Long (sông Hương), Kim Long');
    expect(text(area, 'circle')).toBe('16.466,107.565 1');
    const params = children(en)
      .filter((c) => c.localName === 'parameter')
      .map((p) => `${text(p, 'valueName')}=${text(p, 'value')}`);
    expect(params).toEqual(['metric=waterLevel', 'value=2.15', 'threshold=2', 'unit=m', 'sensorId=water-kimlong']);
  });

  it('maps FIWARE categories and severities onto CAP', () => {
    const cases: Array<[Partial<Alert>, string, string]> = [
      [{ category: 'environment', subCategory: 'airPollution', severity: 'medium' }, 'Env', 'Moderate'],
      [{ category: 'traffic', subCategory: 'trafficJam', severity: 'low' }, 'Transport', 'Minor'],
      [{ category: 'security', subCategory: 'intrusion', severity: 'high' }, 'Security', 'Severe'],
      [{ category: 'security', subCategory: 'fire', severity: 'critical' }, 'Fire', 'Extreme'],
      [{ category: 'weather', subCategory: 'heavyRain', severity: 'informational' }, 'Met', 'Minor'],
      [{ category: 'naturalDisaster', subCategory: 'landslide', severity: 'high' }, 'Geo', 'Severe'],
    ];
    for (const [overrides, category, severity] of cases) {
      const info = child(parse(renderCapAlert(flood(overrides), ctx)), 'info');
      expect([text(info, 'category'), text(info, 'severity')]).toEqual([category, severity]);
    }
  });

  it('sends an update and a cancel as new messages that reference the original', () => {
    const alert = flood();
    const original = `ioc.hue.gov.vn,ioc-hue-${alert.id},2026-10-28T10:00:00+07:00`;
    const update = parse(renderCapAlert({ ...alert, state: 'acknowledged', updatedAt: floodAt + 60_000 }, ctx));
    expectValidCap(update);
    expect([text(update, 'msgType'), text(update, 'references'), text(update, 'sent')]).toEqual([
      'Update',
      original,
      '2026-10-28T10:01:00+07:00',
    ]);
    expect(text(update, 'identifier')).toBe(`ioc-hue-${alert.id}-u${floodAt + 60_000}`);

    const resolvedAt = floodAt + 3_600_000;
    const cancel = parse(renderCapAlert({ ...alert, state: 'resolved', resolvedAt, updatedAt: resolvedAt }, ctx));
    expectValidCap(cancel);
    expect([text(cancel, 'msgType'), text(cancel, 'references')]).toEqual(['Cancel', original]);
    const info = child(cancel, 'info');
    expect([text(info, 'urgency'), text(info, 'responseType'), text(info, 'instruction')]).toEqual([
      'Past',
      'AllClear',
      undefined,
    ]);
    expect(text(info, 'headline')).toBe(`Đã hết cảnh báo: ${alert.title.vi}`);
  });

  it('escapes markup and drops characters XML cannot carry', () => {
    const nasty = 'Trạm <A> & "B" \u0007';
    const root = parse(
      renderCapAlert(flood({ title: { vi: nasty, en: nasty }, sensorId: 'unknown-sensor', location: undefined }), ctx),
    );
    const info = child(root, 'info');
    expect(text(info, 'headline')).toBe('Trạm <A> & "B" ');
    expect(names(child(info, 'area'))).toEqual(['areaDesc']);
  });

  it('formats CAP times with an explicit offset and never "Z"', () => {
    expect(formatCapTime(Date.UTC(2026, 0, 1, 0, 0, 0, 999), 'UTC')).toBe('2026-01-01T00:00:00-00:00');
    expect(formatCapTime(Date.UTC(2026, 0, 1, 20, 30, 5), 'Asia/Ho_Chi_Minh')).toBe('2026-01-02T03:30:05+07:00');
    expect(formatCapTime(Date.UTC(2026, 6, 1, 12, 0, 0), 'America/St_Johns')).toBe('2026-07-01T09:30:00-02:30');
  });
});

describe('CAP Atom feed', () => {
  it('lists public alerts, newest first, each with its CAP message inline and a link to it alone', () => {
    const now = floodAt + 7_200_000;
    const firing = flood({ updatedAt: floodAt + 10_000 });
    const resolved = flood({
      state: 'resolved',
      resolvedAt: floodAt + 3_600_000,
      updatedAt: floodAt + 3_600_000,
      sensorId: 'water-phuoc',
    });
    const pending = flood({ state: 'pending', firingAt: undefined });
    const offline = flood({ subCategory: 'deviceOffline' });
    const longGone = flood({ state: 'resolved', resolvedAt: now - 25 * 3_600_000, updatedAt: now - 25 * 3_600_000 });
    const selected = selectPublicAlerts([firing, pending, offline, resolved, longGone, firing], now);
    expect(selected.map((a) => a.id)).toEqual([resolved.id, firing.id]);

    const xml = renderCapAtomFeed(
      selected,
      ctx,
      {
        self: 'http://ioc.example/api/alerts/cap',
        alert: (id) => `http://ioc.example/api/alerts/${id}/cap`,
        // the document moved; the entry's id stays what readers saw before
        entryId: (id) => `http://ioc.example/api/alerts/cap/${id}`,
      },
      now,
    );
    const feed = parse(xml);
    expect(feed.namespaceURI).toBe('http://www.w3.org/2005/Atom');
    expect(text(feed, 'updated')).toBe(new Date(floodAt + 3_600_000).toISOString());
    const entries = children(feed).filter((c) => c.localName === 'entry');
    expect(entries).toHaveLength(2);
    const [first] = entries as [Element];
    const link = child(first, 'link');
    expect([link.getAttribute('rel'), link.getAttribute('type'), link.getAttribute('href')]).toEqual([
      'alternate',
      'application/cap+xml',
      `http://ioc.example/api/alerts/${resolved.id}/cap`,
    ]);
    const content = child(first, 'content');
    expect(content.getAttribute('type')).toBe('application/cap+xml');
    const cap = children(content)[0]!;
    expectValidCap(cap);
    expect(text(cap, 'msgType')).toBe('Cancel');
    expect(text(first, 'id')).toBe(`http://ioc.example/api/alerts/cap/${resolved.id}#${text(cap, 'identifier')}`);
  });

  it('is a valid empty feed when nothing is going on', () => {
    const now = floodAt;
    const feed = parse(renderCapAtomFeed([], ctx, { self: 'http://x/api/alerts/cap', alert: (id) => id }, now));
    expect(names(feed)).toEqual(['id', 'title', 'updated', 'author', 'link']);
    expect(text(feed, 'title')).toBe('Cảnh báo công cộng – Thành phố Huế / Public alerts – Huế City');
  });
});
