import type { CapDocument } from './cap-feed-cache.ts';
import type { FeedEncoding } from './cap-encoding.ts';

/**
 * The CAP feed's response headers, made once per document and coding rather than per request: pollers
 * hit the same few documents many times a second, and between changes every answer carries the same
 * validators, caching rules and type. A document is dropped when alerts change, and its headers with it.
 */
export interface CapHeaders {
  /** for a 200 (and HEAD): the representation's headers */
  readonly full: Readonly<Record<string, string>>;
  /** for a 304: the validators and caching rules only (RFC 9110 15.4.5) */
  readonly notModified: Readonly<Record<string, string>>;
}

const made = new WeakMap<CapDocument, Map<string, CapHeaders>>();

export function capHeaders(doc: CapDocument, type: string, coding: FeedEncoding): CapHeaders {
  let forDoc = made.get(doc);
  if (!forDoc) {
    forDoc = new Map();
    made.set(doc, forDoc);
  }
  const key = `${type}\u0000${coding}`;
  const known = forDoc.get(key);
  if (known) return known;
  const etag = coding === 'identity' || !doc.variants ? doc.etag : doc.variants[coding].etag;
  const notModified: Record<string, string> = {
    etag,
    'last-modified': doc.lastModifiedHttp ?? new Date(doc.lastModified).toUTCString(),
    'cache-control': 'public, max-age=30',
    // pollers are sent one of several bodies by Accept-Encoding: caches between must key on it
    ...(doc.variants ? { vary: 'accept-encoding' } : {}),
  };
  const full: Record<string, string> = {
    ...notModified,
    'content-type': type,
    ...(coding === 'identity' ? {} : { 'content-encoding': coding }),
  };
  const headers = { full: Object.freeze(full), notModified: Object.freeze(notModified) };
  forDoc.set(key, headers);
  return headers;
}
