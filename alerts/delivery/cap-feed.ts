import type { Alert } from '../alert-model.ts';
import { capCategory, capHeader, renderCapAlertElement, type CapContext } from './cap-message.ts';
import { capText } from './cap-text.ts';
import { escapeXml, xmlAttrs, xmlElement } from './xml-text.ts';

export const ATOM_NAMESPACE = 'http://www.w3.org/2005/Atom';

/** Alerts about the platform's own devices: for operators, not for the public. */
export const INTERNAL_SUB_CATEGORIES: ReadonlySet<string> = new Set(['deviceOffline', 'noData']);

/** How long a resolved alert stays in the feed as a Cancel, so that receivers can withdraw it. */
export const CANCEL_VISIBLE_MS = 24 * 60 * 60 * 1000;

/**
 * What the public feed carries: firing and acknowledged alerts (pending ones have not held long enough to
 * warn anybody), and alerts resolved within CANCEL_VISIBLE_MS as Cancel messages; newest first.
 */
export function selectPublicAlerts(candidates: readonly Alert[], now: number): Alert[] {
  const seen = new Set<string>();
  const out: Alert[] = [];
  for (const alert of candidates) {
    if (seen.has(alert.id) || INTERNAL_SUB_CATEGORIES.has(alert.subCategory)) continue;
    const show =
      alert.state === 'firing' ||
      alert.state === 'acknowledged' ||
      alert.state === 'inProgress' ||
      (alert.state === 'resolved' &&
        alert.firingAt !== undefined &&
        now - (alert.resolvedAt ?? alert.updatedAt) <= CANCEL_VISIBLE_MS);
    if (!show) continue;
    seen.add(alert.id);
    out.push(alert);
  }
  return out.sort((a, b) => b.updatedAt - a.updatedAt || a.id.localeCompare(b.id));
}

/**
 * Whether an alert event can change the public feed: only an alert that is public after the event, or was
 * before it, can. Pending alerts never were (an alert is pending only before it first fires), internal ones
 * never are, and a pending alert that resolves without firing leaves nothing to cancel. The feed cache
 * (api/cap-feed-cache.ts) re-renders only on these, so that device faults and pending alerts (frequent in a
 * city) do not make every poller download the same feed again.
 */
export function changesPublicFeed(alert: Alert): boolean {
  if (INTERNAL_SUB_CATEGORIES.has(alert.subCategory)) return false;
  if (alert.state === 'pending') return false;
  return !(alert.state === 'resolved' && alert.firingAt === undefined);
}

export interface CapFeedLinks {
  /** absolute URL of this document (one page of the feed) */
  self: string;
  /** absolute URL of one alert's standalone CAP document */
  alert(id: string): string;
  /**
   * the base of an entry's atom:id (`#` and the CAP identifier follow), when not `alert(id)`: an id must never
   * change (RFC 4287 4.2.6), so it keeps the URL the feed gave before the document moved, or readers see every
   * entry again as new
   */
  entryId?(id: string): string;
  /**
   * RFC 5005 paged feed: the URLs of the first (newest) and last pages, and of the pages beside this one
   * when there are. The first page's URL is the feed's id on every page: one logical feed.
   */
  pages?: { first: string; last: string; next?: string; previous?: string };
}

/** the `<link>`s of a paged feed (RFC 5005 section 3): `next` goes to older entries */
function pageLinks(links: CapFeedLinks): string[] {
  const p = links.pages;
  if (!p) return [];
  const link = (rel: string, href: string) =>
    `  <link rel="${rel}" type="application/atom+xml" href="${escapeXml(href)}"/>\n`;
  return [
    link('first', p.first),
    ...(p.previous ? [link('previous', p.previous)] : []),
    ...(p.next ? [link('next', p.next)] : []),
    link('last', p.last),
  ];
}

/**
 * An Atom feed with one entry per CAP message, the CAP `<alert>` inline as the entry's content and a link
 * to the same document on its own: the shape warning aggregators (Google Public Alerts, the WMO Alert Hub)
 * poll.
 */
export function renderCapAtomFeed(alerts: readonly Alert[], ctx: CapContext, links: CapFeedLinks, now: number): string {
  const vi = capText('vi');
  const en = capText('en');
  const updated = alerts.reduce((max, a) => Math.max(max, a.updatedAt), 0) || now;
  const entries = alerts.map((alert) => {
    const header = capHeader(alert, ctx);
    const url = links.alert(alert.id);
    const cancelled = header.msgType === 'Cancel';
    return xmlElement(
      'entry',
      [
        xmlElement('id', `${links.entryId?.(alert.id) ?? url}#${header.identifier}`, 2),
        xmlElement('title', cancelled ? vi.cancel(alert.title.vi) : alert.title.vi, 2),
        xmlElement('updated', new Date(alert.updatedAt).toISOString(), 2),
        xmlElement('published', new Date(alert.firingAt ?? alert.startsAt).toISOString(), 2),
        `    <link${xmlAttrs({ rel: 'alternate', type: 'application/cap+xml', href: url })}/>\n`,
        `    <category${xmlAttrs({
          term: capCategory(alert.category, alert.subCategory),
          scheme: 'urn:oasis:names:tc:emergency:cap:1.2:category',
        })}/>\n`,
        xmlElement('summary', alert.message.vi, 2),
        xmlElement('content', [renderCapAlertElement(alert, ctx, 3)], 2, ' type="application/cap+xml"'),
      ],
      1,
    );
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n${xmlElement(
    'feed',
    [
      xmlElement('id', links.pages?.first ?? links.self, 1),
      xmlElement('title', `${vi.feedTitle(ctx.city.name.vi)} / ${en.feedTitle(ctx.city.name.en)}`, 1),
      xmlElement('updated', new Date(updated).toISOString(), 1),
      xmlElement('author', [xmlElement('name', vi.senderName(ctx.city.name.vi), 2)], 1),
      `  <link rel="self" type="application/atom+xml" href="${escapeXml(links.self)}"/>\n`,
      ...pageLinks(links),
      ...entries,
    ],
    0,
    ` xmlns="${ATOM_NAMESPACE}" xml:lang="vi"`,
  )}`;
}
