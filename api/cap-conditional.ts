import type { IncomingHttpHeaders } from 'node:http';

/**
 * RFC 9110 section 13.2.2: If-None-Match (a list of tags, or "*", compared weakly) decides when present;
 * only without it does If-Modified-Since count. A date that does not parse is ignored, as the RFC says.
 */
export function answersNotModified(headers: IncomingHttpHeaders, doc: { etag: string; lastModified: number }): boolean {
  const inm = headers['if-none-match'];
  if (inm !== undefined) {
    const bare = (tag: string): string => tag.trim().replace(/^W\//, '');
    return inm.split(',').some((tag) => tag.trim() === '*' || bare(tag) === bare(doc.etag));
  }
  const ims = headers['if-modified-since'];
  if (ims === undefined) return false;
  const since = Date.parse(ims);
  return Number.isFinite(since) && doc.lastModified <= since;
}
